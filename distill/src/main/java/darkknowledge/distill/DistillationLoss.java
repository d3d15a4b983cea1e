package darkknowledge.distill;

import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
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
 * output); a row of zeros for {@code y} (an unlabeled transfer example) drops its hard term. Use it
 * with the identity output activation. Scores are averaged over the minibatch when asked.
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
        INDArray z = activationFn.getActivation(preOutput.dup(), true);
        Parts parts = split(labels, z);
        INDArray soft = parts.p.mul(TemperatureSoftmax.logSoften(z, temperature)).sum(true, 1)
                .muli(-temperature * temperature);
        if (hardWeight > 0) {
            soft.addi(parts.y.mul(TemperatureSoftmax.logSoften(z, 1)).sum(true, 1).muli(-hardWeight));
        }
        INDArray score = soft.reshape(soft.length());
        return mask == null ? score : score.muli(mask.reshape(mask.length()).castTo(score.dataType()));
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.rows() : sum;
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray z = activationFn.getActivation(preOutput.dup(), true);
        Parts parts = split(labels, z);
        INDArray grad = TemperatureSoftmax.soften(z, temperature).subi(parts.p).muli(temperature);
        if (hardWeight > 0) {
            grad.addi(TemperatureSoftmax.soften(z, 1).subi(parts.y).muli(hardWeight));
        }
        INDArray dz = activationFn.backprop(preOutput.dup(), grad).getFirst();
        return mask == null ? dz : dz.muliColumnVector(mask.reshape(mask.length(), 1).castTo(dz.dataType()));
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return Pair.of(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    private record Parts(INDArray p, INDArray y) {
    }

    private static Parts split(INDArray labels, INDArray z) {
        long k = z.columns();
        if (labels.columns() != 2 * k) {
            throw new IllegalArgumentException("distillation labels must be [soft targets | one-hot], " + 2 * k
                    + " columns for " + k + " logits; got " + labels.columns());
        }
        INDArray l = labels.castTo(z.dataType());
        return new Parts(l.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)),
                l.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k)));
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
