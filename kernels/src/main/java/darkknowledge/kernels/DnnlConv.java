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
 * <p>Per step: forward is one convolution with the bias and a ReLU post-op writing the output
 * {@code a}; backward is oneDNN's ReLU backward from the output, {@code δ = ε ⊙ 1[a > 0]} (written
 * over {@code a}, as {@link Im2colConv} does), its backward-weights convolution giving {@code dW} and
 * {@code db} at once, and its backward-data convolution giving {@code ε_prev} (skipped for the
 * network's first layer, whose input gradient nobody reads). The layer's inputs, outputs and
 * gradients stay NHWC rows; the weights are our {@code [kernel²·channels, filters]} 'f'-ordered
 * matrix, which is oneDNN's OHWI ({@code dnnl_ohwi}). Inside, where channels (or a single one) and
 * filters are multiples of 16 the convolutions run on oneDNN's blocked layout {@code nChw16c} (its
 * direct JIT kernels, about twice as fast on the glyph net as its NHWC ones): for 16 channels that
 * layout is NHWC itself, for 32 the tensors are reordered at the layer's boundary into arrays taken
 * from DL4J's workspaces ({@link Plan}). Each convolution chooses its weights layout
 * ({@code dnnl_format_tag_any}); the weights are reordered before it runs and the weight gradient
 * after (a few thousand values).
 *
 * <p>Primitives are built per batch size (the last {@link #PLANS} sizes are kept: the training
 * batch, the epoch's last partial batch, the evaluation chunks), the backward ones only for sizes
 * that are trained on, each plan with its own user-managed scratchpad, so layers of networks trained
 * in parallel threads share no state. Float32 only; the fp32 math is strict (no bf16 or TF32
 * shortcuts); direct convolution (no Winograd). When oneDNN cannot be loaded, building the network
 * fails with an error naming what is missing. {@code DnnlConvTest} checks outputs and gradients
 * against DL4J's {@code ConvolutionLayer} and {@link Im2colConv}.
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

    /** "oneDNN 3.6.1 (hash) of org.bytedeco:dnnl:3.6.1-1.5.11, ISA avx512_core_bf16" (loads the library). */
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
        /** The training forward pass's blocked copy of its input (null where the plan reads x as it is). */
        private INDArray outputCopy;
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
                p = Plan.of(layerConf(), n, getIndex() == 0);
                plans.put(n, p);
            }
            return p;
        }

        /** The implementations oneDNN chose for this batch size: forward, backward-weights, backward-data. */
        List<String> implementations(long n) {
            Plan p = plan(n);
            p.backwardPrimitives();
            return p.implementations;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            forget();
            INDArray a = forward(ArrayType.ACTIVATIONS, training ? ArrayType.ACTIVATIONS : ArrayType.FF_WORKING_MEM,
                    ArrayType.FF_WORKING_MEM, workspaceMgr);
            if (training) {
                output = a;
                outputInput = input;
            } else {
                outputCopy = null;
            }
            return a;
        }

        /**
         * a = ReLU(conv(x, W) + b) as [N, H·W·filters], in an array of {@code outType}; the blocked copy
         * of x where the plan needs one in {@code copyType} (kept in {@link #outputCopy} for the backward
         * pass), its blocked output in {@code tempType}.
         */
        private INDArray forward(ArrayType outType, ArrayType copyType, ArrayType tempType,
                LayerWorkspaceMgr workspaceMgr) {
            Im2colConv c = layerConf();
            INDArray x = rows(input, c.inputSize(), "input");
            long n = x.size(0);
            Plan p = plan(n);
            INDArray a = workspaceMgr.createUninitialized(outType, DataType.FLOAT, new long[] {n, c.outputSize()}, 'c');
            outputCopy = buffer(p.srcCopyBytes(), copyType, workspaceMgr);
            INDArray ab = buffer(p.dstCopyBytes(), tempType, workspaceMgr);
            try {
                p.forward(segment(x), weights(getParam(DefaultParamInitializer.WEIGHT_KEY), "W"),
                        segment(getParam(DefaultParamInitializer.BIAS_KEY)), segment(a), segmentOrNull(outputCopy),
                        segmentOrNull(ab));
            } finally {
                Im2colConv.alive(this, x, ab);
            }
            return a;
        }

        /** A float buffer of {@code bytes} in a DL4J workspace, or null for none. */
        private static INDArray buffer(long bytes, ArrayType type, LayerWorkspaceMgr workspaceMgr) {
            return bytes == 0 ? null : workspaceMgr.createUninitialized(type, DataType.FLOAT, new long[] {bytes / 4},
                    'c');
        }

        private static MemorySegment segmentOrNull(INDArray a) {
            return a == null ? null : segment(a);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            Im2colConv c = layerConf();
            INDArray a = output;
            if (a == null || outputInput != input) {
                a = forward(ArrayType.BP_WORKING_MEM, ArrayType.BP_WORKING_MEM, ArrayType.BP_WORKING_MEM,
                        workspaceMgr);
            }
            INDArray xb = outputCopy;
            forget();
            INDArray x = rows(input, c.inputSize(), "input");
            long n = x.size(0);
            Plan p = plan(n);
            INDArray eps = rows(epsilon, c.outputSize(), "epsilon");
            boolean first = getIndex() == 0;
            INDArray epsNext = first ? null : workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD,
                    DataType.FLOAT, new long[] {n, c.inputSize()}, 'c');
            INDArray deltaB = buffer(p.dstCopyBytes(), ArrayType.BP_WORKING_MEM, workspaceMgr);
            INDArray dxb = first ? null : buffer(p.srcCopyBytes(), ArrayType.BP_WORKING_MEM, workspaceMgr);
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            try {
                p.backward(segment(x), segmentOrNull(xb), weights(getParam(DefaultParamInitializer.WEIGHT_KEY), "W"),
                        segment(a), segment(eps), segmentOrNull(deltaB), weights(weightGrad, "dW"), segment(biasGrad),
                        first ? null : segment(epsNext), segmentOrNull(dxb));
            } finally {
                Im2colConv.alive(this, x, xb, a, eps, deltaB, dxb);
            }
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
            outputCopy = null;
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
     * Whether a convolution of {@code channels → filters} runs on oneDNN's blocked layout
     * ({@code nChw16c}): with {@code darkknowledge.dnnl.layout=blocked}, where the filters are a
     * multiple of 16 and the channels too (or 1: a first layer). Mixed layouts (a plain NHWC source of,
     * say, 8 channels into a blocked destination) fall to oneDNN's reference kernel, so any other
     * count keeps NHWC on both sides.
     */
    static boolean blocked(long channels, long filters) {
        return layout().equals("blocked") && filters % 16 == 0 && (channels == 1 || channels % 16 == 0);
    }

    /**
     * One layer's oneDNN primitives for one batch size, with memory objects for the layer's arrays
     * (pointed at the current arrays before each call) and scratchpads of their own. The forward
     * primitives are built with the plan, the backward ones at its first backward pass (an inference
     * batch size never builds them).
     *
     * <p>Activations: blocked ({@link #blocked}) or NHWC. Where the layout is NHWC in memory (NHWC
     * itself, one channel, or 16 channels as {@code nChw16c}) the convolutions read and write the
     * layer's arrays directly; otherwise they work on blocked copies in arrays the layer takes from
     * DL4J's workspaces ({@link #srcCopyBytes}, {@link #dstCopyBytes}): forward {@code x → xb}, conv
     * into {@code ab}, {@code ab → a}; backward ReLU's {@code δ} (over {@code a}) {@code → δb},
     * backward-weights from the forward pass's {@code xb}, backward-data into {@code dxb → ε_prev}.
     * Weights: each convolution's own choice of layout, reordered from and to the layer's OHWI matrix
     * (a few thousand values).
     */
    static final class Plan implements AutoCloseable {
        private final Dnnl lib = Dnnl.library();
        private final Dnnl.Natives nat = lib.new Natives(this);
        private final MemorySegment stream = nat.stream();
        private final Im2colConv conv;
        private final long n;
        private final boolean first;
        private final long pad;
        private final MemorySegment srcMd;
        private final MemorySegment dstMd;
        private final MemorySegment userSrcMd;
        private final MemorySegment userDstMd;
        private final MemorySegment wMd;
        private final MemorySegment anyWMd;
        private final MemorySegment bMd;
        private final MemorySegment attr;
        private final MemorySegment fwdPd;
        private final boolean srcDirect;
        private final boolean dstDirect;
        /** The layer's arrays and the blocked copies (handles set before each call). */
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment b;
        private final MemorySegment a;
        private final MemorySegment xb;
        private final MemorySegment ab;
        private MemorySegment eps;
        private MemorySegment dw;
        private MemorySegment db;
        private MemorySegment epsNext;
        private MemorySegment dxb;
        /** Reorders into and out of the convolutions' layouts; null where none is needed. */
        private final Dnnl.Exec srcIn;
        private final Dnnl.Exec dstOut;
        private final Dnnl.Exec weightsForForward;
        private final Dnnl.Exec forward;
        private Dnnl.Exec deltaIn;
        private Dnnl.Exec diffSrcOut;
        private Dnnl.Exec weightGradToUser;
        private Dnnl.Exec weightsForBackwardData;
        private Dnnl.Exec reluBackward;
        private Dnnl.Exec backwardWeights;
        private Dnnl.Exec backwardData;
        private boolean backwardBuilt;
        /** The scratchpads of the forward and of the backward primitives (kept reachable by the plan). */
        private MemorySegment forwardScratch;
        private MemorySegment backwardScratch;
        final List<String> implementations = new ArrayList<>();

        /** A plan on the layout {@link #blocked} names, or NHWC where oneDNN has only its reference kernel for that. */
        static Plan of(Im2colConv c, long n, boolean first) {
            boolean blocked = blocked(c.channels(), c.getNOut());
            Plan p = new Plan(c, n, first, blocked);
            if (blocked && p.implementations.getFirst().contains("ref:")) {
                p.close();
                p = new Plan(c, n, first, false);
            }
            return p;
        }

        private Plan(Im2colConv c, long n, boolean first, boolean blocked) {
            this.conv = c;
            this.n = n;
            this.first = first;
            long ch = c.channels();
            long f = c.getNOut();
            pad = (c.kernel() - 1) / 2;
            long[] srcDims = {n, ch, c.height(), c.width()};
            long[] dstDims = {n, f, c.height(), c.width()};
            // one channel: its direct kernels take a plain source only as 'any' (the equal nchw/nhwc tags
            // fall to the reference kernel); checked plain below
            int srcTag = !blocked ? Dnnl.TAG_NHWC : ch == 1 ? Dnnl.TAG_ANY : Dnnl.TAG_NCHW16C;
            int dstTag = blocked ? Dnnl.TAG_NCHW16C : Dnnl.TAG_NHWC;
            MemorySegment src = nat.md(srcDims, srcTag);
            dstMd = nat.md(dstDims, dstTag);
            srcDirect = !blocked || ch == 1 || ch == 16;
            dstDirect = !blocked || f == 16;
            wMd = nat.md(new long[] {f, ch, c.kernel(), c.kernel()}, Dnnl.TAG_OHWI);
            anyWMd = nat.md(new long[] {f, ch, c.kernel(), c.kernel()}, Dnnl.TAG_ANY);
            bMd = nat.md(new long[] {f}, Dnnl.TAG_A);
            attr = nat.attr(false);
            fwdPd = nat.convForwardPd(src, anyWMd, bMd, dstMd, pad, nat.attr(true));
            if (srcTag == Dnnl.TAG_ANY) {
                src = lib.queryMd(fwdPd, Dnnl.QUERY_SRC_MD);
                if (!lib.sameMd(src, nat.md(srcDims, Dnnl.TAG_NCHW)) || lib.size(src) != 4 * n * ch * c.height()
                        * c.width()) {
                    throw new IllegalStateException("oneDNN chose a source layout for one channel that is not plain ("
                            + lib.size(src) + " bytes, " + lib.implementation(fwdPd)
                            + "); -Ddarkknowledge.dnnl.layout=nhwc avoids it");
                }
            }
            srcMd = src;
            userSrcMd = srcDirect ? srcMd : nat.md(srcDims, Dnnl.TAG_NHWC);
            userDstMd = dstDirect ? dstMd : nat.md(dstDims, Dnnl.TAG_NHWC);
            implementations.add("fwd " + lib.implementation(fwdPd));

            x = nat.memory(userSrcMd, MemorySegment.NULL);
            w = nat.memory(wMd, MemorySegment.NULL);
            b = nat.memory(bMd, MemorySegment.NULL);
            a = nat.memory(userDstMd, MemorySegment.NULL);
            xb = srcDirect ? x : nat.memory(srcMd, MemorySegment.NULL);
            ab = dstDirect ? a : nat.memory(dstMd, MemorySegment.NULL);  // forward's output, then δ

            MemorySegment fwdW = lib.queryMd(fwdPd, Dnnl.QUERY_WEIGHTS_MD);
            MemorySegment wFwd = lib.sameMd(fwdW, wMd) ? w : nat.memory(fwdW, null);
            forwardScratch = scratchpad(fwdPd);
            srcIn = srcDirect ? null : reorder(x, userSrcMd, xb, srcMd, forwardScratch);
            dstOut = dstDirect ? null : reorder(ab, dstMd, a, userDstMd, forwardScratch);
            weightsForForward = wFwd == w ? null : reorder(w, wMd, wFwd, fwdW, forwardScratch);
            forward = exec(fwdPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_WEIGHTS, Dnnl.ARG_BIAS, Dnnl.ARG_DST},
                    new MemorySegment[] {xb, wFwd, b, ab}, forwardScratch);
        }

        /** Bytes of the blocked copy of x the forward pass needs (0: it reads x as it is). */
        long srcCopyBytes() {
            return srcDirect ? 0 : lib.size(srcMd);
        }

        /** Bytes of the blocked copy of a (and of δ) the passes need (0: they use a as it is). */
        long dstCopyBytes() {
            return dstDirect ? 0 : lib.size(dstMd);
        }

        /** The backward primitives, built on first use. */
        void backwardPrimitives() {
            if (backwardBuilt) {
                return;
            }
            MemorySegment bwdWPd = nat.convBackwardWeightsPd(srcMd, anyWMd, bMd, dstMd, pad, fwdPd, attr);
            MemorySegment bwdDPd = first ? null : nat.convBackwardDataPd(srcMd, anyWMd, dstMd, pad, fwdPd, attr);
            MemorySegment reluBwdPd = nat.reluBackwardPd(userDstMd, nat.reluForwardPd(userDstMd, attr), attr);
            implementations.add("bwd_w " + lib.implementation(bwdWPd));
            if (bwdDPd != null) {
                implementations.add("bwd_d " + lib.implementation(bwdDPd));
            }
            implementations.add("src " + (srcDirect ? "as is" : "reordered") + ", dst "
                    + (dstDirect ? "as is" : "reordered"));
            backwardScratch = bwdDPd == null ? scratchpad(bwdWPd, reluBwdPd) : scratchpad(bwdWPd, reluBwdPd, bwdDPd);

            eps = nat.memory(userDstMd, MemorySegment.NULL);
            dw = nat.memory(wMd, MemorySegment.NULL);
            db = nat.memory(bMd, MemorySegment.NULL);
            epsNext = first ? null : nat.memory(userSrcMd, MemorySegment.NULL);
            dxb = srcDirect || first ? epsNext : nat.memory(srcMd, MemorySegment.NULL);
            deltaIn = dstDirect ? null : reorder(a, userDstMd, ab, dstMd, backwardScratch);
            diffSrcOut = srcDirect || first ? null : reorder(dxb, srcMd, epsNext, userSrcMd, backwardScratch);
            // δ = ε ⊙ 1[a > 0], written over a
            reluBackward = exec(reluBwdPd, new int[] {Dnnl.ARG_DST, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_SRC},
                    new MemorySegment[] {a, eps, a}, backwardScratch);

            MemorySegment bwdDw = lib.queryMd(bwdWPd, Dnnl.QUERY_DIFF_WEIGHTS_MD);
            MemorySegment dwOut = lib.sameMd(bwdDw, wMd) ? dw : nat.memory(bwdDw, null);
            weightGradToUser = dwOut == dw ? null : reorder(dwOut, bwdDw, dw, wMd, backwardScratch);
            backwardWeights = exec(bwdWPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_WEIGHTS,
                Dnnl.ARG_DIFF_BIAS}, new MemorySegment[] {xb, ab, dwOut, db}, backwardScratch);
            if (bwdDPd != null) {
                MemorySegment bwdW = lib.queryMd(bwdDPd, Dnnl.QUERY_WEIGHTS_MD);
                MemorySegment wBwd = lib.sameMd(bwdW, wMd) ? w : nat.memory(bwdW, null);
                weightsForBackwardData = wBwd == w ? null : reorder(w, wMd, wBwd, bwdW, backwardScratch);
                backwardData = exec(bwdDPd, new int[] {Dnnl.ARG_DIFF_DST, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DIFF_SRC},
                        new MemorySegment[] {ab, wBwd, dxb}, backwardScratch);
            }
            backwardBuilt = true;
        }

        private MemorySegment scratchpad(MemorySegment... pds) {
            return nat.scratchpad(pds);
        }

        private Dnnl.Exec exec(MemorySegment pd, int[] args, MemorySegment[] memories, MemorySegment scratch) {
            return nat.exec(pd, args, memories, scratch);
        }

        /** A reorder (its scratchpad, if any, on {@code scratch}, grown if need be). */
        private Dnnl.Exec reorder(MemorySegment from, MemorySegment fromMd, MemorySegment to, MemorySegment toMd,
                MemorySegment scratch) {
            MemorySegment pd = nat.reorderPd(fromMd, toMd, attr);
            long need = lib.size(lib.queryMd(pd, Dnnl.QUERY_SCRATCHPAD_MD));
            MemorySegment s = need > scratch.byteSize() ? Arena.ofAuto().allocate(need, 64) : scratch;
            if (s != scratch) {
                reorderScratch.add(s);
            }
            return exec(pd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DST}, new MemorySegment[] {from, to}, s);
        }

        /** Scratchpads of reorders larger than their phase's (kept reachable by the plan). */
        private final List<MemorySegment> reorderScratch = new ArrayList<>();

        private void run(Dnnl.Exec e) {
            if (e != null) {
                lib.execute(e, stream);
            }
        }

        private void handle(MemorySegment memory, MemorySegment buffer, String what) {
            if (memory == null) {
                return;
            }
            if (buffer == null) {
                throw new IllegalArgumentException("the plan needs a buffer for " + what);
            }
            lib.setHandle(memory, buffer);
        }

        /**
         * a = ReLU(conv(x, W) + b); x, a NHWC, W OHWI; {@code xbs}, {@code abs}: buffers of
         * {@link #srcCopyBytes} and {@link #dstCopyBytes} (null where 0), the first kept for the
         * backward pass.
         */
        void forward(MemorySegment xs, MemorySegment ws, MemorySegment bs, MemorySegment as, MemorySegment xbs,
                MemorySegment abs) {
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(b, bs);
            lib.setHandle(a, as);
            handle(srcDirect ? null : xb, xbs, "the blocked input");
            handle(dstDirect ? null : ab, abs, "the blocked output");
            run(srcIn);
            run(weightsForForward);
            run(forward);
            run(dstOut);
        }

        /**
         * δ = ε ⊙ 1[a > 0] over {@code as}; dW, db from (x, δ); ε_prev = conv_bwd_data(δ, W) unless
         * {@code epsNexts} is null. {@code as} is the output of the forward pass on {@code xs}, and
         * {@code xbs} that pass's blocked copy of it; {@code deltaBs}, {@code dxbs}: buffers of
         * {@link #dstCopyBytes} and {@link #srcCopyBytes} (null where 0 or no input gradient).
         */
        void backward(MemorySegment xs, MemorySegment xbs, MemorySegment ws, MemorySegment as, MemorySegment epss,
                MemorySegment deltaBs, MemorySegment dws, MemorySegment dbs, MemorySegment epsNexts,
                MemorySegment dxbs) {
            backwardPrimitives();
            lib.setHandle(x, xs);
            lib.setHandle(w, ws);
            lib.setHandle(a, as);
            lib.setHandle(eps, epss);
            lib.setHandle(dw, dws);
            lib.setHandle(db, dbs);
            handle(srcDirect ? null : xb, xbs, "the forward pass's blocked input");
            handle(dstDirect ? null : ab, deltaBs, "the blocked δ");
            run(reluBackward);
            run(deltaIn);
            run(backwardWeights);
            run(weightGradToUser);
            if (epsNexts != null) {
                if (backwardData == null) {
                    throw new IllegalStateException("the first layer's plan computes no input gradient");
                }
                lib.setHandle(epsNext, epsNexts);
                handle(srcDirect ? null : dxb, dxbs, "the blocked input gradient");
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
