package darkknowledge.kernels;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What every layer configuration of ours that subclasses one of DL4J's does alike: copy its settings, wire its layer. */
final class LayerWiring {
    private LayerWiring() {
    }

    /** Every instance field of {@code from} declared in {@code type} or above, set on {@code to}. */
    static <T> T copySettings(Object from, T to, Class<?> type) {
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(to, f.get(from));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("cannot copy the " + type.getSimpleName() + " setting " + f.getName(), e);
                }
            }
        }
        return to;
    }

    /** {@code layer} with its listeners, index, parameter view and parameters (from {@code init}), as DL4J's own layers' {@code instantiate} wires them. */
    static <L extends Layer> L wire(L layer, NeuralNetConfiguration conf, Collection<TrainingListener> listeners,
            int layerIndex, INDArray layerParamsView, ParamInitializer init, boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        layer.setParamTable(init.init(conf, layerParamsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
