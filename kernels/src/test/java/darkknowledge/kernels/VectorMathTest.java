package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link VectorMath#expShifted}: the vector lanes agree with {@code Math.exp} to a few ulps, the tail included. */
class VectorMathTest {
    @Test
    void vectorExponentialsAgreeWithMathExp() {
        assertTrue(Simd.AVAILABLE, "the tests run with --add-modules=jdk.incubator.vector");
        SplittableRandom r = new SplittableRandom(5);
        for (int n : new int[] {0, 1, 7, 16, 3755}) {
            double[] z = new double[n + 3];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                z[j] = 40 * r.nextDouble() - 30;  // logits spread over 40 nats, as a trained net's are
                max = Math.max(max, z[j]);
            }
            for (double t : new double[] {1, 2, 20}) {
                double[] vq = new double[n + 3];
                double[] sq = new double[n + 3];
                double vs = VectorMath.expShifted(z, max, t, vq, n, true);
                double ss = VectorMath.expShifted(z, max, t, sq, n, false);
                for (int j = 0; j < n; j++) {
                    assertEquals(sq[j], vq[j], 4 * Math.ulp(sq[j]), "n " + n + ", T " + t + ", element " + j);
                    assertTrue(vq[j] > 0 && vq[j] <= 1, "exp of a non-positive shifted logit: " + vq[j]);
                }
                assertEquals(ss, vs, 1e-13 * ss + 1e-300, "n " + n + ", T " + t + ": the sum");
                assertEquals(0, vq[n], "nothing past n is written");
            }
        }
    }

    @Test
    void refusesACountLongerThanItsArrays() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VectorMath.expShifted(new double[4], 0, 1, new double[3], 4));
        assertTrue(e.getMessage().contains("n = 4"), e.getMessage());
    }
}
