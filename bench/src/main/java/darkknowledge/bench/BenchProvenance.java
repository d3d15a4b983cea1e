package darkknowledge.bench;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import darkknowledge.kernels.NativeLibraries;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Collectors;

/**
 * What a bench figure depends on beyond a run's provenance ({@link Provenance#capture}: git commit and
 * dirty flag, JVM, libraries, cores, OMP/MKL thread settings, {@code native.blas}, the CPU model and
 * the instruction sets that decide the GEMM rate, {@link darkknowledge.kernels.Cpu}): the BLAS JavaCPP
 * was asked to load and the one it did load, the MKL artifact, and the bench's master seed. The bench
 * adds the rounds, the version string ND4J's MKL reports of itself ({@code blas.mkl.version}) and, for
 * the raw GEMM probes ({@code gemm.ceiling.*} on the newest MKL, {@code gemm.training.*} on ND4J's),
 * their artifacts, versions, threads and settings ({@link GemmCeiling#provenance}). Written as
 * sorted {@code key=value} lines, like a run's {@code provenance.properties}.
 */
final class BenchProvenance {
    private BenchProvenance() {
    }

    /** A run's provenance now, plus the CPU (from /proc/cpuinfo), the requested BLAS and the seed. */
    static Provenance capture(Path repoDir, long seed) {
        Provenance p = Provenance.capture(repoDir).putAll("", NativeLibraries.describe());
        p.put("blas.requested", String.valueOf(System.getProperty("org.bytedeco.openblas.load", "unset")));
        p.put("bench.seed", String.valueOf(seed));
        return p;
    }

    /** At the end of a bench: the time, and the BLAS libraries JavaCPP actually loaded by then. */
    static void finish(Provenance p) {
        p.put("time.end", Instant.now().toString());
        p.put("blas.loaded", loadedBlas());
    }

    static void write(Provenance p, Path file) {
        AtomicFiles.writeString(file, Configs.toText(p.entries()));
    }

    /** The MKL / OpenBLAS libraries among those JavaCPP has loaded ("none" before ND4J's first product). */
    private static String loadedBlas() {
        String loaded = org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet().stream()
                .filter(l -> l.contains("mkl") || l.contains("openblas")).sorted().collect(Collectors.joining(","));
        return loaded.isEmpty() ? "none" : loaded;
    }
}
