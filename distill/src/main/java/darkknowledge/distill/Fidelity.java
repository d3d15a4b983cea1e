package darkknowledge.distill;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * How closely a student reproduces its teacher on a set of inputs. Hinton et al. 2015, §2, train
 * the student to match the teacher's distribution {@code p} at temperature T; what is left of that
 * match is
 * <pre>  T² · KL(p ‖ q) = T² · Σ_i p_i (log p_i − log q_i),   q = softmax(z / T),</pre>
 * the soft term of {@link DistillationLoss} less its constant (the teacher's entropy), on the same
 * T² scale, averaged over the inputs. Measured on the transfer set it is what training minimised;
 * on held-out inputs, how well the match generalises. {@code disagreements} counts the inputs on
 * which the two rank different classes first (each at T = 1).
 *
 * @param scaledKl      mean T² · KL(p ‖ q)
 * @param disagreements inputs where the teacher's top class at T = 1 is not the student's
 * @param examples      inputs measured
 */
public record Fidelity(double scaledKl, int disagreements, int examples) {
    private static final int CHUNK = 4096;

    public static Fidelity measure(Teacher teacher, Teacher.Logits student, INDArray features, double temperature) {
        TemperatureSoftmax.checkTemperature(temperature);
        long n = features.rows();
        double klSum = 0;
        int disagreements = 0;
        for (long start = 0; start < n; start += CHUNK) {
            INDArray x = features.get(NDArrayIndex.interval(start, Math.min(n, start + CHUNK)), NDArrayIndex.all());
            // Renormalised in double: a float p sums to 1 only within ~1e-7, which T² = 400 would turn into
            // a divergence of ~1e-5 between identical nets.
            INDArray p = teacher.softTargets(x, temperature).castTo(DataType.DOUBLE);
            p.diviColumnVector(p.sum(true, 1));
            INDArray logQ = TemperatureSoftmax.logSoften(student.logits(x).castTo(DataType.DOUBLE), temperature);
            // p log p is taken as 0 where p underflowed to 0.
            INDArray logP = Transforms.log(Transforms.max(p, Double.MIN_NORMAL, true), false);
            klSum += p.mul(logP.subi(logQ)).sumNumber().doubleValue();
            // Top classes at T = 1: the same as at T for one net, not for an ensemble averaged in probability.
            int[] a = argmax(temperature == 1 ? p : teacher.softTargets(x, 1));
            int[] b = argmax(logQ);
            for (int i = 0; i < a.length; i++) {
                if (a[i] != b[i]) {
                    disagreements++;
                }
            }
        }
        return new Fidelity(temperature * temperature * klSum / n, disagreements, (int) n);
    }

    private static int[] argmax(INDArray m) {
        return m.argMax(1).toIntVector();
    }
}
