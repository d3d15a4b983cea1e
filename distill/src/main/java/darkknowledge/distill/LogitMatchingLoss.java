package darkknowledge.distill;

import java.util.Objects;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Logit matching (Caruana et al., the special case of Hinton et al. 2015, §2.1): with each case's
 * logits zero-meaned, {@code L = ½ Σ_i (ẑ_i − v̂_i)²}, {@code ẑ = z − mean(z)},
 * {@code v̂ = v − mean(v)}, whose gradient is {@code ∂L/∂z_i = ẑ_i − v̂_i} (centering is a
 * projection). Distillation's soft gradient times {@code T²} approaches {@code (ẑ_i − v̂_i)/N} as
 * T grows, N the number of classes. Labels are the teacher's logits {@code v} (K columns), or
 * {@code [v | anything]} with 2K columns so the same label matrix as {@link DistillationLoss} fits.
 */
public final class LogitMatchingLoss implements ILossFunction {
    /** For JSON deserialisation of saved models. */
    public LogitMatchingLoss() {
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray diff = centredDifference(labels, activationFn.getActivation(preOutput.dup(), true));
        INDArray score = diff.muli(diff).sum(true, 1).muli(0.5);
        score = score.reshape(score.length());
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
        INDArray grad = centredDifference(labels, activationFn.getActivation(preOutput.dup(), true));
        INDArray dz = activationFn.backprop(preOutput.dup(), grad).getFirst();
        return mask == null ? dz : dz.muliColumnVector(mask.reshape(mask.length(), 1).castTo(dz.dataType()));
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return Pair.of(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    /** {@code (z − mean z) − (v − mean v)}, row-wise. */
    private static INDArray centredDifference(INDArray labels, INDArray z) {
        long k = z.columns();
        if (labels.columns() != k && labels.columns() != 2 * k) {
            throw new IllegalArgumentException("logit-matching labels must have " + k + " (or " + 2 * k
                    + ") columns; got " + labels.columns());
        }
        INDArray v = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).castTo(z.dataType());
        INDArray d = z.sub(v);
        return d.subiColumnVector(d.mean(true, 1));
    }

    @Override
    public String name() {
        return "LogitMatchingLoss";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogitMatchingLoss;
    }

    @Override
    public int hashCode() {
        return Objects.hash(LogitMatchingLoss.class);
    }
}
