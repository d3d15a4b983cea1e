package darkknowledge.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A current OpenBLAS as JavaCPP ships it ({@code org.bytedeco:openblas}, the jar
 * {@code openblas.properties} names, which the kernels module's build fetches into the local
 * repository), loaded by path through the FFM API beside the MKL ND4J runs on, for {@link Gemm}.
 * Never on a class path: ND4J's JavaCPP would take its classes for its own, older OpenBLAS preset.
 *
 * <p>Its build is DYNAMIC_ARCH (one kernel set per CPU family, chosen when the library loads) with
 * its own pthreads pool ({@code openblas_get_parallel() = 1}), sized by {@code OPENBLAS_NUM_THREADS}
 * or {@code OMP_NUM_THREADS} as it loads. Where its CPU detection falls short ({@link #coreType}),
 * {@code OPENBLAS_CORETYPE} is set in the C environment ({@code setenv}) before the library loads,
 * even over a value from the environment (machines of ours set {@code OPENBLAS_CORETYPE=Haswell} for
 * NumPy's sake, with which its products ran at 155–165 GFLOP/s in our training process on a Zen 5, against 240–255 as COOPERLAKE); the
 * override is part of {@link Cblas#version()}, so a run's provenance shows it. Its idle threads are
 * made to sleep at once ({@link #THREAD_TIMEOUT}) unless {@code OPENBLAS_THREAD_TIMEOUT} is set.
 */
public final class OpenBlas {
    /**
     * {@code OPENBLAS_THREAD_TIMEOUT}: its idle threads spin 2^4 cycles, then sleep (the default, 2^28
     * cycles, about 0.1 s, kept OpenBLAS's worker spinning through ND4J's loops between our products:
     * a training epoch of the 800-800 net ran 3× slower than with MKL on a 2-core AMD EPYC; with this,
     * and {@link IntelOpenMp#sleepAtOnce} on the other side, faster than with MKL).
     */
    static final int THREAD_TIMEOUT = 4;
    private static Cblas library;
    private static SymbolLookup lookup;
    private static String unavailable;
    private static boolean loaded;

    private OpenBlas() {
    }

    /** Null when OpenBLAS's products can be called here, else why not (it is loaded by the first call). */
    static synchronized String unavailable() {
        if (!loaded) {
            try {
                library = load(NativeLibraries.buildProperties("openblas.properties"), Cpu.info());
            } catch (IllegalStateException e) {
                unavailable = e.getMessage();
            }
            loaded = true;
        }
        return unavailable;
    }

    /** The loaded OpenBLAS's products; throws when {@link #unavailable()} says why not. */
    static Cblas library() {
        String why = unavailable();
        if (why != null) {
            throw new UnsupportedOperationException("OpenBLAS called directly: " + why);
        }
        return library;
    }

    /**
     * The kernel set OpenBLAS should use where its own detection falls short, else null (let it
     * detect). OpenBLAS 0.3.31's DYNAMIC_ARCH build takes AMD Zen 5 (family 26) for a Haswell and runs
     * its AVX2 kernels; told COOPERLAKE (AVX-512 with bf16) on the same CPU and threads, its 800-800
     * training-step products ran at 201 GFLOP/s against Haswell's 54 and MKL's 79 (one quiet round on
     * a 2-core AMD EPYC; the bench's rows measure it each run). Intel CPUs are detected correctly.
     */
    public static String coreType(Map<String, String> cpu) {
        boolean amd = cpu.getOrDefault("cpu.model", "").contains("AMD");
        if (!amd || !"true".equals(cpu.get("cpu.flag.avx512f"))) {
            return null;
        }
        return "true".equals(cpu.get("cpu.flag.avx512_bf16")) ? "COOPERLAKE" : "SKYLAKEX";
    }

    /** A build of OpenBLAS on disk: its Maven coordinates and its extracted {@code libopenblas.so.0}. */
    public record Extracted(String artifact, Path file) {
    }

    /**
     * The OpenBLAS build this project multiplies with, extracted from its jar (for the bench's probe,
     * which loads it in a child JVM); an {@link IllegalStateException} naming what is missing otherwise.
     */
    public static Extracted extracted() {
        return extracted(NativeLibraries.buildProperties("openblas.properties"));
    }

    static Extracted extracted(Properties p) {
        String artifact = p.getProperty("openblas.artifact");
        Path jar = NativeLibraries.jar(p, "openblas.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the OpenBLAS jar (" + artifact + ", classifier linux-x86_64) is missing at "
                    + jar + ": the kernels module's build fetches it into the local repository (mvn -pl kernels package)");
        }
        Path dir = NativeLibraries.extract(jar, name -> name.startsWith("org/bytedeco/openblas/linux-x86_64/lib")
                && name.contains(".so") && !name.contains("/libjni"), NativeLibraries.extractionDir("openblas", jar));
        return new Extracted(artifact, dir.resolve("libopenblas.so.0"));
    }

    /** Loads the OpenBLAS of the jar {@code p} names; an {@link IllegalStateException} naming what is missing otherwise. */
    static Cblas load(Properties p, Map<String, String> cpu) {
        Extracted x = extracted(p);
        String artifact = x.artifact();
        Path file = x.file();
        List<String> settings = new ArrayList<>();
        String core = coreType(cpu);
        String given = System.getenv("OPENBLAS_CORETYPE");
        if (core != null && !core.equalsIgnoreCase(given)) {
            setenv("OPENBLAS_CORETYPE", core);
            settings.add("OPENBLAS_CORETYPE=" + core + (given != null ? " (overriding " + given + " from the environment)" : ""));
        }
        if (System.getenv("OPENBLAS_THREAD_TIMEOUT") == null) {
            setenv("OPENBLAS_THREAD_TIMEOUT", String.valueOf(THREAD_TIMEOUT));
            settings.add("OPENBLAS_THREAD_TIMEOUT=" + THREAD_TIMEOUT);
        }
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(file, Arena.global());
            lookup = lib;
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("cannot load " + file + " (" + artifact + "): " + e.getMessage(), e);
        }
        Linker linker = Linker.nativeLinker();
        String config = "unknown";
        int threads = -1;
        int parallel = -1;
        try {
            var c = lib.find("openblas_get_config");
            if (c.isPresent()) {
                MemorySegment s = (MemorySegment) linker.downcallHandle(c.get(), FunctionDescriptor.of(ValueLayout.ADDRESS))
                        .invokeExact();
                config = s.reinterpret(1024).getString(0).strip();
            }
            threads = loadedThreads();
            var m = lib.find("openblas_get_parallel");
            if (m.isPresent()) {
                parallel = (int) linker.downcallHandle(m.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
            }
        } catch (Throwable t) {
            config = "unknown (" + t + ")";
        }
        String version = artifact.substring(artifact.lastIndexOf(':') + 1);
        int dash = version.indexOf('-');
        String name = "OpenBLAS " + (dash < 0 ? version : version.substring(0, dash));
        settings.add(0, config);
        // openblas_get_parallel: 0 sequential, 1 its own pthreads, 2 OpenMP
        return Cblas.bind(name, String.join(", ", settings), file.toString(), threads, parallel == 1, lib);
    }

    /** The loaded OpenBLAS's thread count now ({@code openblas_get_num_threads}); -1 when it is not loaded. */
    static synchronized int loadedThreads() {
        if (lookup == null) {
            return -1;
        }
        var f = lookup.find("openblas_get_num_threads");
        if (f.isEmpty()) {
            return -1;
        }
        try {
            return (int) Linker.nativeLinker().downcallHandle(f.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_get_num_threads() failed", t);
        }
    }

    /**
     * {@code openblas_set_num_threads(n)}: the size of OpenBLAS's one thread pool, for the whole
     * process (its threads are not per caller). False when it is not loaded.
     */
    static synchronized boolean setThreads(int n) {
        if (lookup == null) {
            return false;
        }
        var f = lookup.find("openblas_set_num_threads");
        if (f.isEmpty()) {
            return false;
        }
        try {
            Linker.nativeLinker().downcallHandle(f.get(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(n);
            return true;
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads(" + n + ") failed", t);
        }
    }

    /** C's {@code setenv(name, value, 1)}: seen by native code's {@code getenv}, not by {@link System#getenv}. */
    private static void setenv(String name, String value) {
        Linker linker = Linker.nativeLinker();
        var h = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
            if (rc != 0) {
                throw new IllegalStateException("setenv(" + name + ", " + value + ") failed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(" + name + ") failed", t);
        }
    }
}
