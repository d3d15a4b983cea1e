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
 *
 * <p>With §6.1's full head ({@link SpecialistConfig.Head#FULL}) the model keeps a softmax over all K
 * classes (it starts as the generalist itself); for §5.4 its distribution is folded into the
 * subset's classes plus a dustbin holding its mass on the others:
 * {@code p^m = (p_{S_1}, …, p_{S_|S|}, Σ_{c∉S} p_c)}. Its dustbin correction moves every non-special
 * logit by the same amount, which moves the folded dustbin logit by exactly that amount.
 */
public final class Specialist {
    private final int[] subset;
    private final Classifier model;
    private final double dustbinShift;
    private final SpecialistConfig.Head head;
    /** The dustbin shift in the network's bias; {@link #dustbinShift} minus it is added at prediction time. */
    private final double bakedShift;

    /** A specialist with §5.2's dustbin head. */
    public Specialist(int[] subset, Classifier model, double dustbinShift) {
        this(subset, model, dustbinShift, SpecialistConfig.Head.DUSTBIN);
    }

    public Specialist(int[] subset, Classifier model, double dustbinShift, SpecialistConfig.Head head) {
        this(subset, model, dustbinShift, head, dustbinShift);
    }

    private Specialist(int[] subset, Classifier model, double dustbinShift, SpecialistConfig.Head head,
                       double bakedShift) {
        if (head == SpecialistConfig.Head.DUSTBIN && model.numClasses() != subset.length + 1) {
            throw new IllegalArgumentException("a specialist of " + subset.length + " classes needs "
                    + (subset.length + 1) + " outputs, the model has " + model.numClasses());
        }
        if (head == SpecialistConfig.Head.FULL) {
            checkSubset(subset, model.numClasses());
        }
        this.subset = subset.clone();
        this.model = model;
        this.dustbinShift = dustbinShift;
        this.head = head;
        this.bakedShift = bakedShift;
    }

    /**
     * §6.1: a full-softmax specialist for {@code subset}: the generalist itself (every parameter),
     * its output layer giving raw logits to {@code lossOnLogits} (the soft-target loss it trains with).
     */
    public static Specialist initialiseFull(Classifier generalist, int[] subset,
                                            org.nd4j.linalg.lossfunctions.ILossFunction lossOnLogits) {
        checkSubset(subset, generalist.numClasses());
        return new Specialist(subset, generalist.withLossOnLogits(lossOnLogits), 0, SpecialistConfig.Head.FULL);
    }

    private static boolean[] checkSubset(int[] subset, int k) {
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
        return in;
    }

    public SpecialistConfig.Head head() {
        return head;
    }

    /**
     * A specialist for {@code subset} initialised from {@code generalist} (§5.2): the generalist's
     * whole body and, for each class of the subset, its output weights and bias; the dustbin's
     * weights are the mean of the other classes' and its bias their mean plus {@code log |others|},
     * so the dustbin starts with the mass of the classes it stands for. Any architecture.
     */
    public static Specialist initialise(Classifier generalist, int[] subset, long seed) {
        int k = generalist.numClasses();
        boolean[] in = checkSubset(subset, k);
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
        requireBaked();
        if (head == SpecialistConfig.Head.FULL) {
            return new Specialist(subset, model.withBiasShift(others(), shift - dustbinShift), shift, head);
        }
        return new Specialist(subset, model.withBiasShift(subset.length, shift - dustbinShift), shift);
    }

    /**
     * This specialist's predictions with {@code shift} as its dustbin correction, sharing its network:
     * the difference to the shift in the bias is added to the logits when {@link #probabilities} is
     * asked (the same logits the baked bias would give, up to float rounding), so comparing
     * corrections over hundreds of full-head specialists (each a copy of the generalist's 3,755-class
     * network) costs no copies. Its {@link #model} is not available: {@link #withDustbinShift} bakes.
     */
    public Specialist withDustbinShiftForPredictions(double shift) {
        return new Specialist(subset, model, shift, head, bakedShift);
    }

    private void requireBaked() {
        if (dustbinShift != bakedShift) {
            throw new IllegalStateException("this specialist's dustbin shift " + dustbinShift + " is applied at "
                    + "prediction time (withDustbinShiftForPredictions), not in its network's bias");
        }
    }

    /** The classes outside the subset (a full head's non-special outputs). */
    private int[] others() {
        boolean[] in = new boolean[model.numClasses()];
        for (int c : subset) {
            in[c] = true;
        }
        return java.util.stream.IntStream.range(0, in.length).filter(c -> !in[c]).toArray();
    }

    public int[] subset() {
        return subset.clone();
    }

    public Classifier model() {
        requireBaked();
        return model;
    }

    /**
     * The dustbin correction of this specialist's predictions (0 before {@link #withDustbinShift}): in
     * the network's bias, or for a {@link #withDustbinShiftForPredictions} view partly added at
     * prediction time.
     */
    public double dustbinShift() {
        return dustbinShift;
    }

    /**
     * Probabilities {@code [n, |S| + 1]} over the subset's classes (in {@link #subset} order) and the
     * dustbin (last column), as doubles.
     */
    public double[][] probabilities(INDArray x) {
        double[][] z = model.logits(x).castTo(DataType.DOUBLE).toDoubleMatrix();
        double pending = dustbinShift - bakedShift;
        if (pending != 0) {
            int[] shifted = head == SpecialistConfig.Head.FULL ? others() : new int[] {subset.length};
            for (double[] row : z) {
                for (int c : shifted) {
                    row[c] += pending;
                }
            }
        }
        double[][] p = softmaxRows(z);
        return head == SpecialistConfig.Head.FULL ? fold(p, subset) : p;
    }

    /**
     * A full distribution over K classes folded into subset + dustbin:
     * {@code (p_{S_1}, …, p_{S_|S|}, Σ_{c∉S} p_c)} (§6.1 read into §5.4).
     */
    static double[][] fold(double[][] p, int[] subset) {
        double[][] out = new double[p.length][subset.length + 1];
        boolean[] in = new boolean[p.length == 0 ? 0 : p[0].length];
        for (int c : subset) {
            in[c] = true;
        }
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < subset.length; j++) {
                out[i][j] = p[i][subset[j]];
            }
            double rest = 0;
            for (int c = 0; c < in.length; c++) {
                rest += in[c] ? 0 : p[i][c];
            }
            out[i][subset.length] = rest;
        }
        return out;
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
