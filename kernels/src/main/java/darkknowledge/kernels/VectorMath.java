package darkknowledge.kernels;

/**
 * Per-element math over Java arrays on the Vector API's lanes ({@link Simd}), for the loops the JIT
 * leaves scalar: a softmax's exponentials.
 *
 * <p>Why: a §6.1 specialist's loss ({@code DistillationLoss}) takes two softmaxes over 3,755 logits per
 * example and step; a JFR profile of the glyph specialists stage (Zen 5, 2026-12-07, 120 s of run
 * {@code 20261207-210850-303bdd5d}) put 14% of the engine threads' samples on its scalar
 * {@code Math.exp}. The JDK's vector exp (Intel's short-vector math library on x86) agrees with
 * {@code Math.exp} to an ulp or two, not bit for bit; the lanes' sum adds in another order than the
 * scalar loop. Without the Vector API the scalar loop runs, with {@code Math.exp}.
 */
public final class VectorMath {
    private VectorMath() {
    }

    /**
     * {@code q[j] = exp((z[j] − max) / t)} for {@code j < n}; returns {@code Σ_j q[j]}. With {@code max}
     * the largest of {@code z[0..n)}, every term is in (0, 1]: a softmax's numerators at temperature t.
     */
    public static double expShifted(double[] z, double max, double t, double[] q, int n) {
        return expShifted(z, max, t, q, n, Simd.AVAILABLE);
    }

    /** {@link #expShifted}, on vectors or not (tests compare the two). */
    static double expShifted(double[] z, double max, double t, double[] q, int n, boolean vectors) {
        if (n > z.length || n > q.length) {
            throw new IllegalArgumentException("n = " + n + " for arrays of " + z.length + " and " + q.length);
        }
        double sum = vectors ? Simd.Kernels.expShifted(z, max, t, q, n) : 0;
        for (int j = vectors ? Simd.Kernels.doubleLoopBound(n) : 0; j < n; j++) {
            q[j] = Math.exp((z[j] - max) / t);
            sum += q[j];
        }
        return sum;
    }
}
