package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class TemperatureSoftmaxTest {

    @Test
    void matchesHandComputedValues() {
        // exp(1,2,3) / sum = 0.09003057, 0.24472847, 0.66524096; at T=2: exp(0.5,1,1.5)/sum
        assertArrayEquals(new double[] {0.09003057, 0.24472847, 0.66524096},
                TemperatureSoftmax.soften(new double[] {1, 2, 3}, 1), 1e-8);
        assertArrayEquals(new double[] {0.18632372, 0.30719589, 0.50648039},
                TemperatureSoftmax.soften(new double[] {1, 2, 3}, 2), 1e-8);
    }

    @Test
    void staysFiniteForLogitsInTheThousands() {
        double[] q = TemperatureSoftmax.soften(new double[] {5000, -3000, 4990}, 1);
        for (double v : q) {
            assertTrue(Double.isFinite(v));
        }
        assertEquals(1 / (1 + Math.exp(-10)), q[0], 1e-12);
        var m = TemperatureSoftmax.soften(Nd4j.createFromArray(new float[][] {{5000, -3000, 4990}, {-9000, -9001, 0}}), 0.5);
        for (float v : m.data().asFloat()) {
            assertTrue(Float.isFinite(v), "finite probabilities");
        }
        assertEquals(1.0, m.getRow(0).sumNumber().doubleValue(), 1e-6);
    }

    @Test
    void softenedProbabilitiesSumToOneAndApproachUniformAsTGrows() {
        var z = Nd4j.rand(DataType.DOUBLE, 5, 10).muli(20);
        for (double t : new double[] {0.1, 1, 2.5, 20, 1e6}) {
            var q = TemperatureSoftmax.soften(z, t);
            for (int r = 0; r < 5; r++) {
                assertEquals(1.0, q.getRow(r).sumNumber().doubleValue(), 1e-9);
            }
        }
        assertEquals(0.1, TemperatureSoftmax.soften(z, 1e6).maxNumber().doubleValue(), 1e-4);
    }

    @Test
    void rejectsNonPositiveTemperature() {
        assertThrows(IllegalArgumentException.class, () -> TemperatureSoftmax.soften(new double[] {1}, 0));
        assertThrows(IllegalArgumentException.class, () -> TemperatureSoftmax.soften(new double[] {1}, Double.NaN));
    }
}
