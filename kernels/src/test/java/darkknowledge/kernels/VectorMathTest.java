package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link VectorMath#expShifted}: the vector lanes give the scalar function's bits, cold or warm, and
 * agree with {@code Math.exp} to a few ulps, the tail included.
 */
class VectorMathTest {
    private static double[] logits(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] z = new double[n + 3];
        for (int j = 0; j < n; j++) {
            z[j] = 40 * r.nextDouble() - 30;  // logits spread over 40 nats, as a trained net's are
        }
        return z;
    }

    private static double max(double[] z, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            max = Math.max(max, z[j]);
        }
        return max;
    }

    @Test
    void vectorLanesGiveTheScalarBitsAndAgreeWithMathExp() {
        assertTrue(Simd.AVAILABLE, "the tests run with --add-modules=jdk.incubator.vector");
        for (int n : new int[] {0, 1, 7, 16, 3755}) {
            double[] z = logits(n, 5);
            double max = max(z, n);
            for (double t : new double[] {1, 2, 20}) {
                double[] vq = new double[n + 3];
                double[] sq = new double[n + 3];
                double vs = VectorMath.expShifted(z, max, t, vq, n, true);
                double ss = VectorMath.expShifted(z, max, t, sq, n, false);
                assertArrayEquals(sq, vq, "n " + n + ", T " + t + ": the lanes are the scalar function, bit for bit");
                assertEquals(Double.doubleToRawLongBits(ss), Double.doubleToRawLongBits(vs), "the sum, in index order");
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    double exact = Math.exp((z[j] - max) / t);
                    assertEquals(exact, vq[j], 2 * Math.ulp(exact), "n " + n + ", T " + t + ", element " + j);
                    assertTrue(vq[j] > 0 && vq[j] <= 1, "exp of a non-positive shifted logit: " + vq[j]);
                    sum += vq[j];
                }
                assertEquals(sum, vs, 0, "Σ q in index order");
                assertEquals(0, vq[n], "nothing past n is written");
            }
        }
    }

    /**
     * The edges on the vector lanes, against the scalar function bit for bit: arguments down to -1,200
     * (subnormal results and underflow), -∞ and NaN logits, a shifted logit of -0.0.
     */
    @Test
    void theLanesMatchTheScalarFunctionAtTheEdges() {
        int n = 4099;
        double[] z = new double[n];
        for (int j = 0; j < n; j++) {
            z[j] = -12.0 * j / (n - 1);  // at t = 0.01, (z - 0) / t spans [-1200, 0]
        }
        z[5] = Double.NEGATIVE_INFINITY;
        z[9] = Double.NaN;
        z[13] = -0.0;
        double[] vq = new double[n];
        double[] sq = new double[n];
        VectorMath.expShifted(z, 0, 0.01, vq, n, true);
        VectorMath.expShifted(z, 0, 0.01, sq, n, false);
        assertArrayEquals(sq, vq);
        assertEquals(0.0, vq[5], 0);
        assertTrue(Double.isNaN(vq[9]));
        assertEquals(1.0, vq[13], 0);
        int subnormal = (n - 1) * 3 / 5;  // x = -720
        assertTrue(vq[n - 1] == 0 && vq[subnormal] > 0 && vq[subnormal] < Double.MIN_NORMAL, "underflow and subnormals reached");
    }

    /**
     * The JDK's vector EXP gave other bits once compiled than interpreted (178 of 3,755 on a Xeon):
     * the first call in this test (cold unless another test ran the loop before it) and one after
     * thousands must agree bit for bit.
     */
    @Test
    void aColdCallAndAWarmOneGiveTheSameBits() {
        int n = 3755;
        double[] z = logits(n, 11);
        double max = max(z, n);
        double[] cold = new double[n];
        double coldSum = VectorMath.expShifted(z, max, 2, cold, n);
        double[] warm = new double[n];
        double warmSum = 0;
        for (int i = 0; i < 20_000; i++) {
            warmSum = VectorMath.expShifted(z, max, 2, warm, n);
        }
        assertArrayEquals(cold, warm);
        assertEquals(coldSum, warmSum, 0);
    }

    @Test
    void theScalarExponentialOverItsWholeRange() {
        assertEquals(1.0, VectorMath.exp(0), 0);
        assertEquals(1.0, VectorMath.exp(-0.0), 0);
        assertEquals(0.0, VectorMath.exp(-1000), 0, "underflows as Math.exp does");
        assertEquals(0.0, VectorMath.exp(Double.NEGATIVE_INFINITY), 0);
        assertEquals(Math.exp(709.5), VectorMath.exp(709.5), 2 * Math.ulp(Math.exp(709.5)), "the top of the finite range");
        assertEquals(Double.POSITIVE_INFINITY, VectorMath.exp(710), 0, "overflows as Math.exp does");
        assertEquals(Double.POSITIVE_INFINITY, VectorMath.exp(Double.POSITIVE_INFINITY), 0);
        assertTrue(Double.isNaN(VectorMath.exp(Double.NaN)));
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            double x = -745 + 1454.7 * r.nextDouble();  // [-745, 709.7]: subnormal results to the largest finite
            double exact = Math.exp(x);
            double tolerance = exact < Double.MIN_NORMAL ? Double.MIN_VALUE : 2 * Math.ulp(exact);
            assertEquals(exact, VectorMath.exp(x), tolerance, "x = " + x);
        }
    }

    @Test
    void refusesACountLongerThanItsArrays() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorMath.expShifted(new double[4], 0, 1, new double[3], 4));
        assertTrue(e.getMessage().contains("n = 4"), e.getMessage());
    }
}
