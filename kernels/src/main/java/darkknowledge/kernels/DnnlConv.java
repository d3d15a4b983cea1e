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

    /**
     * The oneDNN implementations a {@code DnnlConv} layer of a network runs at this batch size
     * (forward, backward-weights, backward-data, and whether its tensors are reordered), building its
     * primitives if need be; for logs and benchmarks.
     */
    public static List<String> implementations(org.deeplearning4j.nn.api.Layer layer, long batch) {
        if (!(layer instanceof Impl impl)) {
            throw new IllegalArgumentException("not a DnnlConv layer: " + layer.getClass().getName());
        }
        return List.copyOf(impl.implementations(batch));
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
     * How a plan lays out activations for oneDNN: {@code blocked} (the default) lets the convolutions
     * run on oneDNN's blocked layout, {@code nChw16c}, wherever the channels are a multiple of 16, and
     * reorders at the layer's NHWC boundary where that layout differs from NHWC; {@code nhwc} keeps
     * every tensor in NHWC (no reorders; oneDNN's NHWC kernels). System property
     * {@code darkknowledge.dnnl.layout}, read when a plan is built.
     */
    static String layout() {
        String l = System.getProperty("darkknowledge.dnnl.layout", "blocked");
        if (!l.equals("blocked") && !l.equals("nhwc")) {
            throw new IllegalArgumentException("darkknowledge.dnnl.layout must be blocked or nhwc, got " + l);
        }
        return l;
    }

    /**
     * The activation layout oneDNN computes in for a tensor of {@code channels} channels: blocked
     * {@code nChw16c} for multiples of 16, else NHWC; for one channel oneDNN's choice ({@code any}: its
     * direct kernels for a first layer take a plain source given as {@code any} and not as the equal
     * {@code nchw}/{@code nhwc} tags; checked to be plain, {@link Plan}).
     */
    static int tag(long channels, boolean blocked) {
        if (!blocked) {
            return Dnnl.TAG_NHWC;
        }
        return channels == 1 ? Dnnl.TAG_ANY : channels % 16 == 0 ? Dnnl.TAG_NCHW16C : Dnnl.TAG_NHWC;
    }

    /** Whether that layout is NHWC in memory: a layer's rows can be handed to oneDNN as they are. */
    static boolean isNhwc(long channels, int tag) {
        return tag == Dnnl.TAG_NHWC || channels == 1 || tag == Dnnl.TAG_NCHW16C && channels == 16;
    }

    /**
     * One layer's oneDNN primitives for one batch size, with memory objects for the layer's arrays
     * (pointed at the current arrays before each call) and a scratchpad of their own.
     *
     * <p>Activations: the convolutions run on {@link #tag} layouts. Where that is NHWC in memory (one
     * channel, 16 channels as {@code nChw16c}, or any count as NHWC) they read and write the layer's
     * arrays directly; otherwise the plan holds blocked copies, reordered at the boundary: forward
     * {@code x → xb}, conv into {@code ab}, {@code ab → a}; backward ReLU's {@code δ} (over {@code a})
     * {@code → δb}, backward-weights from {@code xb} (the forward pass's copy: the layer always runs
     * its forward pass on the input it then back-propagates, {@link Impl#backpropGradient}) and
     * backward-data into {@code dxb → ε_prev}. Weights: each convolution's own choice of layout,
     * reordered from and to the layer's OHWI matrix.
     */
    static final class Plan implements AutoCloseable {
        private final Dnnl lib = Dnnl.library();
        private final Dnnl.Natives nat = lib.new Natives(this);
        private final MemorySegment stream = nat.stream();
        /** The layer's arrays (handles set before each call). */
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment b;
        private final MemorySegment a;
        private final MemorySegment eps;
        private final MemorySegment dw;
        private final MemorySegment db;
        private final MemorySegment epsNext;
        /** Reorders into and out of the convolutions' layouts; null where none is needed. */
        private final Dnnl.Exec srcIn;
        private final Dnnl.Exec dstOut;
        private final Dnnl.Exec deltaIn;
        private final Dnnl.Exec diffSrcOut;
        private final Dnnl.Exec weightsForForward;
        private final Dnnl.Exec weightGradToUser;
        private final Dnnl.Exec weightsForBackwardData;
        private final Dnnl.Exec forward;
        private final Dnnl.Exec reluBackward;
        private final Dnnl.Exec backwardWeights;
        private final Dnnl.Exec backwardData;
        /** Keeps the scratchpad's memory reachable as long as the plan. */
        private final MemorySegment scratchpadBuffer;
        /** The input address of the last forward pass (whose blocked copy backward-weights reads). */
        private long forwardInput;
        final List<String> implementations = new ArrayList<>();

        Plan(Im2colConv c, long n, boolean first) {
            long ch = c.channels();
            long f = c.getNOut();
            long pad = (c.kernel() - 1) / 2;
            boolean blocked = layout().equals("blocked");
            long[] srcDims = {n, ch, c.height(), c.width()};
            long[] dstDims = {n, f, c.height(), c.width()};
            int srcTag = tag(ch, blocked);
            int dstTag = tag(f, blocked);
            MemorySegment srcMd = nat.md(srcDims, srcTag);
            MemorySegment dstMd = nat.md(dstDims, dstTag);
            boolean srcDirect = isNhwc(ch, srcTag);
            boolean dstDirect = isNhwc(f, dstTag);
            MemorySegment wMd = nat.md(new long[] {f, ch, c.kernel(), c.kernel()}, Dnnl.TAG_OHWI);
            MemorySegment anyWMd = nat.md(new long[] {f, ch, c.kernel(), c.kernel()}, Dnnl.TAG_ANY);
            MemorySegment bMd = nat.md(new long[] {f}, Dnnl.TAG_A);
            MemorySegment attr = nat.attr(false);

            MemorySegment fwdPd = nat.convForwardPd(srcMd, anyWMd, bMd, dstMd, pad, nat.attr(true));
            if (srcTag == Dnnl.TAG_ANY) {
                srcMd = lib.queryMd(fwdPd, Dnnl.QUERY_SRC_MD);
                if (!lib.sameMd(srcMd, nat.md(srcDims, Dnnl.TAG_NCHW)) || lib.size(srcMd) != 4 * n * ch
                        * c.height() * c.width()) {
                    throw new IllegalStateException("oneDNN chose a source layout for " + ch + " channel(s) that is "
                            + "not plain (" + lib.size(srcMd) + " bytes, implementation " + lib.implementation(fwdPd)
                            + "); set -Ddarkknowledge.dnnl.layout=nhwc");
                }
            }
            MemorySegment userSrcMd = srcDirect ? srcMd : nat.md(srcDims, Dnnl.TAG_NHWC);
            MemorySegment userDstMd = dstDirect ? dstMd : nat.md(dstDims, Dnnl.TAG_NHWC);
            MemorySegment bwdWPd = nat.convBackwardWeightsPd(srcMd, anyWMd, bMd, dstMd, pad, fwdPd, attr);
            MemorySegment bwdDPd = first ? null : nat.convBackwardDataPd(srcMd, anyWMd, dstMd, pad, fwdPd, attr);
            MemorySegment reluFwdPd = nat.reluForwardPd(userDstMd, attr);
            MemorySegment reluBwdPd = nat.reluBackwardPd(userDstMd, reluFwdPd, attr);
            implementations.add("fwd " + lib.implementation(fwdPd));
            implementations.add("bwd_w " + lib.implementation(bwdWPd));
            if (bwdDPd != null) {
                implementations.add("bwd_d " + lib.implementation(bwdDPd));
            }
            implementations.add("src " + (srcDirect ? "as is" : "reordered") + ", dst "
                    + (dstDirect ? "as is" : "reordered"));

            x = nat.memory(userSrcMd, MemorySegment.NULL);
            w = nat.memory(wMd, MemorySegment.NULL);
            b = nat.memory(bMd, MemorySegment.NULL);
            a = nat.memory(userDstMd, MemorySegment.NULL);
            eps = nat.memory(userDstMd, MemorySegment.NULL);
            dw = nat.memory(wMd, MemorySegment.NULL);
            db = nat.memory(bMd, MemorySegment.NULL);
            epsNext = first ? null : nat.memory(userSrcMd, MemorySegment.NULL);

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

            // Activations in the convolutions' layouts: the layer's arrays, or the plan's copies.
            MemorySegment xb = srcDirect ? x : nat.memory(srcMd, null);
            MemorySegment ab = dstDirect ? a : nat.memory(dstMd, null);  // forward's output, then δ
            MemorySegment dxb = srcDirect || first ? epsNext : nat.memory(srcMd, null);
            srcIn = srcDirect ? null : reorder(x, userSrcMd, xb, srcMd, attr);
            dstOut = dstDirect ? null : reorder(ab, dstMd, a, userDstMd, attr);
            deltaIn = dstDirect ? null : reorder(a, userDstMd, ab, dstMd, attr);
            diffSrcOut = srcDirect || first ? null : reorder(dxb, srcMd, epsNext, userSrcMd, attr);

            MemorySegment fwdW = lib.queryMd(fwdPd, Dnnl.QUERY_WEIGHTS_MD);
            MemorySegment wFwd = lib.sameMd(fwdW, wMd) ? w : nat.memory(fwdW, null);
            weightsForForward = wFwd == w ? null : reorder(w, wMd, wFwd, fwdW, attr);
            forward = exec(fwdPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS, Dnnl.ARG_DST},
                    new MemorySegment[] {xb, wFwd, b, ab});
            // δ = ε ⊙ 1[a > 0], written over a
            reluBackward = exec(reluBwdPd, new int[] {Dnnl.ARG_DST, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_SRC},
                    new MemorySegment[] {a, eps, a});

            MemorySegment bwdDw = lib.queryMd(bwdWPd, Dnnl.QUERY_DIFF_WEIGHTS_MD);
            MemorySegment dwOut = lib.sameMd(bwdDw, wMd) ? dw : nat.memory(bwdDw, null);
            weightGradToUser = dwOut == dw ? null : reorder(dwOut, bwdDw, dw, wMd, attr);
            backwardWeights = exec(bwdWPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_WEIGHTS,
                Dnnl.ARG_DIFF_BIAS}, new MemorySegment[] {xb, ab, dwOut, db});

            if (bwdDPd != null) {
                MemorySegment bwdW = lib.queryMd(bwdDPd, Dnnl.QUERY_WEIGHTS_MD);
                MemorySegment wBwd = lib.sameMd(bwdW, wMd) ? w : nat.memory(bwdW, null);
                weightsForBackwardData = wBwd == w ? null : reorder(w, wMd, wBwd, bwdW, attr);
                backwardData = exec(bwdDPd, new int[] {Dnnl.ARG_DIFF_DST, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DIFF_SRC},
                        new MemorySegment[] {ab, wBwd, dxb});
            } else {
                weightsForBackwardData = null;
                backwardData = null;
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

        private void run(Dnnl.Exec e) {
            if (e != null) {
                lib.execute(e, stream);
            }
        }

        /** a = ReLU(conv(x, W) + b); x, a NHWC, W OHWI. */
        void forward(MemorySegment xs, MemorySegment ws, MemorySegment bs, MemorySegment as) {
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(b, bs);
            lib.setHandle(a, as);
            run(srcIn);
            run(weightsForForward);
            run(forward);
            run(dstOut);
            forwardInput = xs.address();
        }

        /**
         * δ = ε ⊙ 1[a > 0] over {@code as}; dW, db from (x, δ); ε_prev = conv_bwd_data(δ, W) unless
         * {@code epsNexts} is null. {@code as} must be the output of the last {@link #forward} of
         * this plan, and {@code xs} its input.
         */
        void backward(MemorySegment xs, MemorySegment ws, MemorySegment as, MemorySegment epss, MemorySegment dws,
                MemorySegment dbs, MemorySegment epsNexts) {
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(a, as);
            lib.setHandle(eps, epss);
            lib.setHandle(dw, dws);
            lib.setHandle(db, dbs);
            if (srcIn != null && forwardInput != xs.address()) {
                run(srcIn);  // not the last forward pass's input: its blocked copy is stale
            }
            run(reluBackward);
            run(deltaIn);
            run(backwardWeights);
            run(weightGradToUser);
            if (epsNexts != null) {
                if (backwardData == null) {
                    throw new IllegalStateException("the first layer's plan computes no input gradient");
                }
                lib.setHandle(epsNext, epsNexts);
                run(weightsForBackwardData);
                run(backwardData);
                run(diffSrcOut);
            }
        }

        @Override
        public void close() {
            nat.close();
        }
    }
}
