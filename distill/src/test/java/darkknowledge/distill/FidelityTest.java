package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FidelityTest {
    private static final INDArray X = Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}});

    @Test
    void aStudentWithTheTeachersLogitsHasNoDivergenceAndNoDisagreement() {
        Teacher.Logits net = x -> x.mmul(Nd4j.createFromArray(new float[][] {{3, 1, 0}, {0, 2, 5}}));
        Fidelity f = Fidelity.measure(Teacher.single("t", 3, net), net, X, 20);
        assertEquals(0, f.scaledKl(), 1e-9);
        assertEquals(0, f.disagreements());
        assertEquals(2, f.examples());
    }

    @Test
    void matchesAHandComputedDivergenceAndCountsDisagreements() {
        // At T = 1. Row 1: teacher logits (ln 3, 0) -> p = (3/4, 1/4), student (ln 2, 0) -> q = (2/3, 1/3):
        // both rank class 0 first. Row 2: teacher (0, ln 3) -> p = (1/4, 3/4), student (ln 3, 0) ->
        // q = (3/4, 1/4): they disagree.
        double ln3 = Math.log(3);
        INDArray tz = Nd4j.createFromArray(new double[][] {{ln3, 0}, {0, ln3}}).castTo(DataType.FLOAT);
        INDArray sz = Nd4j.createFromArray(new double[][] {{Math.log(2), 0}, {ln3, 0}}).castTo(DataType.FLOAT);
        Teacher t = Teacher.single("t", 2, x -> x.mmul(tz));
        Fidelity f = Fidelity.measure(t, x -> x.mmul(sz), X, 1);
        double row1 = 0.75 * Math.log(0.75 / (2.0 / 3)) + 0.25 * Math.log(0.25 / (1.0 / 3));
        double row2 = 0.25 * Math.log(0.25 / 0.75) + 0.75 * Math.log(0.75 / 0.25);
        assertEquals((row1 + row2) / 2, f.scaledKl(), 1e-6);
        assertEquals(1, f.disagreements());
        // Scaled by T²: logits 2v at T = 2 give the same p and q as v at T = 1, so 4 times the divergence.
        Fidelity g = Fidelity.measure(Teacher.single("t", 2, x -> x.mmul(tz).muli(2)), x -> x.mmul(sz).muli(2), X, 2);
        assertEquals(4 * (row1 + row2) / 2, g.scaledKl(), 1e-5);
    }
}
