package darkknowledge.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
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
import org.nd4j.shade.jackson.annotation.JsonProperty;

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
 * db = Σ δ, ε_prev = δ Wᵀ, dropout's backward pass) is as in DL4J. Layers with masks, weight noise, layer norm, no bias, or another
 * activation take DL4J's own path.
 *
 * <p>The first layer of a net (index 0) does not compute {@code ε_prev = δ Wᵀ}, the gradient with
 * respect to the net's input, which nobody reads: its backward pass returns a null epsilon, as
 * DL4J's embedding layer does (and {@link Im2colConv}). On a 784-800-800-10 net that is one product
 * of 128×784×800 per step, 16% of a step's matrix-product work.
 *
 * <p>The layer's three products, {@code z = x W} forward and {@code dW = xᵀ δ}, {@code ε_prev = δ Wᵀ}
 * backward, call {@code cblas_sgemm} directly on ND4J's buffers, on the library {@link Gemm} chose
 * for this CPU (MKL or OpenBLAS, whichever its probe measured faster): without ND4J's op machinery
 * (the bench measured ND4J's products at 0.68 of MKL's own rate on these shapes) and, on AMD CPUs, on
 * the faster library (OpenBLAS 0.3.31 at 1.67× MKL 2025.0's rate on a Zen 5). The results agree with
 * DL4J's to fp32 rounding (a library may order a sum differently), which {@code ReluDenseTest}
 * checks on both libraries; where neither can be called (or for an input that is not a dense
 * row-major float array) ND4J multiplies as before, bit-identical to DL4J.
 *
 * <p>In {@link Precision#BF16} the three products take bfloat16 operands and accumulate in fp32
 * (MKL's {@code cblas_gemm_bf16bf16f32}, {@link Bf16}); x and W are rounded once in the forward pass
 * and reused backward, δ once. W, b, the bias gradient, z and everything else stay fp32 (the
 * parameters are the master weights). {@code Bf16Test} checks the products against fp32 ones within
 * bf16's rounding.
 */
public class ReluDense extends DenseLayer {
    /** bfloat16 products ({@link Precision#BF16}); false in nets saved before it existed. */
    @JsonProperty
    private boolean bf16;

    /** For JSON deserialisation of saved models. */
    public ReluDense() {
        super();
    }

    /** This layer with every setting of {@code built} (a layer from DL4J's builder), in fp32. */
    public static ReluDense of(DenseLayer built) {
        return of(built, Precision.FP32);
    }

    /** This layer with every setting of {@code built} (a layer from DL4J's builder), its products in {@code precision}. */
    public static ReluDense of(DenseLayer built, Precision precision) {
        ReluDense r = LayerWiring.copySettings(built, new ReluDense(), DenseLayer.class);
        if (precision == Precision.BF16) {
            Bf16.require("a ReluDense layer in bf16");
        }
        r.bf16 = precision == Precision.BF16;
        return r;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView, boolean initializeParams,
            DataType networkDataType) {
        LayerValidation.assertNInNOutSet("ReluDense", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new Impl(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializer(), initializeParams);
    }

    /** The precision of this layer's products. */
    public Precision precision() {
        return bf16 ? Precision.BF16 : Precision.FP32;
    }

    /** The layer itself: DL4J's dense layer with the backward pass described above. */
    static final class Impl extends org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer {
        private INDArray activation;
        private INDArray activationInput;
        private long fastBackwardPasses;
        private long directBackwardPasses;
        private long fusedBackwardPasses;
        /** bf16 copies of the forward pass's x and W, and of δ; grown as needed. */
        private MemorySegment xb = MemorySegment.NULL;
        private MemorySegment wb = MemorySegment.NULL;
        private MemorySegment db = MemorySegment.NULL;
        /** The products' x and W operands as the forward pass of {@code productsInput} left them (fp32 or bf16). */
        private MemorySegment xs;
        private MemorySegment ws;
        private INDArray productsInput;

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private boolean fastPathApplies() {
            return hasBias() && !hasLayerNorm() && layerConf().getWeightNoise() == null && maskArray == null
                    && new ActivationReLU().equals(layerConf().getActivationFn());
        }

        private boolean bf16() {
            return ((ReluDense) conf.getLayer()).bf16;
        }

        /** {@code C = op(A)·op(B)} (β = 0) on this layer's operands: bf16 on MKL, fp32 on {@link Gemm}'s library, called directly. */
        private void gemm(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
                int ldb, MemorySegment c, int ldc) {
            if (bf16()) {
                Mkl.gemmBf16(transA, transB, m, n, k, a, lda, b, ldb, 0f, c, ldc);
            } else {
                Gemm.sgemm(transA, transB, m, n, k, a, lda, b, ldb, 0f, c, ldc);
            }
        }

        /**
         * {@code z = x W + b} with the products called directly ({@link Gemm}; MKL's bf16 operands in
         * {@link Precision#BF16}); DL4J's own computation off the fast path, without MKL, or for an
         * fp32 input that is not a dense row-major float array.
         */
        @Override
        protected Pair<INDArray, INDArray> preOutputWithPreNorm(boolean training, boolean forBackprop,
                LayerWorkspaceMgr workspaceMgr) {
            return preOutput(training, forBackprop, workspaceMgr, true);
        }

        /** {@link #preOutputWithPreNorm}; without {@code + b} on the direct path unless {@code addBias} ({@link #activate} adds it with the ReLU). */
        private Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr workspaceMgr,
                boolean addBias) {
            productsInput = null;
            boolean bf16 = bf16();
            if (!fastPathApplies() || !bf16 && !Gemm.available()) {
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            assertInputSet(forBackprop);
            applyDropOutIfNecessary(training, workspaceMgr);
            INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
            if (!bf16 && (!FusedAdam.dense(input, 'c') || input.dataType() != DataType.FLOAT
                    || !FusedAdam.dense(w, 'f'))) {
                return super.preOutputWithPreNorm(training, forBackprop, workspaceMgr);
            }
            INDArray b = getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr);
            int nIn = (int) w.size(0);
            int nOut = (int) w.size(1);
            if (input.rank() != 2 || input.size(1) != nIn) {
                throw new org.deeplearning4j.exception.DL4JInvalidInputException("Input size (" + input.size(1)
                        + " columns; shape = " + java.util.Arrays.toString(input.shape())
                        + ") is invalid: does not match layer input size (layer # inputs = " + nIn + ") " + layerId());
            }
            int rows = (int) input.size(0);
            if (bf16) {
                INDArray x = floatsIn(input.castTo(DataType.FLOAT), 'c');
                xb = grown(xb, (long) rows * nIn);
                wb = grown(wb, (long) nIn * nOut);
                INDArray wf = floatsIn(w, 'f');
                Bf16.round(FusedAdam.segment(x, 4), xb, (long) rows * nIn);
                Bf16.round(FusedAdam.segment(wf, 4), wb, (long) nIn * nOut);
                Im2colConv.alive(x, wf);  // the segments alone do not keep these copies (see there)
                xs = xb;
                ws = wb;
            } else {
                xs = FusedAdam.segment(input, 4);
                ws = FusedAdam.segment(w, 4);
            }
            productsInput = input;
            INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[] {rows, nOut}, 'c');
            // Row-major: z (rows×nIn · nIn×nOut) = x · W, W stored column-major = Wᵀ row-major (nOut×nIn).
            gemm(false, true, rows, nOut, nIn, xs, nIn, ws, nIn, FusedAdam.segment(z, 4), nOut);
            if (addBias) {
                z.addiRowVector(b);
            }
            return new Pair<>(z, z);
        }

        /** {@code a} as a dense float array in {@code order} (itself when it already is one). */
        private static INDArray floatsIn(INDArray a, char order) {
            if (a.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException("MKL's products here take float32 arrays, not " + a.dataType());
            }
            return FusedAdam.dense(a, order) ? a : a.dup(order);
        }

        private static MemorySegment grown(MemorySegment s, long elements) {
            return s.byteSize() >= 2 * elements ? s : Arena.ofAuto().allocate(2 * elements, 64);
        }

        /**
         * {@code a = relu(x W + b)}: with the product called directly, the bias, the ReLU and (in
         * training) the kept copy of {@code a} are one pass ({@link ReluBias#forward}); otherwise DL4J's.
         */
        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            if (fastPathApplies()) {
                INDArray z = preOutput(training, false, workspaceMgr, false).getFirst();
                if (productsInput != null && productsInput == input) {
                    INDArray b = getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr);
                    INDArray bias = FusedAdam.contiguous(b) ? b : b.dup('c');
                    int rows = (int) z.size(0);
                    int n = (int) z.size(1);
                    INDArray copy = training ? workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                            new long[] {rows, n}, 'c') : null;
                    ReluBias.forward(FusedAdam.segment(z, 4), FusedAdam.segment(bias, 4),
                            copy == null ? null : FusedAdam.segment(copy, 4), rows, n);
                    if (training) {
                        activation = copy;
                        activationInput = input;
                    } else {
                        forget();
                    }
                    return z;
                }
                // DL4J's own product (it added b): its activation, as BaseLayer.activate applies it
                INDArray out = layerConf().getActivationFn().getActivation(z, training);
                keep(training, out, workspaceMgr);
                return out;
            }
            INDArray out = super.activate(training, workspaceMgr);
            keep(training, out, workspaceMgr);
            return out;
        }

        /** Keeps a copy of {@code out} for the backward pass (training on the fast path), else forgets. */
        private void keep(boolean training, INDArray out, LayerWorkspaceMgr workspaceMgr) {
            if (training && fastPathApplies()) {
                // The next layer's dropout may scale or zero `out` in place: keep our own copy.
                activation = workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
                activationInput = input;  // after super.activate: the input with this layer's dropout applied
            } else {
                forget();
            }
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
            // δ = ε ⊙ 1[a > 0], written over the copy of a (a > 0 exactly where z > 0), and db = Σ δ
            INDArray delta = a;
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            if (FusedAdam.dense(epsilon, 'c') && epsilon.dataType() == DataType.FLOAT && FusedAdam.dense(a, 'c')
                    && FusedAdam.contiguous(biasGrad) && java.util.Arrays.equals(epsilon.shape(), a.shape())) {
                ReluBias.backward(FusedAdam.segment(epsilon, 4), FusedAdam.segment(a, 4), FusedAdam.segment(biasGrad, 4),
                        (int) a.size(0), (int) a.size(1));
                fusedBackwardPasses++;
            } else {
                Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(a, epsilon, delta, 0.0));
                delta.sum(biasGrad, 0);
            }
            Gradient ret = new DefaultGradient();
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            boolean first = getIndex() == 0;  // ε_prev would be the gradient with respect to the net's input
            boolean direct = productsInput == input;
            directBackwardPasses += direct ? 1 : 0;
            INDArray epsilonNext = direct ? backwardDirect(delta, weightGrad, first, workspaceMgr)
                    : backwardFp32(delta, weightGrad, first, workspaceMgr);
            weightNoiseParams.clear();
            return new Pair<>(ret, first ? null : backpropDropOutIfPresent(epsilonNext));
        }

        /** dW = xᵀ δ into {@code weightGrad}; returns ε_prev = δ Wᵀ (null for the first layer). As DL4J computes them. */
        private INDArray backwardFp32(INDArray delta, INDArray weightGrad, boolean first, LayerWorkspaceMgr workspaceMgr) {
            Nd4j.gemm(input.castTo(weightGrad.dataType()), delta, weightGrad, true, false, 1.0, 0.0);
            if (first) {
                return null;
            }
            INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, delta.dataType(),
                    new long[] {w.size(0), delta.size(0)}, 'f');
            return w.mmuli(delta.transpose(), epsilonNext).transpose();
        }

        /**
         * The same two products through MKL directly, on the operands of the forward pass (x and W as
         * it rounded them in bf16, or ND4J's own arrays in fp32) and δ (rounded here in bf16).
         */
        private INDArray backwardDirect(INDArray delta, INDArray weightGrad, boolean first, LayerWorkspaceMgr workspaceMgr) {
            INDArray d = floatsIn(delta, 'c');
            int rows = (int) d.size(0);
            int nIn = (int) weightGrad.size(0);
            int nOut = (int) weightGrad.size(1);
            MemorySegment ds = FusedAdam.segment(d, 4);
            if (bf16()) {
                db = grown(db, (long) rows * nOut);
                Bf16.round(ds, db, (long) rows * nOut);
                ds = db;
            }
            // dWᵀ (nOut×nIn, row-major = dW column-major, DL4J's 'f' layout) = δᵀ x.
            INDArray dw = floatsIn(weightGrad, 'f');
            gemm(true, false, nOut, nIn, rows, ds, nOut, xs, nIn, FusedAdam.segment(dw, 4), nIn);
            if (dw != weightGrad) {
                weightGrad.assign(dw);
            }
            if (first) {
                return null;
            }
            // ε_prev (rows×nIn) = δ (rows×nOut) · Wᵀ, Wᵀ row-major being W's column-major storage.
            INDArray epsilonNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[] {rows, nIn}, 'c');
            gemm(false, false, rows, nIn, nOut, ds, nOut, ws, nIn, FusedAdam.segment(epsilonNext, 4), nIn);
            return epsilonNext;
        }

        /** How many backward passes used the kept activation (for tests). */
        long fastBackwardPasses() {
            return fastBackwardPasses;
        }

        /** How many of those took δ and db in one pass ({@link ReluBias#backward}; for tests). */
        long fusedBackwardPasses() {
            return fusedBackwardPasses;
        }

        /** How many of those multiplied through MKL directly (for tests). */
        long directBackwardPasses() {
            return directBackwardPasses;
        }

        @Override
        public void clear() {
            super.clear();
            forget();
        }
    }
}
