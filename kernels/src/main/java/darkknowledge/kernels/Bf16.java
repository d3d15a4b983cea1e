package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bfloat16 matrix products with fp32 accumulation: Intel MKL's {@code cblas_gemm_bf16bf16f32}, called
 * through the FFM API on the {@code mkl_rt} ND4J has loaded ({@link Mkl}; mixed precision).
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
    /** The first MKL release this path was verified to run on the CPU's bf16 units with. */
    static final int MIN_MKL_YEAR = 2025;

    private static String unsupported;
    private static boolean probed;

    private Bf16() {
    }

    /** Null when bf16 products run here, else why not (CPU, BLAS or MKL version). */
    public static synchronized String unsupported() {
        if (!probed) {
            unsupported = probe();
            probed = true;
        }
        return unsupported;
    }

    /** The MKL version string bf16 products run on ("none" when they do not). */
    public static synchronized String mklVersion() {
        return unsupported() == null ? Mkl.version() : "none";
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

    private static String probe() {
        String cpu = Cpu.bf16Unsupported(Cpu.info());
        if (cpu != null) {
            return cpu;
        }
        String mkl = Mkl.unavailable();
        if (mkl != null) {
            return mkl;
        }
        Matcher year = Pattern.compile("Version (\\d{4})").matcher(Mkl.version());
        if (!year.find() || Integer.parseInt(year.group(1)) < MIN_MKL_YEAR) {
            return "the loaded MKL (" + Mkl.version() + ", " + Mkl.path() + ") is older than " + MIN_MKL_YEAR
                    + ", whose bf16 products run on AMX (2022.0's are slower than its own fp32)";
        }
        return Mkl.hasBf16Gemm() ? null : Mkl.path() + " has no cblas_gemm_bf16bf16f32";
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
