package darkknowledge.generalist;

import darkknowledge.core.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * A ReLU MLP classifier: {@code x -> ReLU(... ReLU(x W1 + b1) ...) Wout + bout = z}, the logits.
 * Hard-label training uses softmax cross-entropy; a distillation student is built with a loss on
 * the logits supplied by the caller (its output activation is then the identity). Either way
 * {@link #logits} returns {@code z}, never probabilities, so softening at a temperature
 * (Hinton et al. 2015, §2, eq. 1) loses no precision.
 */
public final class Classifier {
    private static final int CHUNK = 4096;

    private final MultiLayerNetwork net;
    private final boolean identityOutput;

    private Classifier(MultiLayerNetwork net) {
        this.net = net;
        var out = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) net.getLayerWiseConfigurations()
                .getConf(net.getnLayers() - 1).getLayer();
        this.identityOutput = out.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity;
    }

    /**
     * Builds a freshly initialised net (He initialisation, float32, workspaces on). Adam is
     * {@link FusedAdam}: ND4J's update, one pass over memory; hidden layers are {@link ReluDense}:
     * DL4J's dense layer without the recomputation of {@code z} in the backward pass.
     *
     * @param lossOnLogits null for softmax cross-entropy with one-hot labels; otherwise a loss whose
     *                     input is the raw logits (identity output activation)
     */
    public static Classifier create(MlpConfig cfg, int nIn, int nOut, ILossFunction lossOnLogits, long seed) {
        IUpdater updater = cfg.optimizer() == MlpConfig.Optimizer.ADAM
                ? new FusedAdam(cfg.learningRate())
                : new Nesterovs(cfg.learningRate(), cfg.momentum());
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(updater)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED);
        if (cfg.l2() > 0) {
            b.l2(cfg.l2());
        }
        NeuralNetConfiguration.ListBuilder list = b.list();
        int prev = nIn;
        List<Integer> hidden = cfg.hidden();
        for (int i = 0; i < hidden.size(); i++) {
            DenseLayer.Builder layer = new DenseLayer.Builder().nIn(prev).nOut(hidden.get(i)).activation(Activation.RELU);
            // DL4J applies dropOut(p) to the layer's INPUT and p is the RETAIN probability.
            double drop = i == 0 ? cfg.inputDropout() : cfg.hiddenDropout();
            if (drop > 0) {
                layer.dropOut(1 - drop);
            }
            if (cfg.maxNorm() > 0) {
                // W is [nIn, nOut]: the norm over dimension 0 is each unit's incoming weight vector.
                layer.constrainWeights(new MaxNormConstraint(cfg.maxNorm(), 0));
            }
            list.layer(ReluDense.of(layer.build()));
            prev = hidden.get(i);
        }
        OutputLayer.Builder out = new OutputLayer.Builder().nIn(prev).nOut(nOut);
        if (lossOnLogits == null) {
            out.lossFunction(new LossMCXENT()).activation(Activation.SOFTMAX);
        } else {
            out.lossFunction(lossOnLogits).activation(Activation.IDENTITY);
        }
        if (cfg.hiddenDropout() > 0) {
            out.dropOut(1 - cfg.hiddenDropout());
        }
        if (cfg.maxNorm() > 0) {
            out.constrainWeights(new MaxNormConstraint(cfg.maxNorm(), 0));
        }
        list.layer(out.build());
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return new Classifier(net);
    }

    /**
     * Builds a freshly initialised convolutional net (He initialisation, float32, workspaces on):
     * {@link Im2colConv} convolutions and {@link NhwcMaxPool} pooling per stage, {@link ReluDense}
     * hidden layers, then the output layer as in {@link #create(MlpConfig, int, int, ILossFunction, long)}.
     * Inputs are rows of {@code cfg.numInputs()} values, pixels in (y, x, channel) order. Every layer
     * with parameters holds DL4J's plain {@code "W"} and {@code "b"}; pooling layers hold none.
     *
     * @param lossOnLogits null for softmax cross-entropy with one-hot labels; otherwise a loss whose
     *                     input is the raw logits (identity output activation)
     */
    public static Classifier create(ConvConfig cfg, int nOut, ILossFunction lossOnLogits, long seed) {
        IUpdater updater = cfg.optimizer() == MlpConfig.Optimizer.ADAM
                ? new FusedAdam(cfg.learningRate())
                : new Nesterovs(cfg.learningRate(), cfg.momentum());
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(updater)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED);
        if (cfg.l2() > 0) {
            b.l2(cfg.l2());
        }
        NeuralNetConfiguration.ListBuilder list = b.list();
        int h = cfg.inputHeight();
        int w = cfg.inputWidth();
        int in = cfg.inputChannels();
        for (int c : cfg.channels()) {
            for (int i = 0; i < cfg.convsPerStage(); i++) {
                list.layer(Im2colConv.of(h, w, in, cfg.kernel(), c));
                in = c;
            }
            if (cfg.pool() > 1) {
                list.layer(NhwcMaxPool.of(h, w, in, cfg.pool()));
                h /= cfg.pool();
                w /= cfg.pool();
            }
        }
        int prev = cfg.featureSize();
        for (int units : cfg.dense()) {
            DenseLayer.Builder layer = new DenseLayer.Builder().nIn(prev).nOut(units).activation(Activation.RELU);
            if (cfg.dropout() > 0) {
                layer.dropOut(1 - cfg.dropout());  // DL4J: RETAIN probability, applied to the layer's input
            }
            list.layer(ReluDense.of(layer.build()));
            prev = units;
        }
        OutputLayer.Builder out = new OutputLayer.Builder().nIn(prev).nOut(nOut);
        if (lossOnLogits == null) {
            out.lossFunction(new LossMCXENT()).activation(Activation.SOFTMAX);
        } else {
            out.lossFunction(lossOnLogits).activation(Activation.IDENTITY);
        }
        if (cfg.dropout() > 0) {
            out.dropOut(1 - cfg.dropout());
        }
        list.layer(out.build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return new Classifier(net);
    }

    /** Wraps an existing network (e.g. one whose output layer a specialist replaced). */
    public static Classifier of(MultiLayerNetwork net) {
        return new Classifier(net);
    }

    /** Loads a model saved by {@link #save}; a missing or unreadable file is an error naming it. */
    public static Classifier load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model checkpoint not found: " + file);
        }
        try {
            return new Classifier(ModelSerializer.restoreMultiLayerNetwork(file.toFile(), true));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read model checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Saves weights, configuration and updater state atomically. */
    public void save(Path file) {
        AtomicFiles.write(file, out -> ModelSerializer.writeModel(net, out, true));
    }

    public MultiLayerNetwork network() {
        return net;
    }

    public int numInputs() {
        if (net.getLayerWiseConfigurations().getConf(0).getLayer() instanceof Im2colConv conv) {
            return (int) conv.inputSize();  // its nIn is the patch size
        }
        return (int) net.layerInputSize(0);
    }

    public int numClasses() {
        return (int) net.layerSize(net.getnLayers() - 1);
    }

    /** Logits {@code z} for every row of {@code x} (inference mode, no dropout), in chunks. */
    public INDArray logits(INDArray x) {
        long n = x.rows();
        INDArray z = Nd4j.create(DataType.FLOAT, n, numClasses());
        for (long start = 0; start < n; start += CHUNK) {
            long end = Math.min(n, start + CHUNK);
            INDArray chunk = x.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
            z.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).assign(logitsOfChunk(chunk));
        }
        return z;
    }

    private INDArray logitsOfChunk(INDArray x) {
        if (identityOutput) {
            return net.output(x, false);
        }
        int last = net.getnLayers() - 1;
        // activateSelectedLayers needs from < to, so one hidden layer goes through feedForwardToLayer
        // (whose list starts with the input).
        INDArray h = last == 0 ? x
                : last == 1 ? net.feedForwardToLayer(0, x, false).get(1)
                : net.activateSelectedLayers(0, last - 1, x);
        INDArray w = net.getLayer(last).getParam("W");
        INDArray bias = net.getLayer(last).getParam("b");
        return h.castTo(w.dataType()).mmul(w).addiRowVector(bias);
    }

    /** Most probable class of each row. */
    public int[] predict(INDArray x) {
        return argmaxRows(logits(x));
    }

    /** Number of rows of {@code x} whose predicted class differs from {@code labels}. */
    public int errors(INDArray x, int[] labels) {
        int[] p = predict(x);
        int errors = 0;
        for (int i = 0; i < p.length; i++) {
            errors += p[i] != labels[i] ? 1 : 0;
        }
        return errors;
    }

    /** SHA-256 of the parameters: what a derived model's provenance names as its input. */
    public String fingerprint() {
        float[] p = net.params().toFloatVector();
        ByteBuffer buf = ByteBuffer.allocate(p.length * 4);
        buf.asFloatBuffer().put(p);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(buf.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Row-wise argmax of a matrix. */
    public static int[] argmaxRows(INDArray m) {
        float[] v = m.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int cols = (int) m.columns();
        int[] out = new int[(int) m.rows()];
        for (int r = 0; r < out.length; r++) {
            int best = 0;
            float bestValue = v[r * cols];
            for (int c = 1; c < cols; c++) {
                if (v[r * cols + c] > bestValue) {
                    bestValue = v[r * cols + c];
                    best = c;
                }
            }
            out[r] = best;
        }
        return out;
    }
}
