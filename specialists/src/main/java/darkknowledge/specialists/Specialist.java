package darkknowledge.specialists;

import darkknowledge.generalist.Classifier;
import java.util.Arrays;
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

    /**
     * A specialist for {@code subset} initialised from {@code generalist} (§5.2): the generalist's
     * whole body and, for each class of the subset, its output weights and bias; the dustbin's
     * weights are the mean of the other classes' and its bias their mean plus {@code log |others|},
     * so the dustbin starts with the mass of the classes it stands for. Any architecture.
     */
    public static Specialist initialise(Classifier generalist, int[] subset, long seed) {
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
        Classifier spec = generalist.withNewHead(subset.length + 1, seed);
        float[][] gw = generalist.headWeights();
        float[] gb = generalist.headBias();
        int h = gw.length;
        int[] others = java.util.stream.IntStream.range(0, k).filter(c -> !in[c]).toArray();
        float[][] sw = new float[h][subset.length + 1];
        float[] sb = new float[subset.length + 1];
        for (int r = 0; r < h; r++) {
            for (int j = 0; j < subset.length; j++) {
                sw[r][j] = gw[r][subset[j]];
            }
        }
        // The dustbin's incoming weights: the mean of the other classes' (ND4J's float mean, as before).
        float[] dustbinW = org.nd4j.linalg.factory.Nd4j.createFromArray(gw)
                .get(NDArrayIndex.all(), NDArrayIndex.indices(Arrays.stream(others).asLongStream().toArray()))
                .mean(1).toFloatVector();
        for (int r = 0; r < h; r++) {
            sw[r][subset.length] = dustbinW[r];
        }
        for (int j = 0; j < subset.length; j++) {
            sb[j] = gb[subset[j]];
        }
        double meanBias = Arrays.stream(others).mapToDouble(c -> gb[c]).average().orElse(0);
        sb[subset.length] = (float) (meanBias + Math.log(others.length));
        spec.setHead(sw, sb);
        return new Specialist(subset, spec, 0);
    }

    /**
     * A copy of this specialist whose dustbin logit carries {@code shift} (the §5.2 correction) instead
     * of the current one, baked into the output bias. This specialist is left unchanged.
     */
    public Specialist withDustbinShift(double shift) {
        return new Specialist(subset, model.withBiasShift(subset.length, shift - dustbinShift), shift);
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
