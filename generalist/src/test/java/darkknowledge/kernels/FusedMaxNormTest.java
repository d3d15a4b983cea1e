package darkknowledge.kernels;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link FusedMaxNorm} is DL4J's max-norm constraint to float rounding, and survives a saved net's JSON. */
class FusedMaxNormTest {

    /** A 'f'-ordered W whose columns have norms from well under to well over {@code c}. */
    private static INDArray weights(int rows, int cols, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.randn(DataType.FLOAT, 'f', rows, cols);
        for (int j = 0; j < cols; j++) {
            w.getColumn(j).muli(0.02 * (j + 1));  // norms ≈ 0.02·(j+1)·√rows
        }
        return w;
    }

    private static double worstRelative(INDArray expected, INDArray actual) {
        INDArray diff = expected.sub(actual);
        double worst = Math.max(diff.maxNumber().doubleValue(), -diff.minNumber().doubleValue());
        return worst / Math.max(1e-30, expected.amaxNumber().doubleValue());
    }

    @Test
    void columnsAreScaledAsDl4jScalesThem() {
        for (int rows : new int[] {7, 784, 1200}) {
            INDArray w = weights(rows, 40, rows);
            INDArray theirs = w.dup('f');
            new MaxNormConstraint(2.0, 0).apply(theirs);
            new FusedMaxNorm(2.0, 0).apply(w);
            assertTrue(worstRelative(theirs, w) < 1e-6, rows + " rows: differs by " + worstRelative(theirs, w));
            INDArray norms = w.norm2(0);
            assertTrue(norms.maxNumber().doubleValue() <= 2.0 + 1e-5, "norms after: " + norms);
            assertTrue(norms.minNumber().doubleValue() < 1.0, "small columns keep their size: " + norms);
        }
    }

    @Test
    void otherLayoutsTakeDl4jsComputation() {
        INDArray w = weights(30, 12, 5).dup('c');
        INDArray theirs = w.dup('c');
        new MaxNormConstraint(1.5, 0).apply(theirs);
        new FusedMaxNorm(1.5, 0).apply(w);
        assertEquals(theirs, w);
        INDArray rowsNormed = weights(30, 12, 6);
        INDArray theirRows = rowsNormed.dup('f');
        new MaxNormConstraint(1.5, 1).apply(theirRows);
        new FusedMaxNorm(1.5, 1).apply(rowsNormed);
        assertEquals(theirRows, rowsNormed);
    }

    @Test
    void aNonPositiveBoundIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FusedMaxNorm(0, 0));
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
    }

    @Test
    void aNetsConstraintSurvivesItsJson() {
        MlpConfig cfg = new MlpConfig(List.of(16, 12), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9,
                1.0, 1, 32, 0, 0);
        MultiLayerConfiguration conf = Classifier.create(cfg, 20, 4, null, 7).network().getLayerWiseConfigurations();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        for (int i = 0; i < 3; i++) {
            var constraints = ((BaseLayer) back.getConf(i).getLayer()).getConstraints();
            assertEquals(1, constraints.size(), "layer " + i);
            FusedMaxNorm c = assertInstanceOf(FusedMaxNorm.class, constraints.get(0), "layer " + i);
            assertEquals(3.0, c.getMaxNorm());
            assertEquals(((BaseLayer) conf.getConf(i).getLayer()).getConstraints().get(0), c, "layer " + i);
        }
    }
}
