package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TeacherTest {
    private static final INDArray X = Nd4j.createFromArray(new float[][] {{1, 0}, {0, 1}, {2, -1}});

    /** A linear "model" with fixed weights: logits = x W. */
    private static Teacher.Logits linear(float[][] w) {
        INDArray m = Nd4j.createFromArray(w);
        return x -> x.mmul(m);
    }

    private static final Teacher.Logits A = linear(new float[][] {{1, 2, 3}, {0, -1, 4}});
    private static final Teacher.Logits B = linear(new float[][] {{-2, 0, 1}, {3, 3, 0}});

    @Test
    void singleTeacherSoftensItsLogits() {
        Teacher t = Teacher.single("a", 3, A);
        assertTrue(t.softTargets(X, 4).equalsWithEps(TemperatureSoftmax.soften(A.logits(X), 4), 1e-6));
    }

    @Test
    void probabilityMeanIsTheArithmeticMeanOfSoftenedMembers() {
        Teacher e = Teacher.probabilityMean("e", List.of(Teacher.single("a", 3, A), Teacher.single("b", 3, B)));
        INDArray expected = TemperatureSoftmax.soften(A.logits(X), 2).add(TemperatureSoftmax.soften(B.logits(X), 2)).divi(2);
        assertTrue(e.softTargets(X, 2).equalsWithEps(expected, 1e-6));
        for (int r = 0; r < 3; r++) {
            assertEquals(1.0, e.softTargets(X, 2).getRow(r).sumNumber().doubleValue(), 1e-5);
        }
    }

    @Test
    void logitMeanSoftensTheMeanLogits() {
        Teacher e = Teacher.logitMean("g", 3, List.of(A, B));
        INDArray expected = TemperatureSoftmax.soften(A.logits(X).add(B.logits(X)).divi(2), 3);
        assertTrue(e.softTargets(X, 3).equalsWithEps(expected, 1e-6));
    }

    @Test
    void ensembleMembersMustAgreeOnClasses() {
        assertThrows(IllegalArgumentException.class, () -> Teacher.probabilityMean("e",
                List.of(Teacher.single("a", 3, A), Teacher.single("z", 4, x -> Nd4j.zeros(DataType.FLOAT, x.rows(), 4)))));
    }
}
