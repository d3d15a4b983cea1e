package darkknowledge.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link Im2colConv}'s convolution (ReLU, stride 1, "same" zero padding, NHWC rows, the same
 * parameters) computed by oneDNN's convolution primitives ({@link Dnnl}): a drop-in replacement,
 * {@code conv.backend=dnnl}.
 *
 * <p>Per step, on the layer's own arrays (no copies of activations): forward is one convolution with
 * the bias and a ReLU post-op writing the output {@code a}; backward is oneDNN's ReLU backward from
 * the output, {@code δ = ε ⊙ 1[a > 0]} (written over {@code a}, as {@link Im2colConv} does), its
 * backward-weights convolution giving {@code dW} and {@code db} at once, and its backward-data
 * convolution giving {@code ε_prev} (skipped for the network's first layer, whose input gradient
 * nobody reads). Activations and gradients are NHWC ({@code dnnl_nhwc}); the weights are our
 * {@code [kernel²·channels, filters]} 'f'-ordered matrix, which is oneDNN's OHWI ({@code dnnl_ohwi}).
 * Each convolution may choose its own weights layout ({@code dnnl_format_tag_any}): where it differs
 * from OHWI the weights are reordered before it runs and the weight gradient after (a few thousand
 * values: negligible).
 *
 * <p>Primitives are built once per batch size (the last few sizes are kept, usually the training
 * batch, the epoch's last partial batch and the evaluation batch) with a user-managed scratchpad, so
 * a layer's calls allocate nothing and layers of networks trained in parallel threads share no state.
 * Float32 only; the fp32 math is strict (no bf16 or TF32 shortcuts); direct convolution (no Winograd).
 * When oneDNN cannot be loaded, building the network fails with an error naming what is missing.
 * {@code DnnlConvTest} checks outputs and gradients against DL4J's {@code ConvolutionLayer} and
 * {@link Im2colConv}.
 */
public class DnnlConv extends Im2colConv {
    /** Batch sizes whose primitives a layer keeps. */
    private static final int PLANS = 4;

    /** For JSON deserialisation of saved models. */
    public DnnlConv() {
        super();
    }

    /** As {@link Im2colConv#of}, computed by oneDNN. */
    public static DnnlConv of(int height, int width, int channels, int kernel, int filters) {
        return geometry(new DnnlConv(), height, width, channels, kernel, filters);
    }

    /**
     * Null when oneDNN can run in this process, else what is missing (the library's jar, the platform,
     * a loading error). Loads the library on first use.
     */
    public static String unavailable() {
        return Dnnl.unavailable();
    }

    /** "oneDNN 3.6.1 (hash) of org.bytedeco:dnnl:3.6.1-1.5.11, ISA code …" (loads the library). */
    public static String library() {
        return Dnnl.library().describe();
    }

    @Override
    BaseLayer<Im2colConv> implementation(NeuralNetConfiguration conf, DataType dataType) {
        Dnnl.library();  // fails here, naming what is missing, rather than at the first step
        return new Impl(conf, dataType);
    }

    /** The layer itself. */
    static final class Impl extends BaseLayer<Im2colConv> {
        private INDArray output;
        private INDArray outputInput;
        private final Map<Long, Plan> plans = new LinkedHashMap<>(8, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Plan> eldest) {
                if (size() > PLANS) {
                    eldest.getValue().close();
                    return true;
                }
                return false;
            }
        };

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public Type type() {
            return Type.FEED_FORWARD;
        }

        @Override
        public boolean isPretrainLayer() {
            return false;
        }

        private Plan plan(long n) {
            Plan p = plans.get(n);
            if (p == null) {
                p = new Plan(layerConf(), n, getIndex() == 0);
                plans.put(n, p);
            }
            return p;
        }

        /** The implementations oneDNN chose for this batch size: forward, backward-weights, backward-data. */
        List<String> implementations(long n) {
            return plan(n).implementations;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            forget();
            INDArray a = forward(ArrayType.ACTIVATIONS, workspaceMgr);
            if (training) {
                output = a;
                outputInput = input;
            }
            return a;
        }

        /** a = ReLU(conv(x, W) + b) as [N, H·W·filters]. */
        private INDArray forward(ArrayType outType, LayerWorkspaceMgr workspaceMgr) {
            Im2colConv c = layerConf();
            INDArray x = rows(input, c.inputSize(), "input");
            long n = x.size(0);
            INDArray a = workspaceMgr.createUninitialized(outType, DataType.FLOAT, new long[] {n, c.outputSize()}, 'c');
            plan(n).forward(segment(x), weights(getParam(DefaultParamInitializer.WEIGHT_KEY), "W"),
                    segment(getParam(DefaultParamInitializer.BIAS_KEY)), segment(a));
            return a;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            Im2colConv c = layerConf();
            INDArray a = output;
            if (a == null || outputInput != input) {
                a = forward(ArrayType.BP_WORKING_MEM, workspaceMgr);
            }
            forget();
            INDArray x = rows(input, c.inputSize(), "input");
            long n = x.size(0);
            INDArray eps = rows(epsilon, c.outputSize(), "epsilon");
            boolean first = getIndex() == 0;
            INDArray epsNext = first ? null : workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD,
                    DataType.FLOAT, new long[] {n, c.inputSize()}, 'c');
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            plan(n).backward(segment(x), weights(getParam(DefaultParamInitializer.WEIGHT_KEY), "W"), segment(a),
                    segment(eps), weights(weightGrad, "dW"), segment(biasGrad),
                    first ? null : segment(epsNext));
            Gradient ret = new DefaultGradient();
            ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            return new Pair<>(ret, epsNext);
        }

        /** The weights (or their gradient): DL4J's 'f'-ordered [k²C, filters] view, which is OHWI in memory. */
        private static MemorySegment weights(INDArray w, String what) {
            if (w.rank() != 2 || w.dataType() != DataType.FLOAT || w.stride(0) != 1 || w.stride(1) != w.size(0)) {
                throw new IllegalStateException(what + " must be a dense 'f'-ordered float matrix (OHWI), got "
                        + w.dataType() + " shape " + java.util.Arrays.toString(w.shape()) + " strides "
                        + java.util.Arrays.toString(w.stride()));
            }
            return segment(w);
        }

        private void forget() {
            output = null;
            outputInput = null;
        }

        @Override
        public void clear() {
            super.clear();
            forget();
        }

        @Override
        public void clearNoiseWeightParams() {
            // no weight noise
        }
    }

    /**
     * One layer's oneDNN primitives for one batch size, with memory objects for the layer's arrays
     * (pointed at the current arrays before each call) and a scratchpad of their own.
     */
    static final class Plan implements AutoCloseable {
        private final Dnnl lib = Dnnl.library();
        private final Dnnl.Natives nat = lib.new Natives(this);
        private final MemorySegment stream = nat.stream();
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment b;
        private final MemorySegment a;
        private final MemorySegment eps;
        private final MemorySegment dw;
        private final MemorySegment db;
        private final MemorySegment epsNext;
        private final Dnnl.Exec weightsForForward;
        private final Dnnl.Exec forward;
        private final Dnnl.Exec reluBackward;
        private final Dnnl.Exec backwardWeights;
        private final Dnnl.Exec weightGradToUser;
        private final Dnnl.Exec weightsForBackwardData;
        private final Dnnl.Exec backwardData;
        final List<String> implementations = new ArrayList<>();

        Plan(Im2colConv c, long n, boolean first) {
            long f = c.getNOut();
            long pad = (c.kernel() - 1) / 2;
            MemorySegment srcMd = nat.md(new long[] {n, c.channels(), c.height(), c.width()}, Dnnl.TAG_ACDB);
            MemorySegment dstMd = nat.md(new long[] {n, f, c.height(), c.width()}, Dnnl.TAG_ACDB);
            MemorySegment wMd = nat.md(new long[] {f, c.channels(), c.kernel(), c.kernel()}, Dnnl.TAG_ACDB);
            MemorySegment anyWMd = nat.md(new long[] {f, c.channels(), c.kernel(), c.kernel()}, Dnnl.TAG_ANY);
            MemorySegment bMd = nat.md(new long[] {f}, Dnnl.TAG_A);
            MemorySegment attr = nat.attr(false);

            MemorySegment fwdPd = nat.convForwardPd(srcMd, anyWMd, bMd, dstMd, pad, nat.attr(true));
            MemorySegment bwdWPd = nat.convBackwardWeightsPd(srcMd, anyWMd, bMd, dstMd, pad, fwdPd, attr);
            MemorySegment bwdDPd = first ? null : nat.convBackwardDataPd(srcMd, anyWMd, dstMd, pad, fwdPd, attr);
            MemorySegment reluFwdPd = nat.reluForwardPd(dstMd, attr);
            MemorySegment reluBwdPd = nat.reluBackwardPd(dstMd, reluFwdPd, attr);
            String shape = "conv " + n + "x" + c.height() + "x" + c.width() + "x" + c.channels() + " -> " + f + " ("
                    + c.kernel() + "x" + c.kernel() + ")";
            requireSame(fwdPd, Dnnl.QUERY_SRC_MD, srcMd, shape + " forward src");
            requireSame(fwdPd, Dnnl.QUERY_DST_MD, dstMd, shape + " forward dst");
            requireSame(bwdWPd, Dnnl.QUERY_SRC_MD, srcMd, shape + " backward-weights src");
            requireSame(bwdWPd, Dnnl.QUERY_DIFF_DST_MD, dstMd, shape + " backward-weights diff_dst");
            if (bwdDPd != null) {
                requireSame(bwdDPd, Dnnl.QUERY_DIFF_SRC_MD, srcMd, shape + " backward-data diff_src");
                requireSame(bwdDPd, Dnnl.QUERY_DIFF_DST_MD, dstMd, shape + " backward-data diff_dst");
            }
            implementations.add("fwd " + lib.implementation(fwdPd));
            implementations.add("bwd_w " + lib.implementation(bwdWPd));
            if (bwdDPd != null) {
                implementations.add("bwd_d " + lib.implementation(bwdDPd));
            }

            // The layer's arrays, pointed at the current buffers before each call.
            x = nat.memory(srcMd, MemorySegment.NULL);
            w = nat.memory(wMd, MemorySegment.NULL);
            b = nat.memory(bMd, MemorySegment.NULL);
            a = nat.memory(dstMd, MemorySegment.NULL);
            eps = nat.memory(dstMd, MemorySegment.NULL);
            dw = nat.memory(wMd, MemorySegment.NULL);
            db = nat.memory(bMd, MemorySegment.NULL);
            epsNext = bwdDPd == null ? null : nat.memory(srcMd, MemorySegment.NULL);

            // One scratchpad for all (they run one after another), as large as the largest needs.
            List<MemorySegment> pds = new ArrayList<>(List.of(fwdPd, bwdWPd, reluBwdPd));
            if (bwdDPd != null) {
                pds.add(bwdDPd);
            }
            long scratch = 64;
            for (MemorySegment pd : pds) {
                scratch = Math.max(scratch, lib.size(lib.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD)));
            }
            scratchpadBuffer = Arena.ofAuto().allocate(scratch, 64);

            MemorySegment fwdW = lib.queryMd(fwdPd, Dnnl.QUERY_WEIGHTS_MD);
            MemorySegment wFwd = w;
            Dnnl.Exec reorderIn = null;
            if (!lib.sameMd(fwdW, wMd)) {
                wFwd = nat.memory(fwdW, null);
                reorderIn = reorder(w, wMd, wFwd, fwdW, attr);
            }
            weightsForForward = reorderIn;
            forward = exec(fwdPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS, Dnnl.ARG_DST},
                    new MemorySegment[] {x, wFwd, b, a});
            // δ = ε ⊙ 1[a > 0], written over a
            reluBackward = exec(reluBwdPd, new int[] {Dnnl.ARG_DST, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_SRC},
                    new MemorySegment[] {a, eps, a});

            MemorySegment bwdDw = lib.queryMd(bwdWPd, Dnnl.QUERY_DIFF_WEIGHTS_MD);
            MemorySegment dwOut = dw;
            Dnnl.Exec reorderOut = null;
            if (!lib.sameMd(bwdDw, wMd)) {
                dwOut = nat.memory(bwdDw, null);
                reorderOut = reorder(dwOut, bwdDw, dw, wMd, attr);
            }
            weightGradToUser = reorderOut;
            backwardWeights = exec(bwdWPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_WEIGHTS,
                Dnnl.ARG_DIFF_BIAS}, new MemorySegment[] {x, a, dwOut, db});

            if (bwdDPd != null) {
                MemorySegment bwdW = lib.queryMd(bwdDPd, Dnnl.QUERY_WEIGHTS_MD);
                MemorySegment wBwd = w;
                Dnnl.Exec reorderBwd = null;
                if (!lib.sameMd(bwdW, wMd)) {
                    wBwd = nat.memory(bwdW, null);
                    reorderBwd = reorder(w, wMd, wBwd, bwdW, attr);
                }
                weightsForBackwardData = reorderBwd;
                backwardData = exec(bwdDPd, new int[] {Dnnl.ARG_DIFF_DST, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DIFF_SRC},
                        new MemorySegment[] {a, wBwd, epsNext});
            } else {
                weightsForBackwardData = null;
                backwardData = null;
            }
            if (reorderIn != null || reorderOut != null || weightsForBackwardData != null) {
                implementations.add("weights reordered:" + (reorderIn != null ? " fwd" : "")
                        + (reorderOut != null ? " bwd_w" : "") + (weightsForBackwardData != null ? " bwd_d" : ""));
            }
        }

        /** Keeps the scratchpad's memory reachable as long as the plan. */
        private final MemorySegment scratchpadBuffer;

        private void requireSame(MemorySegment pd, int what, MemorySegment md, String where) {
            if (!lib.sameMd(lib.queryMd(pd, what), md)) {
                throw new IllegalStateException("oneDNN chose another layout than NHWC for the " + where
                        + " (implementation " + lib.implementation(pd) + ")");
            }
        }

        /** A primitive of {@code pd} with these arguments and the shared scratchpad. */
        private Dnnl.Exec exec(MemorySegment pd, int[] args, MemorySegment[] memories) {
            MemorySegment scratchMd = lib.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD);
            if (lib.size(scratchMd) == 0) {
                return nat.exec(nat.primitive(pd), args, memories);
            }
            int k = args.length;
            int[] allArgs = java.util.Arrays.copyOf(args, k + 1);
            MemorySegment[] allMem = java.util.Arrays.copyOf(memories, k + 1);
            allArgs[k] = Dnnl.ARG_SCRATCHPAD;
            allMem[k] = nat.memory(scratchMd, scratchpadBuffer);
            return nat.exec(nat.primitive(pd), allArgs, allMem);
        }

        private Dnnl.Exec reorder(MemorySegment from, MemorySegment fromMd, MemorySegment to, MemorySegment toMd,
                MemorySegment attr) {
            return exec(nat.reorderPd(fromMd, toMd, attr), new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DST},
                    new MemorySegment[] {from, to});
        }

        /** a = ReLU(conv(x, W) + b); all NHWC, W OHWI. */
        void forward(MemorySegment xs, MemorySegment ws, MemorySegment bs, MemorySegment as) {
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(b, bs);
            lib.setHandle(a, as);
            if (weightsForForward != null) {
                lib.execute(weightsForForward, stream);
            }
            lib.execute(forward, stream);
        }

        /**
         * δ = ε ⊙ 1[a > 0] over {@code as}; dW, db from (x, δ); ε_prev = conv_bwd_data(δ, W) unless
         * {@code epsNexts} is null.
         */
        void backward(MemorySegment xs, MemorySegment ws, MemorySegment as, MemorySegment epss, MemorySegment dws,
                MemorySegment dbs, MemorySegment epsNexts) {
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(a, as);
            lib.setHandle(eps, epss);
            lib.setHandle(dw, dws);
            lib.setHandle(db, dbs);
            lib.execute(reluBackward, stream);
            lib.execute(backwardWeights, stream);
            if (weightGradToUser != null) {
                lib.execute(weightGradToUser, stream);
            }
            if (epsNexts != null) {
                if (backwardData == null) {
                    throw new IllegalStateException("the first layer's plan computes no input gradient");
                }
                lib.setHandle(epsNext, epsNexts);
                if (weightsForBackwardData != null) {
                    lib.execute(weightsForBackwardData, stream);
                }
                lib.execute(backwardData, stream);
            }
        }

        @Override
        public void close() {
            nat.close();
        }
    }
}
