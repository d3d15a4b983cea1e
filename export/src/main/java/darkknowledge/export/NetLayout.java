package darkknowledge.export;

import darkknowledge.generalist.Classifier;
import darkknowledge.kernels.DnnlConv;
import darkknowledge.kernels.Im2colConv;
import darkknowledge.kernels.NhwcMaxPool;
import darkknowledge.kernels.Precision;
import darkknowledge.kernels.ReluDense;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a trained {@link Classifier} computes at inference, layer by layer, with its parameters copied
 * out: the one description both exporters ({@link StockDl4j}, {@link OnnxGraph}) translate. Training
 * parts (dropout, max-norm constraints, the update rule, a distillation loss) are left behind: at
 * inference a net of ours is {@code z = W_out·h + b_out} on top of ReLU convolutions, max pooling and
 * ReLU dense layers, and the exported probabilities are {@code softmax(z / T)} (Hinton et al. 2015,
 * §2, eq. 1; {@code T = 1} unless the ONNX graph's temperature input says otherwise).
 *
 * <p>Layout of ours, kept exactly: an input row holds {@code height × width × channels} values in
 * (y, x, channel) order (NHWC); a convolution's weights are {@code [kernel²·channels, filters]} with
 * row {@code (ky·kernel + kx)·channels + c} ({@link Im2colConv}); the first dense layer after the
 * convolutions reads the last feature map flattened in (y, x, channel) order.
 *
 * @param numInputs values per input row
 * @param layers    the layers in order; the last is the {@link Dense} output layer (no ReLU)
 */
public record NetLayout(int numInputs, List<Layer> layers) {

    /** One inference step. */
    public sealed interface Layer permits Conv, Pool, Dense {
    }

    /**
     * ReLU convolution, stride 1, "same" zero padding, over {@code height × width × channels} NHWC maps.
     *
     * @param weights {@code [kernel²·channels][filters]}, row {@code (ky·kernel + kx)·channels + c}
     */
    public record Conv(int height, int width, int channels, int kernel, int filters, float[][] weights, float[] bias)
            implements Layer {
        /** Weight of filter {@code o} at input channel {@code c}, window offset {@code (ky, kx)}. */
        public float weight(int o, int c, int ky, int kx) {
            return weights[(ky * kernel + kx) * channels + c][o];
        }
    }

    /** Max pooling over non-overlapping {@code size × size} windows of {@code height × width × channels} maps. */
    public record Pool(int height, int width, int channels, int size) implements Layer {
    }

    /**
     * {@code a = relu?(x·W + b)}.
     *
     * @param weights {@code [nIn][nOut]}
     * @param relu    false for the output layer (its {@code a} is the logits)
     */
    public record Dense(int nIn, int nOut, float[][] weights, float[] bias, boolean relu) implements Layer {
    }

    public NetLayout {
        layers = List.copyOf(layers);
        if (layers.isEmpty() || !(layers.getLast() instanceof Dense out) || out.relu()) {
            throw new IllegalArgumentException("a net ends in a dense output layer without ReLU");
        }
    }

    /** Number of classes: the output layer's width. */
    public int numClasses() {
        return ((Dense) layers.getLast()).nOut();
    }

    /** The first convolution, or null for an MLP: it fixes the input image's geometry. */
    public Conv firstConv() {
        return layers.getFirst() instanceof Conv c ? c : null;
    }

    /**
     * Reads {@code model}'s layers. Every layer type a net of this project is built from is known:
     * {@link Im2colConv} (and its oneDNN twin), {@link NhwcMaxPool} (and its twin), {@link ReluDense},
     * DL4J's {@link DenseLayer} with ReLU, and an output layer with softmax or identity activation.
     * Anything else is an error naming the layer, its index and what export supports.
     *
     * @throws IllegalArgumentException a layer export cannot translate, or a bf16 net (its products
     *                                  round operands to bfloat16, which a float32 graph does not repeat)
     */
    public static NetLayout of(Classifier model) {
        MultiLayerNetwork net = model.network();
        int n = net.getnLayers();
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            var conf = net.getLayerWiseConfigurations().getConf(i).getLayer();
            var params = net.getLayer(i).paramTable();  // empty for pooling
            INDArray w = params.get("W");
            INDArray b = params.get("b");
            boolean last = i == n - 1;
            switch (conf) {
                case Im2colConv c when !last -> {
                    if (c instanceof DnnlConv d && d.precision() != Precision.FP32) {
                        throw new IllegalArgumentException("layer " + i + " (" + conf.getClass().getSimpleName()
                                + ") computes its convolutions in " + d.precision() + "; export writes float32 "
                                + "graphs, which would not give this net's outputs: only fp32 nets can be exported");
                    }
                    layers.add(new Conv(c.height(), c.width(), c.channels(), c.kernel(), c.filters(), matrix(w),
                            vector(b)));
                }
                case NhwcMaxPool p when !last -> layers.add(new Pool(p.height(), p.width(), p.channels(), p.size()));
                case BaseOutputLayer o when last -> {
                    if (!(o.getActivationFn() instanceof ActivationSoftmax || o.getActivationFn() instanceof ActivationIdentity)) {
                        throw unsupported(i, conf, "an output layer with softmax or identity activation");
                    }
                    layers.add(new Dense((int) o.getNIn(), (int) o.getNOut(), matrix(w), vector(b), false));
                }
                case DenseLayer d when !last -> {
                    if (!(d.getActivationFn() instanceof ActivationReLU)) {
                        throw unsupported(i, conf, "ReLU dense layers");
                    }
                    if (d instanceof ReluDense r && r.precision() != Precision.FP32) {
                        throw new IllegalArgumentException("layer " + i + " (" + conf.getClass().getSimpleName()
                                + ") computes its products in " + r.precision() + "; export writes float32 graphs, "
                                + "which would not give this net's outputs: only fp32 nets can be exported");
                    }
                    layers.add(new Dense((int) d.getNIn(), (int) d.getNOut(), matrix(w), vector(b), true));
                }
                default -> throw unsupported(i, conf, "Im2colConv/DnnlConv, NhwcMaxPool/DnnlMaxPool, ReLU dense "
                        + "layers and a softmax or identity output layer last");
            }
        }
        return new NetLayout(model.numInputs(), layers);
    }

    private static IllegalArgumentException unsupported(int index, Object conf, String supported) {
        return new IllegalArgumentException("layer " + index + " is a " + conf.getClass().getName()
                + ", which export cannot translate; it supports " + supported);
    }

    private static float[][] matrix(INDArray a) {
        return a.castTo(DataType.FLOAT).toFloatMatrix();
    }

    private static float[] vector(INDArray a) {
        return a.castTo(DataType.FLOAT).toFloatVector();
    }
}
