package darkknowledge.distill;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The "cumbersome model" of Hinton et al. 2015, §2: anything that gives a distribution over the
 * classes for each input at a temperature. A teacher never trains; students see it through
 * {@link SoftTargets} computed once per transfer set, or, when the transfer set is jittered, through
 * its outputs on each minibatch as the student sees it.
 */
public interface Teacher {

    /** Identifies the teacher in provenance (e.g. its checkpoint's parameter hash). */
    String id();

    int numClasses();

    /** Row-wise distributions {@code p} at temperature {@code T} (rows sum to 1). */
    INDArray softTargets(INDArray features, double temperature);

    /** A model seen through its logits. */
    @FunctionalInterface
    interface Logits {
        INDArray logits(INDArray features);
    }

    /** One network: {@code p = softmax(v / T)}. */
    static Teacher single(String id, int numClasses, Logits model) {
        return new Teachers.Single(id, numClasses, model);
    }

    /**
     * An ensemble averaged in probability (arithmetic mean, §2):
     * {@code p = (1/M) Σ_m softmax(v_m / T)}.
     */
    static Teacher probabilityMean(String id, List<Teacher> members) {
        return new Teachers.ProbabilityMean(id, List.copyOf(members));
    }

    /**
     * An ensemble averaged in logits (a normalised geometric mean of the members' distributions):
     * {@code p = softmax(((1/M) Σ_m v_m) / T)}.
     */
    static Teacher logitMean(String id, int numClasses, List<Logits> members) {
        return new Teachers.LogitMean(id, numClasses, List.copyOf(members));
    }
}
