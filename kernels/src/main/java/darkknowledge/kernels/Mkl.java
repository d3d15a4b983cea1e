package darkknowledge.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Intel MKL's matrix products called directly, through the FFM API on the {@code mkl_rt} that ND4J
 * has loaded (JavaCPP, {@code org.bytedeco.openblas.load=mkl_rt}, which {@code ./dk} sets): fp32
 * {@code cblas_sgemm} and bfloat16 {@code cblas_gemm_bf16bf16f32}. Both compute, row-major,
 * {@code C = op(A)·op(B) + β·C} with op(A) m×k, op(B) k×n and C m×n in fp32.
 *
 * <p>Why not ND4J's {@code mmul}: the bench measured its products at 0.68 of the same MKL's
 * {@code cblas_sgemm} on a training step's shapes (166 against 285 GFLOP/s, 784-800-800-10, batch
 * 128, the Xeon bench of 2026-12-01 in results/bench-cpus/), the difference being its op machinery (an op context,
 * shape checks and result arrays per call). In a whole training epoch the direct fp32 calls measured
 * 0.97 of the ND4J path (0.91–1.10, four alternated JVM pairs): within the noise, the products there
 * running on operands that have left the cache. {@link ReluDense}'s fp32 products run here when
 * {@link Gemm} chooses MKL ({@link #library()}); its bf16 products exist only here.
 *
 * <p>The library is the one the process has mapped (read from {@code /proc/self/maps}), so these
 * calls run on exactly the MKL, version and threads ND4J's own products do.
 */
final class Mkl {
    private static boolean probed;
    private static String unavailable;
    private static Cblas library;
    private static SymbolLookup lookup;

    private Mkl() {
    }

    /** Null when MKL's products can be called here, else why not. */
    static synchronized String unavailable() {
        if (!probed) {
            probe();
            probed = true;
        }
        return unavailable;
    }

    /** Whether MKL's products can be called here (cached after the first call). */
    static boolean available() {
        return library != null || unavailable() == null;
    }

    /** The loaded MKL's products; throws when {@link #unavailable()} says why not. */
    static Cblas library() {
        if (!available()) {
            throw new UnsupportedOperationException("Intel MKL called directly: " + unavailable());
        }
        return library;
    }

    /** The loaded library's version string, e.g. "Intel(R) oneAPI Math Kernel Library Version 2025.0.0 ...". */
    static synchronized String version() {
        unavailable();
        return library == null ? "none" : library.version();
    }

    /** The loaded {@code libmkl_rt.so}. */
    static synchronized String path() {
        unavailable();
        return library == null ? null : library.file();
    }

    /** Whether the loaded MKL exports {@code cblas_gemm_bf16bf16f32}. */
    static synchronized boolean hasBf16Gemm() {
        unavailable();
        return library != null && library.hasBf16Gemm();
    }

    /**
     * {@code mkl_set_num_threads_local(n)}: MKL's products called from this thread use {@code n}
     * threads (over {@code MKL_NUM_THREADS}, for this thread only). False when MKL is not loaded here.
     */
    static boolean setThreadsLocal(int n) {
        SymbolLookup mkl;
        synchronized (Mkl.class) {
            if (!available()) {
                return false;
            }
            mkl = lookup;
        }
        var f = mkl.find("MKL_Set_Num_Threads_Local");
        if (f.isEmpty()) {
            return false;
        }
        try {
            int previous = (int) Linker.nativeLinker().downcallHandle(f.get(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)).invokeExact(n);
            return previous >= 0;
        } catch (Throwable t) {
            throw new IllegalStateException("mkl_set_num_threads_local(" + n + ") failed", t);
        }
    }

    private static void probe() {
        if (!"mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load"))) {
            unavailable = "ND4J multiplies through " + NativeLibraries.blas()
                    + ", not Intel MKL (org.bytedeco.openblas.load=mkl_rt, which ./dk sets)";
            return;
        }
        // ND4J's backend loads mkl_rt through JavaCPP by its first product at the latest
        Nd4j.ones(DataType.FLOAT, 2, 2).mmul(Nd4j.ones(DataType.FLOAT, 2, 2));
        String path = loadedMklRt();
        if (path == null) {
            unavailable = "no mkl_rt is loaded in this process although org.bytedeco.openblas.load=mkl_rt";
            return;
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup mkl = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
        lookup = mkl;
        String version = versionString(linker, mkl);
        try {
            library = Cblas.bind(name(version), version, path, threads(linker, mkl), false, mkl);  // last: available() reads it unlocked
        } catch (IllegalStateException e) {
            unavailable = e.getMessage();
        }
    }

    /** "Intel(R) oneAPI Math Kernel Library Version 2025.0.0-Product Build ..." → "MKL 2025.0.0". */
    static String name(String version) {
        Matcher v = Pattern.compile("Version (\\S+?)(-| |$)").matcher(version);
        return "MKL " + (v.find() ? v.group(1) : "(version unknown)");
    }

    private static int threads(Linker linker, SymbolLookup mkl) {
        var symbol = mkl.find("MKL_Get_Max_Threads");
        if (symbol.isEmpty()) {
            return -1;
        }
        try {
            return (int) linker.downcallHandle(symbol.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            return -1;
        }
    }

    /** The file of the {@code mkl_rt} this process has mapped (ND4J's, through JavaCPP), or null. */
    private static String loadedMklRt() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.contains("/libmkl_rt.so")) {
                    return line.substring(slash).strip();
                }
            }
        } catch (java.io.IOException e) {
            return null;
        }
        return null;
    }

    private static String versionString(Linker linker, SymbolLookup mkl) {
        var symbol = mkl.find("MKL_Get_Version_String");
        if (symbol.isEmpty()) {
            return "unknown";
        }
        MethodHandle h = linker.downcallHandle(symbol.get(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            h.invokeExact(buf, 256);
            return buf.getString(0).strip();
        } catch (Throwable t) {
            return "unknown (" + t + ")";
        }
    }

    /** The same with bf16 A and B (two bytes per element, {@link Bf16#round}) and fp32 accumulation. */
    static void gemmBf16(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
            int ldb, float beta, MemorySegment c, int ldc) {
        library().gemmBf16(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }
}
