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
    void disagreementsCompareTopClassesAtTemperatureOneNotAtT() {
        // Two members averaged in probability (three classes; with two the mean's top class cannot
        // change with T): logits (0, 2, 4) and (4, 4, 0). At T = 1 the mean ranks class 2 first
        // (0.438 against 0.306); at T = 20 all soften and class 1 comes first (0.343 against 0.329).
        Teacher a = Teacher.single("a", 3, x -> Nd4j.createFromArray(new float[][] {{0, 2, 4}, {0, 2, 4}}));
        Teacher b = Teacher.single("b", 3, x -> Nd4j.createFromArray(new float[][] {{4, 4, 0}, {4, 4, 0}}));
        Teacher mean = Teacher.probabilityMean("ab", java.util.List.of(a, b));
        assertEquals(1, mean.softTargets(X, 20).argMax(1).getInt(0), "the premise: class 1 first at T = 20");
        assertEquals(2, mean.softTargets(X, 1).argMax(1).getInt(0), "the premise: class 2 first at T = 1");
        Fidelity f = Fidelity.measure(mean, x -> Nd4j.createFromArray(new float[][] {{0, 0, 5}, {0, 0, 5}}), X, 20);
        assertEquals(0, f.disagreements());
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
