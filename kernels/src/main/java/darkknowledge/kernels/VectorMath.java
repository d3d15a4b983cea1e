package darkknowledge.kernels;

/**
 * Per-element math over Java arrays on the Vector API's lanes ({@link Simd}), for the loops the JIT
 * leaves scalar: a softmax's exponentials.
 *
 * <p>Why: a §6.1 specialist's loss ({@code DistillationLoss}) takes two softmaxes over 3,755 logits per
 * example and step; a JFR profile of the glyph specialists stage (Zen 5, 2026-12-07, 120 s of run
 * {@code 20261207-210850-303bdd5d}) put 14% of the engine threads' samples on its scalar
 * {@code Math.exp}.
 *
 * <p>The exponential is our own ({@link #exp}): Cody and Waite's reduction {@code x = k·ln 2 + r},
 * {@code |r| ≤ ln 2 / 2}, then {@code e^r} by its Taylor polynomial of degree 13 in Horner form with
 * fused multiply-adds (truncation under 10⁻¹⁷ relative), times {@code 2^k} built from the exponent
 * bits. Every step is a correctly rounded IEEE operation, so the vector lanes and the scalar function
 * give the same bits, interpreted or compiled, on every x86 CPU. The JDK's vector {@code EXP} (its
 * first version here) did not: compiled it is Intel's short-vector math library, interpreted it is
 * {@code Math.exp} per lane, 178 of 3,755 results differed in the last bit between a cold and a warm
 * call (Xeon, 2026-12-08), and the bench's engine rows found a thread pool and Spark's local
 * executors training different specialists from the same inputs. Within a few ulps of
 * {@code Math.exp} ({@code VectorMathTest}).
 */
public final class VectorMath {
    /** {@code 1/i!} for i = 0..13: e^r's Taylor coefficients. */
    static final double[] EXP_TAYLOR = taylor(13);
    static final double LOG2_E = 1.4426950408889634;
    /** ln 2 split so that {@code k·LN2_HI} is exact for the k met here (fdlibm's constants). */
    static final double LN2_HI = 6.93147180369123816490e-01;
    static final double LN2_LO = 1.90821492927058770002e-10;
    /** 1.5·2^52: adding it rounds a double of magnitude under 2^51 to an integer, in its low mantissa bits. */
    static final double ROUNDER = 6755399441055744.0;
    static final long ROUNDER_BITS = Double.doubleToRawLongBits(ROUNDER);
    /**
     * Arguments are clamped to [EXP_LOWEST, EXP_HIGHEST], where e^x underflows to 0 and overflows to
     * infinity as Math.exp's does (the clamp keeps k inside the rounding trick's range, and each of the
     * two factors of 2^k a normal double).
     */
    static final double EXP_LOWEST = -1000;
    static final double EXP_HIGHEST = 1000;

    private VectorMath() {
    }

    private static double[] taylor(int degree) {
        double[] c = new double[degree + 1];
        double f = 1;
        for (int i = 0; i <= degree; i++) {
            f = i == 0 ? 1 : f * i;
            c[i] = 1 / f;
        }
        return c;
    }

    /**
     * {@code e^x}, within a few ulps of {@code Math.exp}, bit for bit what {@link #expShifted}'s
     * vector lanes compute: {@code k = rint(x·log2 e)}, {@code r = (x − k·LN2_HI) − k·LN2_LO} (two
     * fused multiply-adds), {@code e^r = Σ_{i ≤ 13} r^i / i! = E(r²) + r·O(r²)} (the even and odd
     * coefficients each in Horner form, fused: two chains of six, which a CPU runs side by side),
     * times {@code 2^⌊k/2⌋ · 2^(k − ⌊k/2⌋)} (two factors, so that results below the normal range round
     * once, as subnormals).
     */
    public static double exp(double x) {
        x = Math.min(Math.max(x, EXP_LOWEST), EXP_HIGHEST);
        double kd = Math.fma(x, LOG2_E, ROUNDER);
        double minusK = -(kd - ROUNDER);
        double r = Math.fma(minusK, LN2_HI, x);
        r = Math.fma(minusK, LN2_LO, r);
        double r2 = r * r;
        double[] c = EXP_TAYLOR;  // c[0..13]: even coefficients c12..c0, odd c13..c1, as Simd's lanes take them
        double even = c[12];
        for (int i = 10; i >= 0; i -= 2) {
            even = Math.fma(even, r2, c[i]);
        }
        double odd = c[13];
        for (int i = 11; i >= 1; i -= 2) {
            odd = Math.fma(odd, r2, c[i]);
        }
        double poly = Math.fma(odd, r, even);
        long k = Double.doubleToRawLongBits(kd) - ROUNDER_BITS;
        long k1 = k >> 1;
        long k2 = k - k1;
        return poly * Double.longBitsToDouble((k1 + 1023) << 52) * Double.longBitsToDouble((k2 + 1023) << 52);
    }

    /**
     * {@code q[j] = exp((z[j] − max) / t)} for {@code j < n} ({@link #exp}); returns {@code Σ_j q[j]},
     * added in index order. With {@code max} the largest of {@code z[0..n)}, every term is in (0, 1]:
     * a softmax's numerators at temperature t. The same bits with or without the Vector API.
     */
    public static double expShifted(double[] z, double max, double t, double[] q, int n) {
        return expShifted(z, max, t, q, n, Simd.AVAILABLE);
    }

    /** {@link #expShifted}, on vectors or not (tests compare the two). */
    static double expShifted(double[] z, double max, double t, double[] q, int n, boolean vectors) {
        if (n > z.length || n > q.length) {
            throw new IllegalArgumentException("n = " + n + " for arrays of " + z.length + " and " + q.length);
        }
        int from = vectors ? Simd.Kernels.expShifted(z, max, t, q, n) : 0;
        for (int j = from; j < n; j++) {
            q[j] = exp((z[j] - max) / t);
        }
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += q[j];
        }
        return sum;
    }
}
