package darkknowledge.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;

/**
 * An exported ONNX graph running in ONNX Runtime (its CPU provider): what a user of the export gets,
 * and what {@code ./dk export --verify} and the bench's inference rows measure our {@link OnnxGraph}
 * by. One session per instance; close it.
 */
public final class OnnxRuntimeNet implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final int inputs;
    private final Path file;

    /**
     * Opens {@code file}.
     *
     * @param threads ONNX Runtime's intra-op threads (0: its default, one per core)
     */
    public OnnxRuntimeNet(Path file, int threads) {
        this.file = file;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            session = env.createSession(file.toString(), options);
            var info = (ai.onnxruntime.TensorInfo) session.getInputInfo().get(OnnxGraph.INPUT).getInfo();
            inputs = (int) info.getShape()[1];
        } catch (OrtException | RuntimeException e) {
            throw new IllegalArgumentException("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /** The model's {@code metadata_props}. */
    public Map<String, String> metadata() {
        try {
            return session.getMetadata().getCustomMetadata();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot read the metadata of " + file, e);
        }
    }

    /** Values per input row. */
    public int inputs() {
        return inputs;
    }

    /** Logits and probabilities of {@code rows} examples of {@code x} (row-major), in a graph without a temperature. */
    public Outputs run(float[] x, int rows) {
        return run(x, rows, Float.NaN);
    }

    /**
     * Logits and {@code softmax(logits / temperature)} of {@code rows} examples of {@code x} (row-major),
     * in a graph with a temperature input; NaN for a graph without one.
     */
    public Outputs run(float[] x, int rows, float temperature) {
        if (x.length != (long) rows * inputs) {
            throw new IllegalArgumentException(rows + " rows of " + inputs + " inputs need " + rows * inputs
                    + " values, got " + x.length);
        }
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, inputs});
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {temperature}), new long[0]);
             OrtSession.Result r = session.run(Float.isNaN(temperature) ? Map.of(OnnxGraph.INPUT, in)
                     : Map.of(OnnxGraph.INPUT, in, OnnxGraph.TEMPERATURE, t))) {
            OnnxTensor logits = (OnnxTensor) r.get(OnnxGraph.LOGITS).orElseThrow();
            OnnxTensor probs = (OnnxTensor) r.get(OnnxGraph.PROBABILITIES).orElseThrow();
            int classes = (int) logits.getInfo().getShape()[1];
            return new Outputs(rows, classes, copy(logits.getFloatBuffer()), copy(probs.getFloatBuffer()));
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on " + file + ": " + e.getMessage(), e);
        }
    }

    private static float[] copy(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("cannot close the ONNX Runtime session of " + file, e);
        }
    }
}
