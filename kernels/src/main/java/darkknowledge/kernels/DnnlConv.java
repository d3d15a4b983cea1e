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
import org.nd4j.shade.jackson.annotation.JsonProperty;

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
 * in parallel threads share no state. In {@link Precision#FP32} (the default) the math is strict
 * fp32 (no bf16 or TF32 shortcuts); direct convolution (no Winograd). When oneDNN cannot be loaded,
 * building the network fails with an error naming what is missing. {@code DnnlConvTest} checks
 * outputs and gradients against DL4J's {@code ConvolutionLayer} and {@link Im2colConv}.
 *
 * <p><b>bf16</b> ({@link Precision#BF16}, {@code conv.precision=bf16}): mixed precision as CPU
 * autocast does it. The three convolutions take bfloat16 operands (x, W and δ rounded to nearest
 * even by oneDNN's own reorders from the layer's fp32 arrays) and accumulate in fp32; their results
 * are written in fp32: the output {@code a} (bias and ReLU added in fp32), the weight and bias
 * gradients ({@code diff_weights}, {@code diff_bias} f32: the weight gradient is never rounded) and
 * {@code ε_prev}. W stays the fp32 master copy the optimiser updates, and everything between the
 * layers (pooling, the dense layers, the loss) stays fp32, so a bf16 layer is a drop-in for an fp32
 * one. The relative error of each rounded operand is at most 2⁻⁸ (Micikevicius et al. 2018, "Mixed
 * Precision Training", ICLR; Kalamkar et al. 2019, "A Study of BFLOAT16 for Deep Learning
 * Training", arXiv:1905.12322). Needs a CPU with {@code avx512_bf16} or {@code amx_bf16}
 * ({@link #bf16Unsupported}), where oneDNN runs bf16 on the CPU's own dot-product instructions.
 * {@code DnnlConvBf16Test} checks outputs and gradients against the fp32 layer.
 */
public class DnnlConv extends Im2colConv {
    /** Batch sizes whose primitives a layer keeps. */
    private static final int PLANS = 4;

    /** bfloat16 operands ({@link Precision#BF16}); false in nets saved before it existed. */
    @JsonProperty
    private boolean bf16;

    /** For JSON deserialisation of saved models. */
    public DnnlConv() {
        super();
    }

    /** As {@link Im2colConv#of}, computed by oneDNN in fp32. */
    public static DnnlConv of(int height, int width, int channels, int kernel, int filters) {
        return of(height, width, channels, kernel, filters, Precision.FP32);
    }

    /**
     * As {@link Im2colConv#of}, computed by oneDNN in {@code precision}; an
     * {@link UnsupportedOperationException} naming the reason for bf16 where the CPU lacks it.
     */
    public static DnnlConv of(int height, int width, int channels, int kernel, int filters, Precision precision) {
        if (precision == Precision.BF16 && bf16Unsupported() != null) {
            throw new UnsupportedOperationException("a DnnlConv layer in bf16 needs bfloat16 instructions, which this "
                    + "machine lacks: " + bf16Unsupported() + ". Use precision fp32 here.");
        }
        DnnlConv c = geometry(new DnnlConv(), height, width, channels, kernel, filters);
        c.bf16 = precision == Precision.BF16;
        return c;
    }

    /** The precision of this layer's convolutions. */
    public Precision precision() {
        return bf16 ? Precision.BF16 : Precision.FP32;
    }

    /**
     * Null when bf16 convolutions run here, else why not: the CPU's flags lack both
     * {@code avx512_bf16} and {@code amx_bf16} ({@link Cpu#bf16Unsupported}; oneDNN would otherwise
     * emulate bf16 with fp32 instructions, slower than fp32 itself). Reads /proc/cpuinfo; does not load
     * oneDNN.
     */
    public static String bf16Unsupported() {
        return Cpu.bf16Unsupported(Cpu.info());
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && ((DnnlConv) o).bf16 == bf16;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Boolean.hashCode(bf16);
    }

    @Override
    public String toString() {
        return super.toString() + (bf16 ? " bf16" : "");
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
                p = Plan.of((DnnlConv) layerConf(), n, getIndex() == 0);
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
            return bytes == 0 ? null : workspaceMgr.createUninitialized(type, DataType.FLOAT,
                    new long[] {(bytes + 3) / 4}, 'c');
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
            INDArray deltaB = buffer(p.deltaCopyBytes(), ArrayType.BP_WORKING_MEM, workspaceMgr);
            INDArray dxb = first ? null : buffer(p.diffSrcCopyBytes(), ArrayType.BP_WORKING_MEM, workspaceMgr);
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
     *
     * <p>In bf16 the convolutions' operands are bf16 copies: x, W and δ are reordered (rounded) into
     * them before each call, in the layout the fp32 plan would use, whatever the channels; their
     * outputs (a, dW, db, ε_prev) are fp32 in the fp32 plan's layouts, read or reordered as there.
     */
    static final class Plan implements AutoCloseable {
        private final Dnnl lib = Dnnl.library();
        private final Dnnl.Natives nat = lib.new Natives(this);
        private final MemorySegment stream = nat.stream();
        private final Im2colConv conv;
        private final long n;
        private final boolean first;
        private final boolean bf16;
        private final long pad;
        private final long[] srcDims;
        private final MemorySegment srcMd;
        private final MemorySegment dstMd;
        private final MemorySegment userSrcMd;
        private final MemorySegment userDstMd;
        private final MemorySegment wMd;
        private final MemorySegment anyWMd;
        /** The weight gradient's descriptor: fp32, the primitive's choice of layout. */
        private final MemorySegment anyDiffWMd;
        /** δ as the backward convolutions read it: {@link #dstMd}'s layout, their operand type. */
        private final MemorySegment deltaMd;
        /** ε_prev as backward-data writes it: fp32, {@link #srcMd}'s layout (fp32: srcMd itself). */
        private final MemorySegment diffSrcMd;
        private final MemorySegment userDiffSrcMd;
        private final boolean diffSrcDirect;
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
        /** δ as the backward convolutions read it ({@link #ab} in fp32). */
        private MemorySegment delta;
        /** Reorders into and out of the convolutions' layouts; null where none is needed. */
        private final Dnnl.Exec srcIn;
        private final Dnnl.Exec dstOut;
        private final Dnnl.Exec weightsForForward;
        private final Dnnl.Exec forward;
        private Dnnl.Exec deltaIn;
        /** x rounded into the layout bf16 backward-weights wants where it differs from the forward's; else null. */
        private Dnnl.Exec srcInForWeights;
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
        static Plan of(DnnlConv c, long n, boolean first) {
            boolean blocked = blocked(c.channels(), c.getNOut());
            Plan p = new Plan(c, n, first, blocked, c.bf16);
            if (blocked && p.implementations.getFirst().contains("ref:")) {
                p.close();
                p = new Plan(c, n, first, false, c.bf16);
            }
            return p;
        }

        private Plan(Im2colConv c, long n, boolean first, boolean blocked, boolean bf16) {
            this.conv = c;
            this.n = n;
            this.first = first;
            this.bf16 = bf16;
            int operands = bf16 ? Dnnl.BF16 : Dnnl.F32;
            long ch = c.channels();
            long f = c.getNOut();
            pad = (c.kernel() - 1) / 2;
            srcDims = new long[] {n, ch, c.height(), c.width()};
            long[] dstDims = {n, f, c.height(), c.width()};
            // one channel: its direct kernels take a plain source only as 'any' (the equal nchw/nhwc tags
            // fall to the reference kernel); checked plain below
            int srcTag = !blocked ? Dnnl.TAG_NHWC : ch == 1 ? Dnnl.TAG_ANY : Dnnl.TAG_NCHW16C;
            int dstTag = blocked ? Dnnl.TAG_NCHW16C : Dnnl.TAG_NHWC;
            MemorySegment src = nat.md(srcDims, srcTag, operands);
            dstMd = nat.md(dstDims, dstTag);  // fp32 in both precisions
            // where the fp32 layout is NHWC in memory; bf16 operands are always copies
            diffSrcDirect = !blocked || ch == 1 || ch == 16;
            srcDirect = !bf16 && diffSrcDirect;
            dstDirect = !blocked || f == 16;
            long[] wDims = {f, ch, c.kernel(), c.kernel()};
            wMd = nat.md(wDims, Dnnl.TAG_OHWI);
            anyWMd = nat.md(wDims, Dnnl.TAG_ANY, operands);
            anyDiffWMd = bf16 ? nat.md(wDims, Dnnl.TAG_ANY) : anyWMd;
            bMd = nat.md(new long[] {f}, Dnnl.TAG_A);
            attr = nat.attr(false);
            fwdPd = nat.convForwardPd(src, anyWMd, bMd, dstMd, pad, nat.attr(true));
            if (srcTag == Dnnl.TAG_ANY) {
                src = lib.queryMd(fwdPd, Dnnl.QUERY_SRC_MD);
                // read as it is in fp32, so it must be plain; bf16 reorders into whatever it is
                if (!bf16 && (!lib.sameMd(src, nat.md(srcDims, Dnnl.TAG_NCHW))
                        || lib.size(src) != 4 * n * ch * c.height() * c.width())) {
                    throw new IllegalStateException("oneDNN chose a source layout for one channel that is not plain ("
                            + lib.size(src) + " bytes, " + lib.implementation(fwdPd)
                            + "); -Ddarkknowledge.dnnl.layout=nhwc avoids it");
                }
            }
            srcMd = src;
            userSrcMd = srcDirect ? srcMd : nat.md(srcDims, Dnnl.TAG_NHWC);
            userDstMd = dstDirect ? dstMd : nat.md(dstDims, Dnnl.TAG_NHWC);
            deltaMd = bf16 ? nat.md(dstDims, dstTag, Dnnl.BF16) : dstMd;
            diffSrcMd = !bf16 ? srcMd : nat.md(srcDims, !blocked ? Dnnl.TAG_NHWC : ch == 1 ? Dnnl.TAG_NCHW
                    : Dnnl.TAG_NCHW16C);
            userDiffSrcMd = diffSrcDirect ? diffSrcMd : nat.md(srcDims, Dnnl.TAG_NHWC);
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

        /** Bytes of the blocked copy of a (and of δ in fp32) the passes need (0: they use a as it is). */
        long dstCopyBytes() {
            return dstDirect ? 0 : lib.size(dstMd);
        }

        /** Bytes of the copy of δ the backward convolutions read (0: δ over a as it is). */
        long deltaCopyBytes() {
            return bf16 ? lib.size(deltaMd) : dstCopyBytes();
        }

        /** Bytes of the blocked ε_prev backward-data writes before its reorder (0: it writes ε_prev itself). */
        long diffSrcCopyBytes() {
            return diffSrcDirect ? 0 : lib.size(diffSrcMd);
        }

        /** The backward primitives, built on first use. */
        void backwardPrimitives() {
            if (backwardBuilt) {
                return;
            }
            MemorySegment bwdWPd = nat.convBackwardWeightsPd(srcMd, anyDiffWMd, bMd, deltaMd, pad, fwdPd, attr);
            MemorySegment bwdWSrcMd = srcMd;
            if (bf16 && lib.implementation(bwdWPd).contains("ref")) {
                // oneDNN's bf16 weight-gradient kernels for one channel want another source layout than
                // its forward kernels: let them choose, and round x into that layout too
                MemorySegment pd = nat.convBackwardWeightsPd(nat.md(srcDims, Dnnl.TAG_ANY, Dnnl.BF16), anyDiffWMd, bMd,
                        deltaMd, pad, fwdPd, attr);
                if (!lib.implementation(pd).contains("ref")) {
                    bwdWPd = pd;
                    bwdWSrcMd = lib.queryMd(pd, Dnnl.QUERY_SRC_MD);
                }
            }
            MemorySegment bwdDPd = first ? null : nat.convBackwardDataPd(diffSrcMd, anyWMd, deltaMd, pad, fwdPd, attr);
            MemorySegment reluBwdPd = nat.reluBackwardPd(userDstMd, nat.reluForwardPd(userDstMd, attr), attr);
            implementations.add("bwd_w " + lib.implementation(bwdWPd));
            if (bwdDPd != null) {
                implementations.add("bwd_d " + lib.implementation(bwdDPd));
            }
            implementations.add((bf16 ? "bf16 operands, " : "") + "src " + (srcDirect ? "as is" : "reordered")
                    + (bwdWSrcMd == srcMd ? "" : " (and again for bwd_w)") + ", dst " + (dstDirect ? "as is"
                    : "reordered"));
            backwardScratch = bwdDPd == null ? scratchpad(bwdWPd, reluBwdPd) : scratchpad(bwdWPd, reluBwdPd, bwdDPd);

            eps = nat.memory(userDstMd, MemorySegment.NULL);
            dw = nat.memory(wMd, MemorySegment.NULL);
            db = nat.memory(bMd, MemorySegment.NULL);
            epsNext = first ? null : nat.memory(userDiffSrcMd, MemorySegment.NULL);
            dxb = diffSrcDirect || first ? epsNext : nat.memory(diffSrcMd, MemorySegment.NULL);
            delta = bf16 ? nat.memory(deltaMd, MemorySegment.NULL) : ab;
            deltaIn = bf16 || !dstDirect ? reorder(a, userDstMd, delta, deltaMd, backwardScratch) : null;
            diffSrcOut = diffSrcDirect || first ? null : reorder(dxb, diffSrcMd, epsNext, userDiffSrcMd,
                    backwardScratch);
            // δ = ε ⊙ 1[a > 0], written over a
            reluBackward = exec(reluBwdPd, new int[] {Dnnl.ARG_DST, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_SRC},
                    new MemorySegment[] {a, eps, a}, backwardScratch);

            MemorySegment bwdDw = lib.queryMd(bwdWPd, Dnnl.QUERY_DIFF_WEIGHTS_MD);
            MemorySegment dwOut = lib.sameMd(bwdDw, wMd) ? dw : nat.memory(bwdDw, null);
            weightGradToUser = dwOut == dw ? null : reorder(dwOut, bwdDw, dw, wMd, backwardScratch);
            // the plan's own buffer (one channel: a few hundred KiB), refilled from x at each backward pass
            MemorySegment xw = bwdWSrcMd == srcMd ? xb : nat.memory(bwdWSrcMd, null);
            srcInForWeights = xw == xb ? null : reorder(x, userSrcMd, xw, bwdWSrcMd, backwardScratch);
            backwardWeights = exec(bwdWPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DIFF_DST, Dnnl.ARG_DIFF_WEIGHTS,
                Dnnl.ARG_DIFF_BIAS}, new MemorySegment[] {xw, delta, dwOut, db}, backwardScratch);
            if (bwdDPd != null) {
                MemorySegment bwdW = lib.queryMd(bwdDPd, Dnnl.QUERY_WEIGHTS_MD);
                MemorySegment wBwd = lib.sameMd(bwdW, wMd) ? w : nat.memory(bwdW, null);
                weightsForBackwardData = wBwd == w ? null : reorder(w, wMd, wBwd, bwdW, backwardScratch);
                backwardData = exec(bwdDPd, new int[] {Dnnl.ARG_DIFF_DST, Dnnl.ARG_WEIGHTS, Dnnl.ARG_DIFF_SRC},
                        new MemorySegment[] {delta, wBwd, dxb}, backwardScratch);
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
         * {@link #deltaCopyBytes} and {@link #diffSrcCopyBytes} (null where 0 or no input gradient).
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
            handle(bf16 || !dstDirect ? delta : null, deltaBs, "the copy of δ");
            run(reluBackward);
            run(deltaIn);
            run(srcInForWeights);
            run(backwardWeights);
            run(weightGradToUser);
            if (epsNexts != null) {
                if (backwardData == null) {
                    throw new IllegalStateException("the first layer's plan computes no input gradient");
                }
                lib.setHandle(epsNext, epsNexts);
                handle(diffSrcDirect ? null : dxb, dxbs, "the blocked input gradient");
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
