package darkknowledge.kernels;

import java.lang.reflect.Modifier;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

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
