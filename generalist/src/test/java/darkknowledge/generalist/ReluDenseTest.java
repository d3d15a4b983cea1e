package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link ReluDense} computes exactly DL4J's dense-layer gradients, with and without dropout. */
class ReluDenseTest {

    /** The same net with every {@code ReluDense} replaced by DL4J's own dense layer. */
    private static MultiLayerNetwork withDl4jDense(MultiLayerNetwork ours) {
        MultiLayerConfiguration conf = ours.getLayerWiseConfigurations().clone();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            if (conf.getConf(i).getLayer() instanceof ReluDense r) {
                DenseLayer plain = new DenseLayer();
                for (Class<?> c = DenseLayer.class; c != Object.class; c = c.getSuperclass()) {
                    for (var f : c.getDeclaredFields()) {
                        if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                            f.setAccessible(true);
                            try {
                                f.set(plain, f.get(r));
                            } catch (IllegalAccessException e) {
                                throw new AssertionError(e);
                            }
                        }
                    }
                }
                conf.getConf(i).setLayer(plain);
            }
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(ours.params().dup(), true);
        return net;
    }

    private static void assertSameGradients(MlpConfig cfg) {
        Classifier c = Classifier.create(cfg, 20, 4, null, 7);
        MultiLayerNetwork ours = c.network();
        assertInstanceOf(ReluDense.class, ours.getLayerWiseConfigurations().getConf(0).getLayer());
        MultiLayerNetwork theirs = withDl4jDense(ours);
        assertInstanceOf(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, theirs.getLayer(0));
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 33, 20);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 33, 4);
        for (int i = 0; i < 33; i++) {
            y.putScalar(i, i % 4, 1);
        }
        for (int step = 0; step < 3; step++) {
            Nd4j.getRandom().setSeed(100 + step);
            ours.fit(x, y);
            Nd4j.getRandom().setSeed(100 + step);
            theirs.fit(x, y);
            assertEquals(theirs.score(), ours.score(), 0.0, "score at step " + step);
            assertEquals(theirs.params(), ours.params(), "parameters after step " + step);
        }
        for (int i = 0; i < cfg.hidden().size(); i++) {
            assertEquals(3, ((ReluDense.Impl) ours.getLayer(i)).fastBackwardPasses(), "layer " + i + " fast path");
        }
    }

    @Test
    void gradientsAreDl4jsWithoutDropout() {
        assertSameGradients(MlpConfig.plain(List.of(16, 12), 1));
    }

    @Test
    void gradientsAreDl4jsWithDropoutAndMaxNorm() {
        assertSameGradients(new MlpConfig(List.of(16, 12, 8), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9,
                1.0, 1, 32, 0, 0));
    }
}
