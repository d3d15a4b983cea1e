package darkknowledge.distill;

import darkknowledge.kernels.VectorMath;
import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The distillation objective of Hinton et al. 2015, §2, on the student's logits {@code z}:
 *
 * <pre>
 *   L = T² · ( −Σ_i p_i log q_i(T) )  +  w · ( −Σ_i y_i log q_i(1) ),   q(T) = softmax(z / T)
 *   ∂L/∂z_i = T · (q_i(T) − p_i)  +  w · (q_i(1) − y_i)
 * </pre>
 *
 * where {@code p} are the teacher's soft targets at the same {@code T} and {@code y} the one-hot
 * hard label. <b>Our convention for the weight</b>: the soft term always has weight 1 before its
 * {@code T²} factor, and {@code w} ({@code hardWeight}) multiplies the hard term only; {@code w = 0}
 * is soft targets alone. The {@code T²} factor keeps the soft gradient's magnitude independent of
 * {@code T} (§2: it scales as 1/T²), so the balance between the terms does not move when T does.
 * The paper gives one number: a relative weight 0.5 on the hard term (speech, §4).
 *
 * <p>Labels are {@code [p | y]}, 2K columns for K logits (DL4J accepts labels wider than the
 * output); a row of zeros for {@code y} (an unlabeled transfer example) drops its hard term, from
 * the score and from the gradient. Use it with the identity output activation. Scores are averaged
 * over the minibatch when asked.
 *
 * <p><b>How it is computed.</b> Score and gradient are one pass over each row of the logits and
 * labels, in plain double-precision loops: the row maximum {@code m}, then
 * {@code log q_i(T) = (z_i − m)/T − log Σ_j exp((z_j − m)/T)} (finite for logits of any size), the
 * row's score and {@code ∂L/∂z_i = T · (q_i(T) · Σ_j p_j − p_i) + w · (q_i(1) · Σ_j y_j − y_i)}, the
 * exact derivative of the score for any label row; where each row of {@code p} and of {@code y}
 * sums to 1 (soft targets, one-hot labels) it is the formula above. The result is rounded once to
 * the logits' data type. The same quantities used to be a chain of some twenty ND4J ops per call
 * ({@link TemperatureSoftmax}, products, sums, copies), two calls per training step, each op a
 * native call costing far more than its arithmetic on a {@code 128 × 10} minibatch: 3.3 ms a step
 * against 0.12 ms for this pass and 0.5 ms for the hard-label net's softmax cross-entropy
 * (784-800-800-10 at batch 128, 2 shared cores of an AMD EPYC, 2026-12). That made a distillation
 * epoch 1.12–1.20× a hard-label epoch in step-interleaved runs (the bench's single epoch said 1.24);
 * with this pass it is 1.00×. {@code DistillationLossTest} checks this pass against that
 * formulation to fp32 rounding, and the gradient against DL4J's numerical gradient check.
 */
public final class DistillationLoss implements ILossFunction {
    @JsonProperty
    private double temperature;
    @JsonProperty
    private double hardWeight;

    /** For JSON deserialisation of saved models. */
    public DistillationLoss() {
        this(1, 0);
    }

    public DistillationLoss(double temperature, double hardWeight) {
        TemperatureSoftmax.checkTemperature(temperature);
        if (!(hardWeight >= 0) || Double.isInfinite(hardWeight)) {
            throw new IllegalArgumentException("hardWeight must be a finite number >= 0, got " + hardWeight);
        }
        this.temperature = temperature;
        this.hardWeight = hardWeight;
    }

    public double temperature() {
        return temperature;
    }

    public double hardWeight() {
        return hardWeight;
    }

    /** The label matrix {@code [softTargets | oneHot]} that this loss reads. */
    public static INDArray labels(INDArray softTargets, INDArray oneHot) {
        if (softTargets.rows() != oneHot.rows() || softTargets.columns() != oneHot.columns()) {
            throw new IllegalArgumentException("soft targets " + java.util.Arrays.toString(softTargets.shape())
                    + " and one-hot labels " + java.util.Arrays.toString(oneHot.shape()) + " must have the same shape");
        }
        return Nd4j.hstack(softTargets, oneHot.castTo(softTargets.dataType()));
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray z = logits(preOutput, activationFn);
        double[] scores = new double[(int) z.rows()];
        pass(labels, z, mask, scores, null);
        return Nd4j.create(scores, new long[] {scores.length}, z.dataType());
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        INDArray z = logits(preOutput, activationFn);
        double[] scores = new double[(int) z.rows()];
        pass(labels, z, mask, scores, null);
        return total(scores, average);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray z = logits(preOutput, activationFn);
        double[] grad = new double[(int) (z.rows() * z.columns())];
        pass(labels, z, mask, null, grad);
        return backprop(preOutput, activationFn, grad, z);
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        INDArray z = logits(preOutput, activationFn);
        double[] scores = new double[(int) z.rows()];
        double[] grad = new double[(int) (z.rows() * z.columns())];
        pass(labels, z, mask, scores, grad);
        return Pair.of(total(scores, average), backprop(preOutput, activationFn, grad, z));
    }

    /** The logits: the pre-output itself under the identity activation (read only), else the activation of a copy. */
    private static INDArray logits(INDArray preOutput, IActivation activationFn) {
        if (preOutput.rank() != 2) {
            throw new IllegalArgumentException("distillation takes a matrix of logits, got shape "
                    + java.util.Arrays.toString(preOutput.shape()));
        }
        return activationFn instanceof ActivationIdentity ? preOutput
                : activationFn.getActivation(preOutput.dup(), true);
    }

    private static double total(double[] scores, boolean average) {
        double sum = 0;
        for (double s : scores) {
            sum += s;
        }
        return average ? sum / scores.length : sum;
    }

    /** {@code ∂L/∂preOutput} from {@code ∂L/∂z} ({@code grad}, row-major), in the logits' data type. */
    private static INDArray backprop(INDArray preOutput, IActivation activationFn, double[] grad, INDArray z) {
        long[] shape = {z.rows(), z.columns()};
        INDArray dz;
        if (z.dataType() == DataType.FLOAT) {
            float[] f = new float[grad.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) grad[i];
            }
            dz = Nd4j.create(f, shape, z.dataType());
        } else {
            dz = Nd4j.create(grad, shape, z.dataType());
        }
        return activationFn instanceof ActivationIdentity ? dz : activationFn.backprop(preOutput.dup(), dz).getFirst();
    }

    /**
     * The fused pass: each row's score into {@code scores} and {@code ∂L/∂z} (row-major) into
     * {@code grad}, either of them null when not wanted; both multiplied by the row's mask, if any.
     * Reads any layout of {@code z} and {@code labels} (views included), each copied once, row-major.
     */
    private void pass(INDArray labels, INDArray z, INDArray mask, double[] scores, double[] grad) {
        int rows = (int) z.rows();
        int k = (int) z.columns();
        if (labels.rank() != 2 || labels.columns() != 2L * k || labels.rows() != rows) {
            throw new IllegalArgumentException("distillation labels must be [soft targets | one-hot], " + rows + " × "
                    + 2 * k + " for " + rows + " × " + k + " logits; got " + java.util.Arrays.toString(labels.shape()));
        }
        if (mask != null && mask.length() != rows) {
            throw new IllegalArgumentException("the mask must hold one value per example (" + rows + "), got shape "
                    + java.util.Arrays.toString(mask.shape()));
        }
        // The logits and labels as plain row-major arrays, one bulk copy each: reading them element
        // by element through the DataBuffer's bounds-checked indexer cost more than the arithmetic at
        // 3,755 classes (half of a glyph specialist's time, JFR 2026-12-07).
        double[] zf = rowMajor(z);
        double[] lf = rowMajor(labels);
        double t = temperature;
        double[] zs = new double[k];
        double[] q = new double[k];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            int zr = r * k;
            for (int j = 0; j < k; j++) {
                zs[j] = zf[zr + j];
                max = Math.max(max, zs[j]);
            }
            int p = r * 2 * k;
            double score = term(zs, max, t, lf, p, q, t * t, t, grad, r * k, false);
            if (hardWeight > 0) {
                score += term(zs, max, 1, lf, p + k, q, hardWeight, hardWeight, grad, r * k, true);
            }
            double m = mask == null ? 1 : mask.getDouble(r);
            if (scores != null) {
                scores[r] = score * m;
            }
            if (grad != null && m != 1) {
                for (int j = r * k; j < (r + 1) * k; j++) {
                    grad[j] *= m;
                }
            }
        }
    }

    /** {@code a}'s elements in row-major order, widened to double exactly (a copy; any layout, views included). */
    private static double[] rowMajor(INDArray a) {
        boolean plain = !a.isView() && a.ordering() == 'c' && a.data().length() == a.length();
        INDArray c = plain ? a : a.dup('c');
        if (c.dataType() != DataType.FLOAT) {
            return c.data().asDouble();
        }
        // one bulk copy of the native buffer (DataBuffer.asFloat reads it element by element)
        float[] f = java.lang.foreign.MemorySegment.ofAddress(c.data().addressPointer().address())
                .reinterpret(c.length() * Float.BYTES).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /**
     * One cross-entropy term of one row: with targets {@code l_j = labels[at + j]}, returns
     * {@code −a · Σ_j l_j log q_j(tt)} and writes (or with {@code add}, adds)
     * {@code b · (q_j(tt) · Σ_j l_j − l_j)} into {@code grad[g + j]} (not when it is null).
     * {@code max} is the row's largest logit; {@code q} is scratch space.
     */
    private static double term(double[] z, double max, double tt, double[] labels, int at, double[] q,
                               double a, double b, double[] grad, int g, boolean add) {
        int k = z.length;
        // exp on vector lanes: at 3,755 classes the scalar Math.exp was 14% of a specialist's time
        double sum = VectorMath.expShifted(z, max, tt, q, k);
        double logSum = Math.log(sum);
        double cross = 0;
        double mass = 0;
        for (int j = 0; j < k; j++) {
            double l = labels[at + j];
            cross += l * ((z[j] - max) / tt - logSum);  // l_j log q_j(tt)
            mass += l;
        }
        if (grad != null) {
            double scale = mass / sum;
            for (int j = 0; j < k; j++) {
                double d = b * (q[j] * scale - labels[at + j]);
                grad[g + j] = add ? grad[g + j] + d : d;
            }
        }
        return -a * cross;
    }

    @Override
    public String name() {
        return toString();
    }

    @Override
    public String toString() {
        return "DistillationLoss(T=" + temperature + ", hardWeight=" + hardWeight + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistillationLoss d && d.temperature == temperature && d.hardWeight == hardWeight;
    }

    @Override
    public int hashCode() {
        return Objects.hash(temperature, hardWeight);
    }
}
