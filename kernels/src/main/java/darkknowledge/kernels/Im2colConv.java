package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A 2-D convolution with ReLU, stride 1 and "same" zero padding, computed as im2col and one matrix
 * product: {@code a = max(0, im2col(x) W + b)}.
 *
 * <p>Layout: every activation is a plain row per example, the image in NHWC order
 * ({@code x[n, (y·width + x)·channels + c]}), so the layer needs no reshapes or permutes. Row
 * {@code (n, y, x)} of the column matrix holds the {@code kernel × kernel × channels} input patch
 * centred on pixel {@code (y, x)}, in {@code (ky, kx, c)} order, zeros outside the image. Then
 * <pre>
 *   forward:   Z = col · W + b      (col: [N·H·W, k²C], W: [k²C, filters], Z = the output in NHWC)
 *   backward:  δ = ε ⊙ 1[a &gt; 0];   dW = colᵀ δ;   db = Σ_rows δ;   ε_prev = col2im(δ Wᵀ)
 * </pre>
 * Each of the three products is one large GEMM (MKL when ND4J's BLAS is MKL).
 *
 * <p>Why: DL4J 1.0.0-M2.1's {@code ConvolutionLayer} spent ~45% of a training step in its im2col,
 * which writes a 6-D permuted array element by element, and computes it twice (its backward pass
 * recomputes the forward pass); another ~16% went to permuted copies before its products and to
 * col2im (JFR, 32×32 glyph net, batch 128). Here an image row in NHWC makes each patch row of the
 * column matrix {@code kernel} contiguous runs of {@code kernel · channels} values, copied in bulk;
 * col2im is the matching scatter-add. The column matrix is built a chunk of examples at a time
 * (about 1 MB, {@link #CHUNK_BYTES}) so that it is still in the core's cache when the product reads
 * it: the full matrix (75 MB for the second 32×32×16 convolution at batch 128) would go through
 * main memory four times per step. The backward pass rebuilds each chunk's columns from the input
 * (a cache-resident copy) and then overwrites them with {@code δ Wᵀ}. Bias, ReLU and their
 * backward pass are fused Java loops over the chunk.
 *
 * <p>Parameters are a plain DL4J table: {@code "W"} of shape {@code [kernel²·channels, filters]}
 * ('f' order, row index {@code (ky·kernel + kx)·channels + c}) and {@code "b"} of shape
 * {@code [1, filters]}. DL4J's own layout is {@code W_dl4j[o, c, ky, kx] = W[(ky·kernel + kx)·channels + c, o]}.
 * He initialisation uses fan-in {@code kernel²·channels}, as DL4J's convolution does.
 * {@code Im2colConvTest} checks outputs and gradients against DL4J's {@code ConvolutionLayer}.
 *
 * <p>The first layer of a network (index 0) skips computing {@code ε_prev}, which nobody reads;
 * its backward pass returns a null epsilon, as DL4J's embedding layer does. Float32 only; no
 * dropout on this layer's input (put dropout on the dense layers).
 */
public class Im2colConv extends FeedForwardLayer {
    @JsonProperty
    private int height;
    @JsonProperty
    private int width;
    @JsonProperty
    private int channels;
    @JsonProperty
    private int kernel;

    /** For JSON deserialisation of saved models. */
    public Im2colConv() {
        super();
    }

    /**
     * A convolution of {@code filters} {@code kernel × kernel} filters over {@code height × width ×
     * channels} images (NHWC rows), ReLU output of {@code height × width × filters}.
     */
    public static Im2colConv of(int height, int width, int channels, int kernel, int filters) {
        return geometry(new Im2colConv(), height, width, channels, kernel, filters);
    }

    /** Sets a fresh layer's geometry (validated), nIn (the patch size), nOut and ReLU. */
    static <T extends Im2colConv> T geometry(T c, int height, int width, int channels, int kernel, int filters) {
        if (height < 1 || width < 1 || channels < 1 || filters < 1) {
            throw new IllegalArgumentException("convolution needs positive height, width, channels and filters, got "
                    + height + "x" + width + "x" + channels + " -> " + filters);
        }
        if (kernel < 1 || kernel % 2 == 0) {
            throw new IllegalArgumentException("convolution kernel must be odd and positive (same padding), got " + kernel);
        }
        Im2colConv g = c;  // its private fields: not reachable through the type variable
        g.height = height;
        g.width = width;
        g.channels = channels;
        g.kernel = kernel;
        c.setNIn((long) kernel * kernel * channels);
        c.setNOut(filters);
        c.setActivationFn(new ActivationReLU());
        return c;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int channels() {
        return channels;
    }

    public int kernel() {
        return kernel;
    }

    public int filters() {
        return (int) getNOut();
    }

    /** Values per example of the input row. */
    public long inputSize() {
        return (long) height * width * channels;
    }

    /** Values per example of the output row. */
    public long outputSize() {
        return (long) height * width * getNOut();
    }

    /** Multiply-adds of the forward pass per example. */
    public long multiplyAdds() {
        return (long) height * width * getNIn() * getNOut();
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
            Collection<TrainingListener> listeners, int layerIndex, INDArray layerParamsView, boolean initializeParams,
            DataType networkDataType) {
        String name = getClass().getSimpleName();
        if (networkDataType != DataType.FLOAT) {
            throw new IllegalArgumentException(name + " supports float32 networks only, got " + networkDataType);
        }
        if (getIDropout() != null) {
            throw new IllegalArgumentException(name + " takes no dropout on its input (layer " + layerIndex + ")");
        }
        if (!(getActivationFn() instanceof ActivationReLU)) {
            throw new IllegalArgumentException(name + " computes ReLU only, got " + getActivationFn());
        }
        BaseLayer<Im2colConv> layer = implementation(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    /** The layer that computes this configuration (im2col and GEMM here). */
    BaseLayer<Im2colConv> implementation(NeuralNetConfiguration conf, DataType dataType) {
        return new Impl(conf, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return DefaultParamInitializer.getInstance();
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.feedForward(outputSize());
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        // The geometry is explicit; nIn is the patch size, not the input width.
        if (inputType != null && inputType.arrayElementsPerExample() != inputSize()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " expects " + inputSize() + " inputs per example ("
                    + height + "x" + width + "x" + channels + "), got " + inputType);
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        long numParams = initializer().numParams(this);
        long colPerExample = (long) height * width * getNIn();
        return new LayerMemoryReport.Builder(layerName, getClass(), inputType, getOutputType(-1, inputType))
                .standardMemory(numParams, getIUpdater().stateSize(numParams))
                .workingMemory(0, colPerExample, 0, colPerExample + outputSize())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Im2colConv c && o.getClass() == getClass() && super.equals(o) && c.height == height && c.width == width
                && c.channels == channels && c.kernel == kernel;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), height, width, channels, kernel);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + height + "x" + width + "x" + channels + ", " + kernel + "x" + kernel + " -> "
                + getNOut() + ")";
    }

    /** The layer itself. */
    static final class Impl extends BaseLayer<Im2colConv> {
        private INDArray output;
        private INDArray outputInput;

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

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            forget();
            INDArray a = forward(ArrayType.ACTIVATIONS, workspaceMgr);
            if (training) {
                output = a;
                outputInput = input;
            }
            return a.reshape('c', input.size(0), layerConf().outputSize());
        }

        /** Examples per chunk: the chunk's column matrix stays in the core's cache between its uses. */
        private long chunk() {
            Im2colConv c = layerConf();
            long perExample = (long) c.height * c.width * c.getNIn() * 4;
            return Math.max(1, CHUNK_BYTES / perExample);
        }

        /** a = ReLU(im2col(x) W + b) as [N·H·W, filters], computed a chunk of examples at a time. */
        private INDArray forward(ArrayType outType, LayerWorkspaceMgr workspaceMgr) {
            Im2colConv c = layerConf();
            INDArray x = rows(input, c.inputSize(), "input");
            long n = x.size(0);
            long pixels = (long) c.height * c.width;
            long k = c.getNIn();
            long f = c.getNOut();
            INDArray z = workspaceMgr.createUninitialized(outType, DataType.FLOAT, new long[] {n * pixels, f}, 'c');
            long chunk = Math.min(n, chunk());
            INDArray colBuf = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, DataType.FLOAT,
                    new long[] {chunk * pixels * k}, 'c');
            INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
            float[] bias = getParam(DefaultParamInitializer.BIAS_KEY).toFloatVector();
            MemorySegment xs = segment(x);
            MemorySegment zs = segment(z);
            for (long e0 = 0; e0 < n; e0 += chunk) {
                long e1 = Math.min(n, e0 + chunk);
                long rows = (e1 - e0) * pixels;
                INDArray col = colBuf.get(NDArrayIndex.interval(0, rows * k)).reshape('c', rows, k);
                im2col(xs.asSlice(e0 * c.inputSize() * 4, (e1 - e0) * c.inputSize() * 4), segment(col),
                        (int) (e1 - e0), c.height, c.width, c.channels, c.kernel);
                INDArray zc = z.get(NDArrayIndex.interval(e0 * pixels, e1 * pixels), NDArrayIndex.all());
                Nd4j.gemm(col, w, zc, false, false, 1.0, 0.0);
                biasRelu(zs.asSlice(e0 * pixels * f * 4, rows * f * 4), rows, bias);
            }
            alive(x, colBuf);
            return z;
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
            long pixels = (long) c.height * c.width;
            long k = c.getNIn();
            long f = c.getNOut();
            INDArray eps = rows(epsilon, c.outputSize(), "epsilon");
            boolean first = getIndex() == 0;
            INDArray epsNext = first ? null : workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD,
                    DataType.FLOAT, new long[] {n, c.inputSize()}, 'c');
            long chunk = Math.min(n, chunk());
            INDArray colBuf = workspaceMgr.createUninitialized(ArrayType.BP_WORKING_MEM, DataType.FLOAT,
                    new long[] {chunk * pixels * k}, 'c');
            INDArray w = getParam(DefaultParamInitializer.WEIGHT_KEY);
            INDArray weightGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
            INDArray biasGrad = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
            double[] db = new double[(int) f];
            MemorySegment xs = segment(x);
            MemorySegment as = segment(a);
            MemorySegment es = segment(eps);
            for (long e0 = 0; e0 < n; e0 += chunk) {
                long e1 = Math.min(n, e0 + chunk);
                long rows = (e1 - e0) * pixels;
                // δ = ε ⊙ 1[a > 0], written over a (a > 0 exactly where z > 0); db += Σ_rows δ.
                reluBackward(as.asSlice(e0 * pixels * f * 4, rows * f * 4),
                        es.asSlice(e0 * pixels * f * 4, rows * f * 4), rows, (int) f, pixels, db);
                INDArray delta = a.get(NDArrayIndex.interval(e0 * pixels, e1 * pixels), NDArrayIndex.all());
                INDArray col = colBuf.get(NDArrayIndex.interval(0, rows * k)).reshape('c', rows, k);
                MemorySegment cs = segment(col);
                im2col(xs.asSlice(e0 * c.inputSize() * 4, (e1 - e0) * c.inputSize() * 4), cs,
                        (int) (e1 - e0), c.height, c.width, c.channels, c.kernel);
                Nd4j.gemm(col, delta, weightGrad, true, false, 1.0, e0 == 0 ? 0.0 : 1.0);
                if (!first) {
                    // The chunk's column matrix is no longer needed: it receives δ Wᵀ, each patch's gradient.
                    Nd4j.gemm(delta, w, col, false, true, 1.0, 0.0);
                    col2im(cs, segment(epsNext).asSlice(e0 * c.inputSize() * 4, (e1 - e0) * c.inputSize() * 4),
                            (int) (e1 - e0), c.height, c.width, c.channels, c.kernel);
                }
            }
            alive(x, eps, a, colBuf);
            for (int j = 0; j < f; j++) {
                biasGrad.putScalar(j, db[j]);
            }
            Gradient ret = new DefaultGradient();
            ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, weightGrad);
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, biasGrad);
            return new Pair<>(ret, epsNext);
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
     * Column-matrix bytes per chunk: about half a core's L2 cache on the machines measured. The
     * system property {@code darkknowledge.conv.chunkBytes} overrides it (for measuring; fewer,
     * larger chunks mean fewer, larger GEMM calls).
     */
    static final long CHUNK_BYTES = Long.getLong("darkknowledge.conv.chunkBytes", 1L << 20);

    /** z ← max(0, z + b) for each of {@code rows} rows of {@code b.length} values. */
    static void biasRelu(MemorySegment z, long rows, float[] b) {
        int f = b.length;
        long i = 0;
        for (long r = 0; r < rows; r++) {
            for (int j = 0; j < f; j++, i++) {
                z.setAtIndex(F, i, Math.max(0f, z.getAtIndex(F, i) + b[j]));
            }
        }
    }

    /**
     * a ← ε ⊙ 1[a &gt; 0] (δ, in place) and db[j] += Σ_rows δ[·, j]; sums in float per image of
     * {@code pixels} rows, then in double.
     */
    static void reluBackward(MemorySegment a, MemorySegment eps, long rows, int f, long pixels, double[] db) {
        float[] acc = new float[f];
        long i = 0;
        for (long r = 0; r < rows; r++) {
            for (int j = 0; j < f; j++, i++) {
                float g = a.getAtIndex(F, i) > 0f ? eps.getAtIndex(F, i) : 0f;
                a.setAtIndex(F, i, g);
                acc[j] += g;
            }
            if ((r + 1) % pixels == 0 || r + 1 == rows) {
                for (int j = 0; j < f; j++) {
                    db[j] += acc[j];
                    acc[j] = 0f;
                }
            }
        }
    }

    /** {@code a} as a c-ordered [N, size] float matrix without offset tricks, copying only if needed. */
    static INDArray rows(INDArray a, long size, String what) {
        if (a.rank() != 2 || a.size(1) != size) {
            throw new IllegalArgumentException("expected " + what + " of shape [N, " + size + "], got "
                    + java.util.Arrays.toString(a.shape()));
        }
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("expected float32 " + what + ", got " + a.dataType());
        }
        boolean contiguous = a.ordering() == 'c' && org.nd4j.linalg.api.shape.Shape.hasDefaultStridesForShape(a);
        return contiguous ? a : a.dup('c');
    }

    /**
     * Keeps {@code objects} reachable up to this point. A {@link MemorySegment} made from an array's
     * address ({@link #segment}) does not keep the array alive, ND4J frees an array's memory once it is
     * collected, and the JIT may treat an object as unreachable right after its last use: without this,
     * a collection during a native call or a loop over the segment could free a temporary copy (an
     * input made contiguous, a blocked buffer) while it is read or written. A layer passes itself too
     * where native objects it owns run (oneDNN plans, destroyed by a Cleaner once the layer is gone).
     * Seen as a SIGSEGV in oneDNN's forward convolution writing a blocked output buffer during a
     * model's last {@code predict}.
     */
    static void alive(Object... objects) {
        java.lang.ref.Reference.reachabilityFence(objects);
    }

    /** Native memory of a c-contiguous float array (a view's offset included); see {@link #alive}. */
    static MemorySegment segment(INDArray a) {
        return MemorySegment.ofAddress(a.data().addressPointer().address()).reinterpret(a.length() * 4L);
    }

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /**
     * col[(n, y, x), (ky, kx, c)] = img[n, y + ky − p, x + kx − p, c] (0 outside), p = (k − 1)/2.
     * For a fixed (row, ky) the k·C values are one contiguous run of the image row, so each is one copy.
     */
    static void im2col(MemorySegment img, MemorySegment col, int n, int h, int w, int ch, int k) {
        int p = (k - 1) / 2;
        long run = (long) k * ch;
        long rowLen = run * k;
        long row = 0;
        for (int e = 0; e < n; e++) {
            long imgBase = (long) e * h * w * ch;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++, row++) {
                    long dst = row * rowLen;
                    int kx0 = Math.max(0, p - x);
                    int kx1 = Math.min(k, w + p - x);
                    for (int ky = 0; ky < k; ky++, dst += run) {
                        int iy = y + ky - p;
                        if (iy < 0 || iy >= h) {
                            col.asSlice(dst * 4, run * 4).fill((byte) 0);
                            continue;
                        }
                        if (kx0 > 0) {
                            col.asSlice(dst * 4, (long) kx0 * ch * 4).fill((byte) 0);
                        }
                        long src = imgBase + ((long) iy * w + x + kx0 - p) * ch;
                        MemorySegment.copy(img, src * 4, col, (dst + (long) kx0 * ch) * 4, (long) (kx1 - kx0) * ch * 4);
                        if (kx1 < k) {
                            col.asSlice((dst + (long) kx1 * ch) * 4, (long) (k - kx1) * ch * 4).fill((byte) 0);
                        }
                    }
                }
            }
        }
    }

    /** The adjoint of {@link #im2col}: img[n, iy, ix, c] = Σ over the patches that contain it. */
    static void col2im(MemorySegment col, MemorySegment img, int n, int h, int w, int ch, int k) {
        int p = (k - 1) / 2;
        long run = (long) k * ch;
        long rowLen = run * k;
        img.fill((byte) 0);
        long row = 0;
        for (int e = 0; e < n; e++) {
            long imgBase = (long) e * h * w * ch;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++, row++) {
                    long src = row * rowLen;
                    int kx0 = Math.max(0, p - x);
                    int kx1 = Math.min(k, w + p - x);
                    for (int ky = 0; ky < k; ky++, src += run) {
                        int iy = y + ky - p;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        long dst = imgBase + ((long) iy * w + x + kx0 - p) * ch;
                        long s = src + (long) kx0 * ch;
                        long len = (long) (kx1 - kx0) * ch;
                        for (long i = 0; i < len; i++) {
                            img.setAtIndex(F, dst + i, img.getAtIndex(F, dst + i) + col.getAtIndex(F, s + i));
                        }
                    }
                }
            }
        }
    }
}
