package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BiasShiftTest {

    @Test
    void choosesTheSmallestShiftThatFixesAnUnderratedClass() {
        // class 2 is right for rows 0-1 but its logit is 3 too low; row 2 is class 0 by a margin of 5
        INDArray z = Nd4j.createFromArray(new float[][] {{1, 0, -1}, {0.5f, 0, -1.5f}, {5, 0, 0}});
        int[] labels = {2, 2, 0};
        assertEquals(2, BiasShift.errors(z, labels, List.of(2), 0));
        BiasShift.Choice c = BiasShift.choose(z, labels, List.of(2), BiasShift.grid(-5, 5, 0.5));
        assertEquals(0, c.errors());
        assertEquals(2.5, c.shift(), 1e-9);
        assertEquals(0, BiasShift.errorsOnClass(z, labels, List.of(2), c.shift(), 2));
        assertEquals(1, BiasShift.errors(z, labels, List.of(2), 5.5));
    }

    @Test
    void gridCoversBothEnds() {
        double[] g = BiasShift.grid(-1, 1, 0.1);
        assertEquals(21, g.length);
        assertEquals(1.0, g[20], 1e-9);
    }
}
