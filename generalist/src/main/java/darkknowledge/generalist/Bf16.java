package darkknowledge.generalist;

import darkknowledge.core.Cpu;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * bfloat16 matrix products with fp32 accumulation: Intel MKL's {@code cblas_gemm_bf16bf16f32}, called
 * through the FFM API on the {@code mkl_rt} ND4J has loaded (issue 17 §3, mixed precision).
 *
 * <p>bfloat16 is the upper half of an IEEE fp32 number: the same 8-bit exponent, 7 stored mantissa
 * bits (relative precision 2⁻⁸). {@link #round} converts fp32 to it by rounding to nearest, ties to
 * even: {@code bits + 0x7FFF + ((bits >> 16) & 1)}, then the upper 16 bits. MKL
 * multiplies the bf16 operands on the CPU's bf16 units (AMX tiles or AVX-512 BF16 dot products) and
 * accumulates in fp32: {@code C = α·op(A)·op(B) + β·C}, C in fp32. This is what CPU autocast does
 * elsewhere: master weights, their updates and everything outside the products stay fp32.
 *
 * <p>Measured on this project's machines (STACK.md, bench): MKL 2025.0's bf16 path is 2–2.6× its
 * fp32 rate at our training shapes on a Xeon with AMX; MKL 2022.0 has no AMX path (slower than its
 * own fp32), so an older MKL is refused, as is a CPU without {@code avx512_bf16}/{@code amx_bf16}
 * ({@link Cpu#bf16Unsupported}) and a BLAS other than MKL.
 */
public final class Bf16 {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    /** The first MKL release this path was verified to run on the CPU's bf16 units with. */
    static final int MIN_MKL_YEAR = 2025;

    private static MethodHandle gemm;
    private static String unsupported;
    private static String version;
    private static boolean probed;

    private Bf16() {
    }

    /** Null when bf16 products run here, else why not (CPU, BLAS or MKL version). */
    public static synchronized String unsupported() {
        if (!probed) {
            probe();
            probed = true;
        }
        return unsupported;
    }

    /** The MKL version string bf16 products run on ("none" when they do not). */
    public static synchronized String mklVersion() {
        unsupported();
        return version == null ? "none" : version;
    }

    /**
     * Throws a clear error when bf16 products do not run here.
     *
     * @param what the setting that asked for them, e.g. {@code "teacher.precision=bf16"}
     */
    public static void require(String what) {
        String why = unsupported();
        if (why != null) {
            throw new UnsupportedOperationException(what + " needs bfloat16 matrix products, which this machine cannot run: "
                    + why + ". Use precision fp32 here.");
        }
    }

    private static void probe() {
        String cpu = Cpu.bf16Unsupported(Cpu.info());
        if (cpu != null) {
            unsupported = cpu;
            return;
        }
        if (!"mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load"))) {
            unsupported = "ND4J multiplies through " + darkknowledge.core.Provenance.blas()
                    + ", not Intel MKL (org.bytedeco.openblas.load=mkl_rt, which ./dk sets)";
            return;
        }
        // ND4J's backend loads mkl_rt through JavaCPP by its first product at the latest
        Nd4j.ones(DataType.FLOAT, 2, 2).mmul(Nd4j.ones(DataType.FLOAT, 2, 2));
        String path = loadedMklRt();
        if (path == null) {
            unsupported = "no mkl_rt is loaded in this process although org.bytedeco.openblas.load=mkl_rt";
            return;
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup mkl = SymbolLookup.libraryLookup(Path.of(path), Arena.global());
        version = versionString(linker, mkl);
        Matcher year = Pattern.compile("Version (\\d{4})").matcher(version);
        if (!year.find() || Integer.parseInt(year.group(1)) < MIN_MKL_YEAR) {
            unsupported = "the loaded MKL (" + version + ", " + path + ") is older than " + MIN_MKL_YEAR
                    + ", whose bf16 products run on AMX (2022.0's are slower than its own fp32)";
            return;
        }
        var symbol = mkl.find("cblas_gemm_bf16bf16f32");
        if (symbol.isEmpty()) {
            unsupported = path + " has no cblas_gemm_bf16bf16f32";
            return;
        }
        ValueLayout i = ValueLayout.JAVA_INT;
        ValueLayout f = ValueLayout.JAVA_FLOAT;
        ValueLayout a = ValueLayout.ADDRESS;
        gemm = linker.downcallHandle(symbol.get(),
                FunctionDescriptor.ofVoid(i, i, i, i, i, i, f, a, i, a, i, f, a, i));
    }

    /** The file of the {@code mkl_rt} this process has mapped (ND4J's, through JavaCPP), or null. */
    private static String loadedMklRt() {
        try {
            for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/maps"))) {
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

    /**
     * {@code C = op(A)·op(B) + β·C}, row-major: op(A) is m×k, op(B) k×n, C m×n in fp32; A and B are
     * bf16 ({@link #round}), each with its leading dimension (elements between rows as stored).
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
            int ldb, float beta, MemorySegment c, int ldc) {
        if (gemm == null) {
            require("a bf16 matrix product");  // once: the probe sets the handle (the lock publishes it)
        }
        try {
            gemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1.0f, a, lda, b, ldb,
                    beta, c, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_gemm_bf16bf16f32 failed", t);
        }
    }

    /**
     * The first {@code n} fp32 values of {@code src} rounded to bfloat16 (nearest, ties to even) into
     * {@code dst}, two bytes each; infinities, ±0 and the canonical NaN are exact. Branch-free, so a
     * NaN whose low 16 bits are all ones would carry into the exponent; training never produces one
     * unnoticed (a NaN in a product makes the loss NaN, which {@link Trainer} stops on). Without the
     * NaN test the loop runs twice as fast (0.32 against 0.63 ns per value, measured here): W is
     * rounded at every step.
     */
    static void round(MemorySegment src, MemorySegment dst, long n) {
        roundScalar(src, dst, Simd.AVAILABLE ? Simd.Kernels.round(src, dst, n) : 0, n);
    }

    /** Values [from, n) of {@link #round}, one at a time (its loop where the JVM lacks the Vector API). */
    static void roundScalar(MemorySegment src, MemorySegment dst, long from, long n) {
        for (long i = from; i < n; i++) {
            int bits = src.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            dst.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
        }
    }

    /** A bf16 value (as {@link #round} stores it) back in fp32: exact. */
    static float toFloat(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }
}
