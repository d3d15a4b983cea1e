package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Collection;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * A net's output layer, {@code p = f(z)} with {@code z = x W + b} and {@code f} softmax or the
 * identity, whose training step computes {@code z} once and multiplies on {@link Gemm}'s library.
 *
 * <p>DL4J's output layer computes {@code z = x W + b} twice per training step: once in
 * {@code backpropGradient} (for δ = ∂L/∂z) and again in {@code computeScore}, which
 * {@code MultiLayerNetwork.computeGradientAndScore} calls right after the backward pass, with the
 * same input, labels and parameters. On the glyph generalist's 512→3,755 head that second product,
 * 128×512×3,755 multiply-adds per step, is as large as each of the two products the gradient needs.
 * Here the backward pass also evaluates the loss on the {@code z} it has, keeps that sum, and the
 * score call that follows for the same input, labels and mask takes it (any other score call,
 * such as {@code MultiLayerNetwork.score(DataSet)}, computes its own {@code z}).
 *
 * <p>The three products, {@code z = x W} forward and {@code dW = xᵀ δ}, {@code ε_prev = δ Wᵀ}
 * backward, call {@code cblas_sgemm} on ND4J's buffers through {@link Gemm} (MKL or OpenBLAS,
 * whichever its probe measured faster on this CPU), as {@link ReluDense}'s do. Everything else is
 * DL4J's: the loss's gradient {@code δ = ∂L/∂z} (softmax cross-entropy: {@code p − y}; a loss on
 * logits, such as distillation's, its own), {@code db = Σ δ}, dropout of the layer's input and its
 * backward pass, the score {@code L/batch + regularisation}. Results agree with DL4J's output layer
 * to fp32 rounding (a library may order a sum differently), which {@code GemmOutputTest} checks on
 * both libraries. Where no library loads, or for an input that is not a dense row-major float array,
 * or with a mask or weight noise, DL4J's own path runs, bit-identical to its output layer.
 */
public class GemmOutput extends OutputLayer {

    /** For JSON deserialisation of saved models. */
    public GemmOutput() {
        super();
    }

    /** This layer with every setting of {@code built} (an output layer from DL4J's builder). */
    public static GemmOutput of(OutputLayer built) {
        return LayerWiring.copySettings(built, new GemmOutput(), OutputLayer.class);
    }

    /** DL4J's own output layer with every setting of this one: the reference {@code GemmOutput} is measured against. */
    public OutputLayer stock() {
        return LayerWiring.copySettings(this, new OutputLayer(), OutputLayer.class);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView, boolean initializeParams,
            DataType networkDataType) {
        LayerValidation.assertNInNOutSet("GemmOutput", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializer(), initializeParams);
    }

    /** The layer itself: DL4J's output layer with the step described above. */
    static final class Impl extends org.deeplearning4j.nn.layers.OutputLayer {
        /** The input whose {@code z} the last forward product computed directly, and that product's operands. */
        private INDArray productsInput;
        private MemorySegment xs;
        private MemorySegment ws;
        /** The summed loss the last backward pass evaluated, for the score call that follows it; NaN when none. */
        private double keptLoss = Double.NaN;
        private INDArray keptInput;
        private INDArray keptLabels;
        private INDArray keptMask;
        private long directBackwardPasses;
        private long keptScores;

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private boolean fastPathApplies() {
            return hasBias() && !hasLayerNorm() && layerConf().getWeightNoise() == null && maskArray == null
                    && Gemm.available();
        }

        /** {@code z = x W + b} with the product on {@link Gemm}'s library; DL4J's own computation off the fast path. */
        @Override
        protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
                LayerWorkspaceMgr workspaceMgr) {
            productsInput = null;
            if (!fastPathApplies()) {
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            assertInputSet(forBackprop);
            applyDropOutIfNecessary(training, workspaceMgr);
            INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
            if (!FusedAdam.dense(input, 'c') || input.dataType() != DataType.FLOAT || !FusedAdam.dense(w, 'f')
                    || input.rank() != 2 || input.size(1) != w.size(0)) {
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            INDArray b = getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr);
            int nIn = (int) w.size(0);
            int nOut = (int) w.size(1);
            int rows = (int) input.size(0);
            xs = FusedAdam.segment(input, 4);
            ws = FusedAdam.segment(w, 4);
            productsInput = input;
            INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[] {rows, nOut}, 'c');
            // Row-major: z (rows×nIn · nIn×nOut) = x · W, W stored column-major = Wᵀ row-major (nOut×nIn).
            Gemm.sgemm(false, true, rows, nOut, nIn, xs, nIn, ws, nIn, 0f, FusedAdam.segment(z, 4), nOut);
            z.addiRowVector(b);
            return new Pair<>(z, z);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            keptLoss = Double.NaN;
            assertInputSet(true);
            INDArray z = preOutput2d(true, workspaceMgr);
            if (productsInput != input || input.rank() != 2) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            ILossFunction loss = layerConf().getLossFn();
            INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
            // gradient and score in one call (a fused loss computes both in one pass over the 3,755-class
            // rows); the score call that follows (same input, labels and parameters) takes this score
            // instead of a second x·W
            Pair<Double, INDArray> gradientAndScore = loss.computeGradientAndScore(labels2d, z,
                    layerConf().getActivationFn(), maskArray, false);
            INDArray delta = gradientAndScore.getSecond();
            keptLoss = gradientAndScore.getFirst();
            keptInput = input;
            keptLabels = labels;
            keptMask = maskArray;

            INDArray d = FusedAdam.dense(delta, 'c') && delta.dataType() == DataType.FLOAT ? delta : delta.castTo(DataType.FLOAT).dup('c');
            int rows = (int) d.size(0);
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            int nIn = (int) weightGrad.size(0);
            int nOut = (int) weightGrad.size(1);
            MemorySegment ds = FusedAdam.segment(d, 4);
            // dWᵀ (nOut×nIn, row-major = dW column-major, DL4J's 'f' layout) = δᵀ x.
            INDArray dw = FusedAdam.dense(weightGrad, 'f') ? weightGrad : weightGrad.dup('f');
            Gemm.sgemm(true, false, nOut, nIn, rows, ds, nOut, xs, nIn, 0f, FusedAdam.segment(dw, 4), nIn);
            if (dw != weightGrad) {
                weightGrad.assign(dw);
            }
            Gradient gradient = new DefaultGradient();
            gradient.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            d.sum(biasGrad, 0);
            gradient.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            // ε_prev (rows×nIn) = δ (rows×nOut) · Wᵀ, Wᵀ row-major being W's column-major storage.
            INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[] {rows, nIn}, 'c');
            Gemm.sgemm(false, false, rows, nIn, nOut, ds, nOut, ws, nIn, 0f, FusedAdam.segment(epsilonNext, 4), nIn);
            directBackwardPasses++;
            // weight noise parameters are cleared by the network after the step, as for DL4J's output layer
            return new Pair<>(gradient, backpropDropOutIfPresent(epsilonNext));
        }

        /** The score as DL4J computes it ({@code L/batch + regularisation}), from the backward pass's loss when it is for this input. */
        @Override
        public double computeScore(double fullNetRegTerm, boolean training, LayerWorkspaceMgr workspaceMgr) {
            double loss = keptLoss;
            boolean same = !Double.isNaN(loss) && input == keptInput && labels == keptLabels && maskArray == keptMask;
            forgetLoss();
            if (!same) {
                return super.computeScore(fullNetRegTerm, training, workspaceMgr);
            }
            keptScores++;
            double s = conf().isMiniBatch() ? loss / getInputMiniBatchSize() : loss;
            score = s + fullNetRegTerm;
            return score;
        }

        private void forgetLoss() {
            keptLoss = Double.NaN;
            keptInput = null;
            keptLabels = null;
            keptMask = null;
        }

        /** How many backward passes multiplied through {@link Gemm} (for tests). */
        long directBackwardPasses() {
            return directBackwardPasses;
        }

        /** How many score calls took the backward pass's loss (for tests). */
        long keptScores() {
            return keptScores;
        }

        @Override
        public void clear() {
            super.clear();
            forgetLoss();
            productsInput = null;
        }
    }
}
