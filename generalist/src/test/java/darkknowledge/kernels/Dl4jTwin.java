package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A net of ours rebuilt from DL4J's own layers: the reference our kernels' gradients are checked against. */
final class Dl4jTwin {
    private Dl4jTwin() {
    }

    /**
     * The same net, same parameters, with every {@link ReluDense} replaced by DL4J's dense layer and
     * (when {@code output}) the {@link GemmOutput} by DL4J's output layer.
     */
    static MultiLayerNetwork of(MultiLayerNetwork ours, boolean dense, boolean output) {
        MultiLayerConfiguration conf = ours.getLayerWiseConfigurations().clone();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            if (dense && layer instanceof ReluDense) {
                conf.getConf(i).setLayer(copy(layer, new DenseLayer(), DenseLayer.class));
            } else if (output && layer instanceof GemmOutput) {
                conf.getConf(i).setLayer(copy(layer, new OutputLayer(), OutputLayer.class));
            }
        }
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init(ours.params().dup(), true);
        return net;
    }

    /**
     * {@code steps} training steps of both nets on the same minibatch (same random seed per step, for
     * dropout), asserting after each that the scores agree to 10⁻⁶ relative and the parameters to 10⁻⁵.
     */
    static void assertTrainAlike(MultiLayerNetwork ours, MultiLayerNetwork theirs, INDArray x, INDArray y, int steps) {
        for (int step = 0; step < steps; step++) {
            Nd4j.getRandom().setSeed(100 + step);
            ours.fit(x, y);
            Nd4j.getRandom().setSeed(100 + step);
            theirs.fit(x, y);
            assertEquals(theirs.score(), ours.score(), 1e-6 * Math.abs(theirs.score()), "score at step " + step);
            INDArray diff = theirs.params().sub(ours.params());
            double worst = Math.max(diff.maxNumber().doubleValue(), -diff.minNumber().doubleValue());
            assertTrue(worst <= 1e-5, "parameters after step " + step + " differ by up to " + worst);
        }
    }

    /** {@code rows} standard-normal inputs (seeded) and one-hot labels cycling through the classes with {@code stride}. */
    static INDArray[] batch(int rows, int inputs, int classes, int stride) {
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, rows, inputs);
        INDArray y = Nd4j.zeros(DataType.FLOAT, rows, classes);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, (i * stride) % classes, 1);
        }
        return new INDArray[] {x, y};
    }

    private static <T extends Layer> T copy(Layer from, T to, Class<T> type) {
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            for (var f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    f.setAccessible(true);
                    try {
                        f.set(to, f.get(from));
                    } catch (IllegalAccessException e) {
                        throw new AssertionError(e);
                    }
                }
            }
        }
        return to;
    }
}
