package darkknowledge.generalist;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A dense ReLU layer, {@code a = max(0, x W + b)}, whose backward pass does not recompute
 * {@code z = x W + b}.
 *
 * <p>DL4J's dense layer rebuilds {@code z} in {@code backpropGradient} to evaluate the activation's
 * derivative: one extra {@code batch × nIn × nOut} matrix product per layer and step, a third of
 * the hidden layers' training GEMMs (JFR: 18% of a 784-800-800-10 epoch). For ReLU the derivative
 * needs only the sign of {@code z}, and {@code a > 0 ⟺ z > 0}; so the forward pass keeps a copy of
 * {@code a} (in the step's activation workspace) and the backward pass computes
 * {@code δ = ε ⊙ 1[a > 0]} from it with the same op DL4J uses. Everything else (dW = xᵀδ,
 * db = Σ δ, ε_prev = δ Wᵀ, dropout's backward pass) is as in DL4J, so gradients are bit-identical
 * ({@code ReluDenseTest}). Layers with masks, weight noise, layer norm, no bias, or another
 * activation take DL4J's own path.
 */
public class ReluDense extends DenseLayer {

    /** For JSON deserialisation of saved models. */
    public ReluDense() {
        super();
    }

    /** This layer with every setting of {@code built} (a layer from DL4J's builder). */
    public static ReluDense of(DenseLayer built) {
        ReluDense r = new ReluDense();
        for (Class<?> c = DenseLayer.class; c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                try {
                    f.setAccessible(true);
                    f.set(r, f.get(built));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("cannot copy dense layer setting " + f.getName(), e);
                }
            }
        }
        return r;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView, boolean initializeParams,
            DataType networkDataType) {
        LayerValidation.assertNInNOutSet("ReluDense", getLayerName(), layerIndex, getNIn(), getNOut());
        Impl layer = new Impl(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        ParamInitializer init = initializer();
        Map<String, INDArray> params = init.init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    /** The layer itself: DL4J's dense layer with the backward pass described above. */
    static final class Impl extends org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer {
        private INDArray activation;
        private INDArray activationInput;
        private long fastBackwardPasses;

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private boolean fastPathApplies() {
            return hasBias() && !hasLayerNorm() && layerConf().getWeightNoise() == null && maskArray == null
                    && new ActivationReLU().equals(layerConf().getActivationFn());
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            INDArray out = super.activate(training, workspaceMgr);
            if (training && fastPathApplies()) {
                // The next layer's dropout may scale or zero `out` in place: keep our own copy.
                activation = workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
                activationInput = input;  // after super.activate: the input with this layer's dropout applied
            } else {
                forget();
            }
            return out;
        }

        private void forget() {
            activation = null;
            activationInput = null;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            INDArray a = activation;
            boolean cached = a != null && input != null && input == activationInput && fastPathApplies()
                    && a.rows() == input.rows();
            forget();
            if (!cached) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            assertInputSet(true);
            fastBackwardPasses++;
            // δ = ε ⊙ 1[a > 0], written over the copy of a (a > 0 exactly where z > 0).
            INDArray delta = a;
            Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(a, epsilon, delta, 0.0));
            Gradient ret = new DefaultGradient();
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            delta.sum(biasGrad, 0);
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                    new long[] {w.size(0), delta.size(0)}, 'f');
            epsilonNext = w.mmuli(delta.transpose(), epsilonNext).transpose();
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
            ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            weightNoiseParams.clear();
            return new Pair<>(ret, backpropDropOutIfPresent(epsilonNext));
        }

        /** How many backward passes used the kept activation (for tests). */
        long fastBackwardPasses() {
            return fastBackwardPasses;
        }

        @Override
        public void clear() {
            super.clear();
            forget();
        }
    }
}
