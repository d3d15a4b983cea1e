package darkknowledge.export;

import darkknowledge.core.AtomicFiles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

/**
 * A {@link NetLayout} as a standard ONNX model (opset {@value #OPSET}, IR version {@value #IR_VERSION}),
 * built with the ONNX schema's Java classes that ND4J ships (package {@code onnx}); no Python anywhere.
 *
 * <p>The graph:
 * <pre>
 *   input        float[N, numInputs]   a row per example, pixels in (y, x, channel) order, as the run's data
 *   temperature  float scalar, only in a graph written with a temperature input (else T = 1)
 *   conv nets:   Reshape [N, H, W, C] → Transpose to NCHW → (Conv + Relu)… MaxPool … → Transpose to NHWC → Flatten
 *   dense:       Gemm + Relu …, then Gemm → logits
 *   logits       float[N, classes]      z
 *   probabilities float[N, classes]     softmax(z / T)   (Hinton et al. 2015, §2, eq. 1)
 * </pre>
 * Convolutions take weights {@code [O, C, k, k]} (ONNX's OIHW) re-laid out from ours and
 * {@code pads = (k−1)/2} on every side ("same", stride 1); pooling is {@code MaxPool} with kernel =
 * stride = the window. Transposing back to NHWC before flattening keeps the dense weights exactly ours.
 * The provenance is the model's {@code metadata_props}.
 *
 * <p>Why the temperature is a required input when present: an input with a default (an initializer
 * of the same name) is legal ONNX, but ONNX Runtime's Java API accepts only the required inputs, and
 * every runtime then treats the value as overridable, which blocks constant folding. So a graph has
 * either no temperature (the probabilities a user of a classifier wants) or one that must be fed
 * (what a teacher producing soft targets wants).
 */
public final class OnnxGraph {
    /** The operator set the graph is written for. */
    public static final int OPSET = 13;
    /** ONNX IR version 7 is the first to carry opset 13. */
    public static final int IR_VERSION = 7;
    public static final String INPUT = "input";
    public static final String TEMPERATURE = "temperature";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";

    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder();
    private int names;

    private OnnxGraph() {
    }

    /**
     * The ONNX model of {@code layout}, its {@code metadata_props} = {@code metadata}.
     *
     * @param temperatureInput whether the probabilities are {@code softmax(logits / temperature)} with a
     *                         required scalar input {@value #TEMPERATURE}, or plain {@code softmax(logits)}
     */
    public static Onnx.ModelProto model(NetLayout layout, Map<String, String> metadata, boolean temperatureInput) {
        OnnxGraph g = new OnnxGraph();
        g.graph.setName("dark_knowledge_classifier");
        g.graph.addInput(tensor(INPUT, "N", layout.numInputs()));
        if (temperatureInput) {
            g.graph.addInput(Onnx.ValueInfoProto.newBuilder().setName(TEMPERATURE).setType(type(List.of())));
        }
        String x = INPUT;
        NetLayout.Conv first = layout.firstConv();
        if (first != null) {
            x = g.node("Reshape", List.of(x, g.int64s(-1, first.height(), first.width(), first.channels())), List.of());
            x = g.node("Transpose", List.of(x), List.of(ints("perm", 0, 3, 1, 2)));
        }
        boolean image = first != null;
        List<NetLayout.Layer> layers = layout.layers();
        for (int i = 0; i < layers.size(); i++) {
            boolean last = i == layers.size() - 1;
            switch (layers.get(i)) {
                case NetLayout.Conv c -> {
                    float[] w = new float[c.filters() * c.channels() * c.kernel() * c.kernel()];
                    int k = 0;
                    for (int o = 0; o < c.filters(); o++) {
                        for (int ch = 0; ch < c.channels(); ch++) {
                            for (int ky = 0; ky < c.kernel(); ky++) {
                                for (int kx = 0; kx < c.kernel(); kx++) {
                                    w[k++] = c.weight(o, ch, ky, kx);
                                }
                            }
                        }
                    }
                    int pad = (c.kernel() - 1) / 2;
                    x = g.node("Conv", List.of(x, g.floats(w, c.filters(), c.channels(), c.kernel(), c.kernel()),
                                    g.floats(c.bias(), c.filters())),
                            List.of(ints("kernel_shape", c.kernel(), c.kernel()), ints("pads", pad, pad, pad, pad),
                                    ints("strides", 1, 1)));
                    x = g.node("Relu", List.of(x), List.of());
                }
                case NetLayout.Pool p -> x = g.node("MaxPool", List.of(x),
                        List.of(ints("kernel_shape", p.size(), p.size()), ints("strides", p.size(), p.size())));
                case NetLayout.Dense d -> {
                    if (image) {
                        x = g.node("Transpose", List.of(x), List.of(ints("perm", 0, 2, 3, 1)));
                        x = g.node("Flatten", List.of(x), List.of(ints("axis", 1)));
                        image = false;
                    }
                    float[] w = new float[d.nIn() * d.nOut()];
                    for (int r = 0; r < d.nIn(); r++) {
                        System.arraycopy(d.weights()[r], 0, w, r * d.nOut(), d.nOut());
                    }
                    List<String> in = List.of(x, g.floats(w, d.nIn(), d.nOut()), g.floats(d.bias(), d.nOut()));
                    if (last) {
                        g.graph.addNode(node("Gemm", in, List.of(LOGITS), List.of()));
                        x = LOGITS;
                    } else {
                        x = g.node("Relu", List.of(g.node("Gemm", in, List.of())), List.of());
                    }
                }
            }
        }
        String scaled = temperatureInput ? g.node("Div", List.of(LOGITS, TEMPERATURE), List.of()) : LOGITS;
        g.graph.addNode(node("Softmax", List.of(scaled), List.of(PROBABILITIES), List.of(ints("axis", 1))));
        g.graph.addOutput(tensor(LOGITS, "N", layout.numClasses()));
        g.graph.addOutput(tensor(PROBABILITIES, "N", layout.numClasses()));

        Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION)
                .setProducerName("dark-knowledge").setProducerVersion("0.1")
                .setDocString("A classifier trained by Dark Knowledge (Hinton, Vinyals & Dean 2015, reproduced): "
                        + "input float[N, " + layout.numInputs() + "], outputs logits and probabilities = "
                        + (temperatureInput ? "softmax(logits / temperature)." : "softmax(logits)."))
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.graph);
        metadata.forEach((key, value) -> m.addMetadataProps(
                Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
        return m.build();
    }

    /** Writes {@link #model} to {@code file} atomically. */
    public static void write(NetLayout layout, Map<String, String> metadata, boolean temperatureInput, Path file) {
        Onnx.ModelProto model = model(layout, metadata, temperatureInput);
        AtomicFiles.write(file, model::writeTo);
    }

    private String fresh(String op) {
        return op.toLowerCase(java.util.Locale.ROOT) + "_" + names++;
    }

    /** Adds a node with one fresh output; returns the output's name. */
    private String node(String op, List<String> inputs, List<Onnx.AttributeProto> attributes) {
        String out = fresh(op);
        graph.addNode(node(op, inputs, List.of(out), attributes));
        return out;
    }

    private static Onnx.NodeProto node(String op, List<String> inputs, List<String> outputs,
                                       List<Onnx.AttributeProto> attributes) {
        return Onnx.NodeProto.newBuilder().setOpType(op).setName(outputs.getFirst()).addAllInput(inputs)
                .addAllOutput(outputs).addAllAttribute(attributes).build();
    }

    /** A float initializer of {@code shape} (little-endian raw data); returns its name. */
    private String floats(float[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        String name = fresh("w");
        graph.addInitializer(Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(java.util.Arrays.stream(shape).boxed().toList()).setRawData(ByteString.copyFrom(buf.array())));
        return name;
    }

    /** A 1-D int64 initializer (a shape); returns its name. */
    private String int64s(long... values) {
        String name = fresh("shape");
        graph.addInitializer(Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.INT64_VALUE)
                .addDims(values.length).addAllInt64Data(java.util.Arrays.stream(values).boxed().toList()));
        return name;
    }

    private static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name);
        if (values.length == 1 && name.equals("axis")) {
            return a.setType(Onnx.AttributeProto.AttributeType.INT).setI(values[0]).build();
        }
        return a.setType(Onnx.AttributeProto.AttributeType.INTS)
                .addAllInts(java.util.Arrays.stream(values).boxed().toList()).build();
    }

    /** A float tensor value of shape {@code [batch, width]}, the batch dimension symbolic. */
    private static Onnx.ValueInfoProto tensor(String name, String batch, int width) {
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(type(List.of(batch, width))).build();
    }

    /** A float tensor type; each dimension a String (symbolic) or an Integer. */
    private static Onnx.TypeProto type(List<Object> dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (Object d : dims) {
            shape.addDim(d instanceof String s ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(s)
                    : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
        }
        return Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder()
                .setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(shape)).build();
    }
}
