package darkknowledge.distill;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Softmax at temperature T, Hinton et al. 2015, §2, eq. 1:
 * {@code q_i = exp(z_i / T) / sum_j exp(z_j / T)}. The row maximum is subtracted first, so the
 * result is finite for logits of any magnitude and any {@code T > 0}.
 */
public final class TemperatureSoftmax {
    private TemperatureSoftmax() {
    }

    /** Softened distribution of one logit vector. */
    public static double[] soften(double[] logits, double temperature) {
        checkTemperature(temperature);
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logits) {
            max = Math.max(max, z);
        }
        double[] q = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < q.length; i++) {
            q[i] = Math.exp((logits[i] - max) / temperature);
            sum += q[i];
        }
        for (int i = 0; i < q.length; i++) {
            q[i] /= sum;
        }
        return q;
    }

    /** Row-wise softened distributions of a logit matrix (a new array; the input is untouched). */
    public static INDArray soften(INDArray logits, double temperature) {
        return Transforms.exp(logSoften(logits, temperature), false);
    }

    /** Row-wise {@code log softmax(z / T)}, computed stably (a new array). */
    public static INDArray logSoften(INDArray logits, double temperature) {
        checkTemperature(temperature);
        INDArray s = logits.div(temperature);
        s.subiColumnVector(s.max(1));
        INDArray logSum = Transforms.log(Transforms.exp(s, true).sum(true, 1), false);
        return s.subiColumnVector(logSum);
    }

    static void checkTemperature(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature);
        }
    }
}
