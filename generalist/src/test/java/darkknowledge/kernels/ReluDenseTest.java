package darkknowledge.kernels;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link ReluDense} computes DL4J's dense-layer gradients, with and without dropout: exactly through
 * ND4J, to fp32 rounding where it calls MKL directly (the generalist's tests run on MKL, so both the
 * small nets here and a training-sized one take that path).
 */
class ReluDenseTest {

    private static void assertSameGradients(MlpConfig cfg) {
        assertSameGradients(cfg, 20, 33);
    }

    private static void assertSameGradients(MlpConfig cfg, int inputs, int rows) {
        Classifier c = Classifier.create(cfg, inputs, 4, null, 7);
        MultiLayerNetwork ours = c.network();
        assertInstanceOf(ReluDense.class, ours.getLayerWiseConfigurations().getConf(0).getLayer());
        MultiLayerNetwork theirs = Dl4jTwin.of(ours, true, false);
        assertInstanceOf(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, theirs.getLayer(0));
        INDArray[] xy = Dl4jTwin.batch(rows, inputs, 4, 1);
        Dl4jTwin.assertTrainAlike(ours, theirs, xy[0], xy[1], 3);
        for (int i = 0; i < cfg.hidden().size(); i++) {
            ReluDense.Impl layer = (ReluDense.Impl) ours.getLayer(i);
            assertEquals(3, layer.fastBackwardPasses(), "layer " + i + " fast path");
            assertEquals(Mkl.available() ? 3 : 0, layer.directBackwardPasses(), "layer " + i + " products through MKL");
            assertEquals(3, layer.fusedBackwardPasses(), "layer " + i + " δ and db in one pass");
        }
    }

    @Test
    void gradientsAreDl4jsWithoutDropout() {
        assertSameGradients(MlpConfig.plain(List.of(16, 12), 1));
    }

    /** At a training step's size (batch 128, 784 inputs), where MKL blocks its products. */
    @Test
    void gradientsAreDl4jsAtTrainingSize() {
        assertTrue(Mkl.available(), "the generalist's tests run on MKL: " + Mkl.unavailable());
        assertSameGradients(MlpConfig.plain(List.of(300, 200), 1), 784, 128);
    }

    @Test
    void gradientsAreDl4jsAtTrainingSizeOnEachBlasGemmCanChoose() {
        for (Gemm.Choice blas : new Gemm.Choice[] {Gemm.Choice.MKL, Gemm.Choice.OPENBLAS}) {
            Gemm.Decision before = Gemm.use(blas);
            try {
                assertSameGradients(MlpConfig.plain(List.of(300, 200), 1), 784, 128);
                // the teacher's recipe (dropout on input and hidden units, max-norm) under SGD with momentum: Adam's
                // first step, lr·g/(|g| + ε), turns the last-bit differences two libraries give a near-zero gradient
                // into parameter differences of up to lr (3.5e-5 seen here with OpenBLAS against DL4J's MKL products)
                try {
                    assertSameGradients(new MlpConfig(List.of(120, 80), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.SGD_MOMENTUM,
                            3e-3, 0.9, 1.0, 1, 128, 0, 0), 784, 128);
                } catch (AssertionError e) {
                    throw new AssertionError(blas + ": " + e.getMessage(), e);
                }
            } finally {
                Gemm.restore(before);
            }
        }
    }

    @Test
    void gradientsAreDl4jsWithDropoutAndMaxNorm() {
        assertSameGradients(new MlpConfig(List.of(16, 12, 8), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9,
                1.0, 1, 32, 0, 0));
    }
}
