package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * {@link GemmOutput} trains as DL4J's output layer does: the same scores and, to fp32 rounding, the
 * same parameters after several steps (softmax cross-entropy, and a loss on logits), with dropout on
 * its input, on each BLAS {@link Gemm} can choose; every step's products go through {@link Gemm} and
 * every step's score comes from the backward pass's loss (no second {@code x W}).
 */
class GemmOutputTest {
    /** SGD with momentum: Adam's first step turns last-bit gradient differences into differences of up to its rate. */
    private static final MlpConfig DROPOUT_SGD = new MlpConfig(List.of(96, 64), 0.2, 0.5, 0, 0,
            MlpConfig.Optimizer.SGD_MOMENTUM, 3e-3, 0.9, 1.0, 1, 128, 0, 0);

    private static void assertTrainsAsDl4j(MlpConfig cfg, int inputs, int classes, int rows, ILossFunction lossOnLogits) {
        Classifier c = Classifier.create(cfg, inputs, classes, lossOnLogits, 7);
        MultiLayerNetwork ours = c.network();
        int last = ours.getnLayers() - 1;
        assertInstanceOf(GemmOutput.class, ours.getLayerWiseConfigurations().getConf(last).getLayer());
        MultiLayerNetwork theirs = Dl4jTwin.of(ours, false, true);
        assertInstanceOf(org.deeplearning4j.nn.layers.OutputLayer.class, theirs.getLayer(last));
        INDArray[] xy = Dl4jTwin.batch(rows, inputs, classes, 7);
        INDArray x = xy[0];
        INDArray y = xy[1];
        int steps = 3;
        Dl4jTwin.assertTrainAlike(ours, theirs, x, y, steps);
        GemmOutput.Impl out = (GemmOutput.Impl) ours.getLayer(last);
        assertEquals(steps, out.directBackwardPasses(), "backward passes through Gemm");
        assertEquals(steps, out.keptScores(), "scores from the backward pass's loss");
        // a score call of its own (no backward pass before it) computes z itself, as DL4J does
        DataSet ds = new DataSet(x, y);
        assertEquals(theirs.score(ds), ours.score(ds), 1e-6 * Math.abs(theirs.score(ds)), "score of a data set");
        assertEquals(steps, out.keptScores(), "a score of its own does not take a kept loss");
        assertEquals(theirs.output(x).getFloat(0, 0), ours.output(x).getFloat(0, 0), 1e-5f, "outputs");
    }

    @Test
    void softmaxCrossEntropyIsDl4jsOnEachBlasGemmCanChoose() {
        for (Gemm.Choice blas : new Gemm.Choice[] {Gemm.Choice.MKL, Gemm.Choice.OPENBLAS}) {
            Gemm.Decision before = Gemm.use(blas);
            try {
                // a wide head at a training step's batch, as the glyph generalist's (512 → 3,755) in small
                assertTrainsAsDl4j(DROPOUT_SGD, 200, 600, 128, null);
            } catch (AssertionError e) {
                throw new AssertionError(blas + ": " + e.getMessage(), e);
            } finally {
                Gemm.restore(before);
            }
        }
    }

    @Test
    void aLossOnLogitsIsDl4js() {
        assertTrainsAsDl4j(DROPOUT_SGD, 40, 10, 33, new LossMSE());
    }

    @Test
    void adamWithoutDropoutIsDl4js() {
        assertTrainsAsDl4j(MlpConfig.plain(List.of(16, 12), 1), 20, 4, 33, null);
    }
}
