package darkknowledge.bench;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a bench figure depends on beyond a run's provenance ({@link Provenance#capture}: git commit and
 * dirty flag, JVM, libraries, cores, OMP/MKL thread settings, {@code native.blas}): the CPU model and
 * the instruction sets that decide the GEMM rate (AVX-512, AVX-512 BF16, AMX BF16), the BLAS JavaCPP
 * was asked to load and the one it did load, the MKL artifact, and the bench's master seed. The bench
 * adds the rounds, the version string ND4J's MKL reports of itself ({@code blas.mkl.version}) and, for
 * the raw GEMM probes ({@code gemm.ceiling.*} on the newest MKL, {@code gemm.training.*} on ND4J's),
 * their artifacts, versions, threads and settings ({@link GemmCeiling#provenance}). Written as
 * sorted {@code key=value} lines, like a run's {@code provenance.properties}.
 */
final class BenchProvenance {
    /** ISA flags of /proc/cpuinfo recorded as {@code cpu.flag.<name>=true|false}. */
    static final List<String> FLAGS = List.of("avx512f", "avx512_bf16", "amx_bf16");

    static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private BenchProvenance() {
    }

    /** A run's provenance now, plus the CPU (from /proc/cpuinfo), the requested BLAS and the seed. */
    static Provenance capture(Path repoDir, long seed) {
        Provenance p = Provenance.capture(repoDir).putAll("", cpu(CPUINFO));
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

    /**
     * {@code cpu.model} (the first "model name" line) and {@code cpu.flag.<f>} for each of {@link #FLAGS}
     * (from the first "flags" line); "unknown" for all when the file is missing or has no such lines
     * (another OS), so a bench still runs there and says what it could not tell.
     */
    static SortedMap<String, String> cpu(Path cpuinfo) {
        String model = "unknown";
        Set<String> flags = null;
        if (Files.isReadable(cpuinfo)) {
            try {
                for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
                    int colon = line.indexOf(':');
                    if (colon < 0) {
                        continue;
                    }
                    String key = line.substring(0, colon).strip();
                    String value = line.substring(colon + 1).strip();
                    if (key.equals("model name") && model.equals("unknown")) {
                        model = value;
                    } else if (key.equals("flags") && flags == null) {
                        flags = Set.of(value.split("\\s+"));
                    }
                }
            } catch (IOException e) {
                model = "unreadable: " + e.getMessage();
            }
        }
        SortedMap<String, String> cpu = new TreeMap<>();
        cpu.put("cpu.model", model);
        for (String f : FLAGS) {
            cpu.put("cpu.flag." + f, flags == null ? "unknown" : String.valueOf(flags.contains(f)));
        }
        return cpu;
    }

    /** The MKL / OpenBLAS libraries among those JavaCPP has loaded ("none" before ND4J's first product). */
    private static String loadedBlas() {
        String loaded = org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet().stream()
                .filter(l -> l.contains("mkl") || l.contains("openblas")).sorted().collect(Collectors.joining(","));
        return loaded.isEmpty() ? "none" : loaded;
    }
}
