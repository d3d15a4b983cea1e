package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.params.EmptyParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * Max pooling over non-overlapping {@code size × size} windows of NHWC image rows (the layout of
 * {@link Im2colConv}): {@code out[n, y, x, c] = max_{dy, dx < size} in[n, size·y + dy, size·x + dx, c]}.
 * The backward pass routes each output's gradient to the first maximal input of its window in
 * (dy, dx) order, as ND4J's max-pooling does; every other input gets 0.
 *
 * <p>Why our own: it reads the NHWC rows as they are (no reshape to 4-D, no permute) and touches
 * each value once per pass. {@code NhwcMaxPoolTest} checks it against DL4J's {@code SubsamplingLayer}.
 * No parameters. Float32 only.
 */
public class NhwcMaxPool extends NoParamLayer {
    @JsonProperty
    private int height;
    @JsonProperty
    private int width;
    @JsonProperty
    private int channels;
    @JsonProperty
    private int size;

    /** For JSON deserialisation of saved models. */
    public NhwcMaxPool() {
        super();
    }

    /** Pooling of {@code height × width × channels} rows in {@code size × size} windows with stride {@code size}. */
    public static NhwcMaxPool of(int height, int width, int channels, int size) {
        return geometry(new NhwcMaxPool(), height, width, channels, size);
    }

    /** Sets a fresh layer's geometry (validated). */
    static <T extends NhwcMaxPool> T geometry(T layer, int height, int width, int channels, int size) {
        if (size < 1 || height < 1 || width < 1 || channels < 1 || height % size != 0 || width % size != 0) {
            throw new IllegalArgumentException("max pooling needs positive sizes with the window (" + size
                    + ") dividing the image (" + height + "x" + width + "x" + channels + ")");
        }
        NhwcMaxPool p = layer;  // its private fields: not reachable through the type variable
        p.height = height;
        p.width = width;
        p.channels = channels;
        p.size = size;
        return layer;
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

    public int size() {
        return size;
    }

    /** Values per example of the input row. */
    public long inputSize() {
        return (long) height * width * channels;
    }

    /** Values per example of the output row. */
    public long outputSize() {
        return (long) (height / size) * (width / size) * channels;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
            INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        if (networkDataType != DataType.FLOAT) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " supports float32 networks only, got "
                    + networkDataType);
        }
        AbstractLayer<NhwcMaxPool> layer = implementation(conf, networkDataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        layer.setParamTable(initializer().init(conf, layerParamsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    /** The layer that computes this configuration (the loops below here). */
    AbstractLayer<NhwcMaxPool> implementation(NeuralNetConfiguration conf, DataType dataType) {
        return new Impl(conf, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return EmptyParamInitializer.getInstance();
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return InputType.feedForward(outputSize());
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (inputType != null && inputType.arrayElementsPerExample() != inputSize()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " expects " + inputSize() + " inputs per example, got "
                    + inputType);
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return null;
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(layerName, getClass(), inputType, getOutputType(-1, inputType))
                .standardMemory(0, 0)
                .workingMemory(0, 0, 0, inputSize())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NhwcMaxPool p && o.getClass() == getClass() && super.equals(o) && p.height == height && p.width == width
                && p.channels == channels && p.size == size;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), height, width, channels, size);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + height + "x" + width + "x" + channels + ", " + size + "x" + size + ")";
    }

    /** The layer itself. */
    static class Impl extends AbstractLayer<NhwcMaxPool> {
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
        public void clearNoiseWeightParams() {
            // no parameters
        }

        @Override
        public double calcRegularizationScore(boolean backpropOnlyParams) {
            return 0;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            NhwcMaxPool c = layerConf();
            INDArray x = Im2colConv.rows(input, c.inputSize(), "input");
            INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                    new long[] {x.size(0), c.outputSize()}, 'c');
            forward(Im2colConv.segment(x), Im2colConv.segment(out), (int) x.size(0), c.height, c.width, c.channels,
                    c.size);
            Im2colConv.alive(x);
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            NhwcMaxPool c = layerConf();
            INDArray x = Im2colConv.rows(input, c.inputSize(), "input");
            INDArray eps = Im2colConv.rows(epsilon, c.outputSize(), "epsilon");
            INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[] {x.size(0), c.inputSize()}, 'c');
            backward(Im2colConv.segment(x), Im2colConv.segment(eps), Im2colConv.segment(epsNext), (int) x.size(0),
                    c.height, c.width, c.channels, c.size);
            Im2colConv.alive(x, eps);
            return new Pair<>(new DefaultGradient(), epsNext);
        }

        @Override
        public Pair<INDArray, org.deeplearning4j.nn.api.MaskState> feedForwardMaskArray(INDArray maskArray,
                org.deeplearning4j.nn.api.MaskState currentMaskState, int minibatchSize) {
            return new Pair<>(maskArray, currentMaskState);
        }
    }

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /**
     * Each output pixel's channels are the element-wise max of its window's s² contiguous channel runs
     * (16-lane vectors where the Vector API is present, {@link Simd}).
     */
    static void forward(MemorySegment in, MemorySegment out, int n, int h, int w, int ch, int s) {
        if (Simd.AVAILABLE) {
            Simd.Kernels.maxPool(in, out, n, h, w, ch, s);
        } else {
            forwardScalar(in, out, n, h, w, ch, s);
        }
    }

    /** {@link #forward} one value at a time. */
    static void forwardScalar(MemorySegment in, MemorySegment out, int n, int h, int w, int ch, int s) {
        int oh = h / s;
        int ow = w / s;
        long o = 0;
        long rowStride = (long) w * ch;
        for (int e = 0; e < n; e++) {
            long base = (long) e * h * w * ch;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++, o += ch) {
                    long first = base + (long) y * s * rowStride + (long) x * s * ch;
                    for (int c = 0; c < ch; c++) {
                        out.setAtIndex(F, o + c, in.getAtIndex(F, first + c));
                    }
                    for (int dy = 0; dy < s; dy++) {
                        for (int dx = dy == 0 ? 1 : 0; dx < s; dx++) {
                            long r = first + dy * rowStride + (long) dx * ch;
                            for (int c = 0; c < ch; c++) {
                                out.setAtIndex(F, o + c, Math.max(out.getAtIndex(F, o + c), in.getAtIndex(F, r + c)));
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The gradient of each output goes to the first maximal input of its window; the others get 0
     * (vectors where the Vector API is present: the same result, NaN inputs aside).
     */
    static void backward(MemorySegment in, MemorySegment eps, MemorySegment epsIn, int n, int h, int w, int ch, int s) {
        if (Simd.AVAILABLE) {
            Simd.Kernels.maxPoolBackward(in, eps, epsIn, n, h, w, ch, s);
        } else {
            backwardScalar(in, eps, epsIn, n, h, w, ch, s);
        }
    }

    /** {@link #backward} one value at a time. */
    static void backwardScalar(MemorySegment in, MemorySegment eps, MemorySegment epsIn, int n, int h, int w, int ch,
            int s) {
        int oh = h / s;
        int ow = w / s;
        long o = 0;
        long rowStride = (long) w * ch;
        float[] best = new float[ch];
        int[] arg = new int[ch];
        for (int e = 0; e < n; e++) {
            long base = (long) e * h * w * ch;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++, o += ch) {
                    long first = base + (long) y * s * rowStride + (long) x * s * ch;
                    java.util.Arrays.fill(best, Float.NEGATIVE_INFINITY);
                    java.util.Arrays.fill(arg, 0);
                    int q = 0;
                    for (int dy = 0; dy < s; dy++) {
                        for (int dx = 0; dx < s; dx++, q++) {
                            long r = first + dy * rowStride + (long) dx * ch;
                            for (int c = 0; c < ch; c++) {
                                float v = in.getAtIndex(F, r + c);
                                if (v > best[c]) {
                                    best[c] = v;
                                    arg[c] = q;
                                }
                            }
                        }
                    }
                    q = 0;
                    for (int dy = 0; dy < s; dy++) {
                        for (int dx = 0; dx < s; dx++, q++) {
                            long r = first + dy * rowStride + (long) dx * ch;
                            for (int c = 0; c < ch; c++) {
                                epsIn.setAtIndex(F, r + c, arg[c] == q ? eps.getAtIndex(F, o + c) : 0f);
                            }
                        }
                    }
                }
            }
        }
    }
}
