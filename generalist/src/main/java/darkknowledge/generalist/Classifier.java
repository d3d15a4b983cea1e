package darkknowledge.generalist;

import darkknowledge.kernels.ReluDense;
import darkknowledge.kernels.NhwcMaxPool;
import darkknowledge.kernels.DnnlConv;
import darkknowledge.kernels.DnnlMaxPool;
import darkknowledge.kernels.Im2colConv;
import darkknowledge.kernels.FusedMaxNorm;
import darkknowledge.kernels.FusedAdam;
import darkknowledge.kernels.GemmOutput;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
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
     * DL4J's dense layer without the recomputation of {@code z} in the backward pass, its products
     * in {@code cfg.precision()} (bf16: bfloat16 operands, fp32 accumulation, fp32 master weights);
     * the output layer is {@link GemmOutput}: DL4J's, its products on the faster BLAS and its
     * {@code z} computed once per step (fp32).
     *
     * @param lossOnLogits null for softmax cross-entropy with one-hot labels; otherwise a loss whose
     *                     input is the raw logits (identity output activation)
     */
    public static Classifier create(MlpConfig cfg, int nIn, int nOut, ILossFunction lossOnLogits, long seed) {
        NeuralNetConfiguration.ListBuilder list = layers(cfg.optimizer(), cfg.learningRate(), cfg.momentum(),
                momentumSchedule(cfg), cfg.l2(), seed);
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
                layer.constrainWeights(new FusedMaxNorm(cfg.maxNorm(), 0));
            }
            list.layer(ReluDense.of(layer.build(), cfg.precision()));
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
            out.constrainWeights(new FusedMaxNorm(cfg.maxNorm(), 0));
        }
        list.layer(GemmOutput.of(out.build()));
        MultiLayerConfiguration conf = list.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return new Classifier(net);
    }

    /**
     * Builds a freshly initialised convolutional net (He initialisation, float32, workspaces on):
     * {@link Im2colConv} convolutions and {@link NhwcMaxPool} pooling per stage ({@link DnnlConv} and
     * {@link DnnlMaxPool} with {@code conv.backend=dnnl}; the convolutions in {@code cfg.precision()}),
     * {@link ReluDense} hidden layers, then the output layer as in {@link #create(MlpConfig, int, int, ILossFunction, long)}.
     * Inputs are rows of {@code cfg.numInputs()} values, pixels in (y, x, channel) order. Every layer
     * with parameters holds DL4J's plain {@code "W"} and {@code "b"}; pooling layers hold none.
     *
     * @param lossOnLogits null for softmax cross-entropy with one-hot labels; otherwise a loss whose
     *                     input is the raw logits (identity output activation)
     */
    public static Classifier create(ConvConfig cfg, int nOut, ILossFunction lossOnLogits, long seed) {
        NeuralNetConfiguration.ListBuilder list = layers(cfg.optimizer(), cfg.learningRate(), cfg.momentum(), null,
                cfg.l2(), seed);
        int h = cfg.inputHeight();
        int w = cfg.inputWidth();
        int in = cfg.inputChannels();
        for (int c : cfg.channels()) {
            for (int i = 0; i < cfg.convsPerStage(); i++) {
                list.layer(switch (cfg.backend()) {
                    case IM2COL -> Im2colConv.of(h, w, in, cfg.kernel(), c);
                    case DNNL -> DnnlConv.of(h, w, in, cfg.kernel(), c, cfg.precision());
                });
                in = c;
            }
            if (cfg.pool() > 1) {
                list.layer(switch (cfg.backend()) {
                    case IM2COL -> NhwcMaxPool.of(h, w, in, cfg.pool());
                    case DNNL -> DnnlMaxPool.of(h, w, in, cfg.pool());
                });
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
        list.layer(GemmOutput.of(out.build()));
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return new Classifier(net);
    }

    /** Wraps an existing network (package-private: DL4J stays behind this type). */
    static Classifier of(MultiLayerNetwork net) {
        return new Classifier(net);
    }

    /** An independent copy: parameters, configuration and updater state. */
    public Classifier copy() {
        return new Classifier(net.clone());
    }

    /**
     * Copies every layer but the output layer from {@code source} (all of each layer's parameters,
     * whatever the layer type), leaving this net's output layer as it is. Both nets must have the
     * same body: the same layers with parameters of the same shapes.
     */
    public void copyBodyFrom(Classifier source) {
        MultiLayerNetwork g = source.net;
        int last = net.getnLayers() - 1;
        if (g.getnLayers() != net.getnLayers()) {
            throw new IllegalArgumentException("cannot copy the body of a " + g.getnLayers() + "-layer net into a "
                    + net.getnLayers() + "-layer one");
        }
        for (int i = 0; i < last; i++) {
            for (var e : g.getLayer(i).paramTable().entrySet()) {
                INDArray mine = net.getLayer(i).getParam(e.getKey());
                if (mine == null || !java.util.Arrays.equals(mine.shape(), e.getValue().shape())) {
                    throw new IllegalArgumentException("layer " + i + " parameter " + e.getKey() + ": shape "
                            + java.util.Arrays.toString(e.getValue().shape()) + " does not fit "
                            + (mine == null ? "a layer without it" : java.util.Arrays.toString(mine.shape())));
                }
                net.getLayer(i).setParam(e.getKey(), e.getValue().dup());
            }
        }
    }

    /**
     * A new net with this net's architecture and training settings (layers, dropout, constraints,
     * update rule) but an output layer of {@code nOut} classes; its body (every layer but the
     * output layer) holds a copy of this net's parameters, its head is freshly initialised from
     * {@code seed} (callers usually {@link #setHead} it). Works for any architecture this type
     * builds: how a specialist starts from its generalist (Hinton et al. 2015, §5.2).
     */
    public Classifier withNewHead(int nOut, long seed) {
        // Specialists are built from one generalist on several threads at once; DL4J's configuration
        // cloning and net initialisation (ND4J's global random generator) are not safe to interleave.
        synchronized (Classifier.class) {
            return withNewHeadLocked(nOut, seed);
        }
    }

    private Classifier withNewHeadLocked(int nOut, long seed) {
        org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
        int last = conf.getConfs().size() - 1;
        ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf.getConf(last).getLayer()).setNOut(nOut);
        // A new net starts its own count: Adam's bias correction and the schedule read these.
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        for (int i = 0; i <= last; i++) {
            conf.getConf(i).setSeed(seed);
            conf.getConf(i).setIterationCount(0);
            conf.getConf(i).setEpochCount(0);
        }
        MultiLayerNetwork fresh = new MultiLayerNetwork(conf);
        fresh.init();
        Classifier c = new Classifier(fresh);
        c.copyBodyFrom(this);
        return c;
    }

    /** Number of inputs of the output layer (the width of the last hidden representation). */
    public int headInputs() {
        return (int) net.layerInputSize(net.getnLayers() - 1);
    }

    /** The output layer's weights, {@code [headInputs, numClasses]}, as a copy. */
    public float[][] headWeights() {
        return net.getLayer(net.getnLayers() - 1).getParam("W").castTo(DataType.FLOAT).toFloatMatrix();
    }

    /** The output layer's biases, as a copy. */
    public float[] headBias() {
        return net.getLayer(net.getnLayers() - 1).getParam("b").castTo(DataType.FLOAT).toFloatVector();
    }

    /** Replaces the output layer's weights {@code [headInputs, numClasses]} and biases. */
    public void setHead(float[][] weights, float[] bias) {
        int last = net.getnLayers() - 1;
        if (weights.length != headInputs() || bias.length != numClasses()
                || java.util.Arrays.stream(weights).anyMatch(r -> r.length != numClasses())) {
            throw new IllegalArgumentException("head must be [" + headInputs() + ", " + numClasses() + "] weights and "
                    + numClasses() + " biases");
        }
        net.getLayer(last).setParam("W", Nd4j.createFromArray(weights));
        net.getLayer(last).setParam("b", Nd4j.createFromArray(bias).reshape(1, bias.length));
    }

    /** A copy whose output bias of class {@code column} is moved by {@code delta}; this net is unchanged. */
    public Classifier withBiasShift(int column, double delta) {
        Classifier c = copy();
        int last = net.getnLayers() - 1;
        INDArray b = c.net.getLayer(last).getParam("b").dup();
        b.putScalar(column, b.getDouble(column) + delta);
        c.net.getLayer(last).setParam("b", b);
        return c;
    }

    /**
     * A copy of this net, every parameter included, whose output layer computes the raw logits
     * (identity activation) and is trained with {@code lossOnLogits} instead of its own loss; the
     * update rule and its settings are kept, its state and counts start afresh. How a §6.1
     * specialist starts: the generalist itself, to be trained with a soft-target loss.
     */
    public Classifier withLossOnLogits(ILossFunction lossOnLogits) {
        synchronized (Classifier.class) {  // as withNewHead: configuration cloning and init on many threads
            org.deeplearning4j.nn.conf.MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
            int last = conf.getConfs().size() - 1;
            var out = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) conf.getConf(last).getLayer();
            out.setLossFn(lossOnLogits);
            out.setActivationFn(new org.nd4j.linalg.activations.impl.ActivationIdentity());
            conf.setIterationCount(0);
            conf.setEpochCount(0);
            for (int i = 0; i <= last; i++) {
                conf.getConf(i).setIterationCount(0);
                conf.getConf(i).setEpochCount(0);
            }
            MultiLayerNetwork fresh = new MultiLayerNetwork(conf);
            fresh.init();
            fresh.setParams(net.params().dup());
            return new Classifier(fresh);
        }
    }

    /** A copy with {@code delta} added to the output bias of every class in {@code columns}. */
    public Classifier withBiasShift(int[] columns, double delta) {
        Classifier c = copy();
        int last = net.getnLayers() - 1;
        INDArray b = c.net.getLayer(last).getParam("b").dup();
        for (int column : columns) {
            b.putScalar(column, b.getDouble(column) + delta);
        }
        c.net.getLayer(last).setParam("b", b);
        return c;
    }

    /**
     * The same MLP from DL4J's own parts: DenseLayer, OutputLayer, ND4J's Adam (what {@link ReluDense}
     * and {@link FusedAdam} replace); the bench's reference for what the replacements gain.
     */
    public static Classifier stockDl4j(MlpConfig cfg, int nIn, int nOut, long seed) {
        var list = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .weightInit(org.deeplearning4j.nn.weights.WeightInit.RELU)
                .updater(new org.nd4j.linalg.learning.config.Adam(cfg.learningRate()))
                .trainingWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(org.deeplearning4j.nn.conf.WorkspaceMode.ENABLED).list();
        int prev = nIn;
        for (int h : cfg.hidden()) {
            list.layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(prev).nOut(h)
                    .activation(org.nd4j.linalg.activations.Activation.RELU).build());
            prev = h;
        }
        list.layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(prev).nOut(nOut)
                .lossFunction(new org.nd4j.linalg.lossfunctions.impl.LossMCXENT())
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build());
        var net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(list.build());
        net.init();
        return new Classifier(net);
    }

    /**
     * A freshly initialised net of the given architecture: an MLP ({@link MlpConfig}) over
     * {@code nIn} inputs or a convolutional net ({@link ConvConfig}, whose input size it fixes).
     */
    public static Classifier create(TrainingSchedule architecture, int nIn, int nOut, ILossFunction lossOnLogits,
                                    long seed) {
        return switch (architecture) {
            case MlpConfig m -> create(m, nIn, nOut, lossOnLogits, seed);
            case ConvConfig c -> {
                if (c.numInputs() != nIn) {
                    throw new IllegalArgumentException("a " + c.inputHeight() + "x" + c.inputWidth() + "x"
                            + c.inputChannels() + " conv net takes " + c.numInputs() + " inputs; the data has " + nIn);
                }
                yield create(c, nOut, lossOnLogits, seed);
            }
            default -> throw new IllegalArgumentException("no architecture for " + architecture.getClass().getName());
        };
    }

    /**
     * The settings every net of ours shares: float32, He initialisation, workspaces on, the update
     * rule ({@link FusedAdam} or Nesterov momentum) and L2 weight decay if any.
     */
    private static NeuralNetConfiguration.ListBuilder layers(MlpConfig.Optimizer optimizer, double learningRate,
                                                             double momentum,
                                                             org.nd4j.linalg.schedule.ISchedule momentumSchedule,
                                                             double l2, long seed) {
        IUpdater updater = optimizer == MlpConfig.Optimizer.ADAM ? new FusedAdam(learningRate)
                : momentumSchedule == null ? new Nesterovs(learningRate, momentum)
                : new Nesterovs(learningRate, momentumSchedule);
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(updater)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED);
        if (l2 > 0) {
            b.l2(l2);
        }
        return b.list();
    }

    /**
     * The per-epoch momentum {@link MlpConfig#momentumAt} as DL4J's {@code MapSchedule} over epochs
     * (its last entry holds afterwards; the trainer counts epochs with {@code incrementEpochCount}),
     * or null for a constant momentum.
     */
    private static org.nd4j.linalg.schedule.ISchedule momentumSchedule(MlpConfig cfg) {
        if (cfg.optimizer() != MlpConfig.Optimizer.SGD_MOMENTUM || cfg.momentumRampEpochs() == 0) {
            return null;
        }
        java.util.Map<Integer, Double> byEpoch = new java.util.HashMap<>();
        for (int e = 0; e <= cfg.momentumRampEpochs(); e++) {
            byEpoch.put(e, cfg.momentumAt(e));
        }
        return new org.nd4j.linalg.schedule.MapSchedule(org.nd4j.linalg.schedule.ScheduleType.EPOCH, byEpoch);
    }

    /** The momentum the net's updater applies in epoch {@code epoch} (NaN for an updater without momentum). */
    public double momentumAt(int epoch) {
        IUpdater u = net.getLayerWiseConfigurations().getConf(0).getLayer().getUpdaterByParam("W");
        return u instanceof Nesterovs n ? n.currentMomentum(0, epoch) : Double.NaN;
    }

    /** Loads a model saved by {@link #save}; a missing or unreadable file is an error naming it. */
    public static Classifier load(Path file) {
        return load(file, true);
    }

    /**
     * Loads a model for predictions only: its optimiser state, if the file has one, is not read
     * (Adam's two moments are twice the parameters: 250 full-head specialists at 3,755 classes held
     * 20 GB with them, 7 without).
     */
    public static Classifier loadForInference(Path file) {
        return load(file, false);
    }

    private static Classifier load(Path file, boolean withUpdater) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("model checkpoint not found: " + file);
        }
        try {
            return new Classifier(ModelSerializer.restoreMultiLayerNetwork(file.toFile(), withUpdater));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read model checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Saves weights, configuration and updater state atomically. */
    public void save(Path file) {
        AtomicFiles.write(file, out -> ModelSerializer.writeModel(net, out, true));
    }

    /**
     * Saves weights and configuration atomically, without the optimiser's state: a model that is only
     * used for predictions from now on (a trained specialist). A third of {@link #save}'s bytes with
     * Adam, and a third of the time spent compressing them; {@link #load} reads it (with a fresh
     * optimiser state).
     */
    public void saveForInference(Path file) {
        AtomicFiles.write(file, out -> ModelSerializer.writeModel(net, out, false));
    }

    /**
     * The DL4J network inside: for this module's trainer and checkpoints, and for checks of the kernels
     * module's layers and the bench, which look at its layers and optimiser state. Experiments go
     * through this type's own methods.
     */
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
        return Sha256.begin().update(net.params().toFloatVector()).hex();
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
