package darkknowledge.specialists;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.util.Arrays;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A specialist (§5.2): the generalist's network with its output layer replaced by one unit per class
 * of {@link #subset} plus a dustbin unit (the last) standing for every other class.
 *
 * <p>Initialisation: hidden layers are copies of the generalist's. Output unit {@code j} for class
 * {@code subset[j]} copies the generalist's weights and bias of that class. The dustbin unit takes the
 * mean weight vector of the other classes and bias {@code mean(b_others) + log(K − |S|)}: were the
 * other classes' logits equal, its logit would be their log-sum-exp, so the specialist starts out
 * predicting (approximately) what the generalist predicts, grouped.
 */
public final class Specialist {
    private final int[] subset;
    private final Classifier model;
    private final double dustbinShift;

    public Specialist(int[] subset, Classifier model, double dustbinShift) {
        if (model.numClasses() != subset.length + 1) {
            throw new IllegalArgumentException("a specialist of " + subset.length + " classes needs "
                    + (subset.length + 1) + " outputs, the model has " + model.numClasses());
        }
        this.subset = subset.clone();
        this.model = model;
        this.dustbinShift = dustbinShift;
    }

    /** A specialist for {@code subset} initialised from {@code generalist} (architecture {@code cfg}). */
    public static Specialist initialise(Classifier generalist, MlpConfig cfg, int[] subset, long seed) {
        int k = generalist.numClasses();
        if (subset.length == 0 || subset.length >= k) {
            throw new IllegalArgumentException("a subset must hold 1.." + (k - 1) + " classes, got " + subset.length);
        }
        boolean[] in = new boolean[k];
        for (int c : subset) {
            if (c < 0 || c >= k || in[c]) {
                throw new IllegalArgumentException("subset " + Arrays.toString(subset) + ": class " + c
                        + " is out of range 0.." + (k - 1) + " or repeated");
            }
            in[c] = true;
        }
        Classifier spec = Classifier.create(cfg, generalist.numInputs(), subset.length + 1, null, seed);
        MultiLayerNetwork g = generalist.network();
        MultiLayerNetwork s = spec.network();
        int last = g.getnLayers() - 1;
        for (int i = 0; i < last; i++) {
            s.getLayer(i).setParam("W", g.getLayer(i).getParam("W").dup());
            s.getLayer(i).setParam("b", g.getLayer(i).getParam("b").dup());
        }
        INDArray gw = g.getLayer(last).getParam("W");
        INDArray gb = g.getLayer(last).getParam("b").reshape(k);
        INDArray sw = s.getLayer(last).getParam("W").dup();
        INDArray sb = s.getLayer(last).getParam("b").reshape(subset.length + 1).dup();
        for (int j = 0; j < subset.length; j++) {
            sw.getColumn(j).assign(gw.getColumn(subset[j]));
            sb.putScalar(j, gb.getDouble(subset[j]));
        }
        int[] others = java.util.stream.IntStream.range(0, k).filter(c -> !in[c]).toArray();
        INDArray ow = gw.get(NDArrayIndex.all(), NDArrayIndex.indices(Arrays.stream(others).asLongStream().toArray()));
        sw.getColumn(subset.length).assign(ow.mean(1));
        double meanBias = Arrays.stream(others).mapToDouble(gb::getDouble).average().orElse(0);
        sb.putScalar(subset.length, meanBias + Math.log(others.length));
        s.getLayer(last).setParam("W", sw);
        s.getLayer(last).setParam("b", sb.reshape(1, subset.length + 1));
        return new Specialist(subset, spec, 0);
    }

    /**
     * A copy of this specialist whose dustbin logit carries {@code shift} (the §5.2 correction) instead
     * of the current one, baked into the output bias. This specialist is left unchanged.
     */
    public Specialist withDustbinShift(double shift) {
        MultiLayerNetwork net = model.network().clone();
        int last = net.getnLayers() - 1;
        INDArray b = net.getLayer(last).getParam("b").dup();
        b.putScalar(subset.length, b.getDouble(subset.length) + shift - dustbinShift);
        net.getLayer(last).setParam("b", b);
        return new Specialist(subset, Classifier.of(net), shift);
    }

    public int[] subset() {
        return subset.clone();
    }

    public Classifier model() {
        return model;
    }

    /** The dustbin correction in the bias (0 before {@link #withDustbinShift}). */
    public double dustbinShift() {
        return dustbinShift;
    }

    /**
     * Probabilities {@code [n, |S| + 1]} over the subset's classes (in {@link #subset} order) and the
     * dustbin (last column), as doubles.
     */
    public double[][] probabilities(INDArray x) {
        INDArray z = model.logits(x).castTo(DataType.DOUBLE);
        return softmaxRows(z.toDoubleMatrix());
    }

    static double[][] softmaxRows(double[][] z) {
        double[][] p = new double[z.length][];
        for (int i = 0; i < z.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : z[i]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            p[i] = new double[z[i].length];
            for (int j = 0; j < z[i].length; j++) {
                p[i][j] = Math.exp(z[i][j] - max);
                sum += p[i][j];
            }
            for (int j = 0; j < z[i].length; j++) {
                p[i][j] /= sum;
            }
        }
        return p;
    }
}
