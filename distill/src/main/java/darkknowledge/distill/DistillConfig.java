package darkknowledge.distill;

import darkknowledge.core.Check;

/**
 * How a student learns from a teacher (Hinton et al. 2015, §2).
 *
 * @param temperature T of teacher and student during training (the paper's MNIST: 20)
 * @param hardWeight  weight of the hard-label cross-entropy against 1 for T² × the soft one
 *                    (our convention, see {@link DistillationLoss}; 0 = soft targets only)
 * @param objective   {@code soft_targets} (distillation) or {@code logit_matching} (§2.1)
 */
public record DistillConfig(double temperature, double hardWeight, Objective objective) implements java.io.Serializable {

    /** Which loss the student minimises. */
    public enum Objective { SOFT_TARGETS, LOGIT_MATCHING }

    public DistillConfig {
        Check.positive("temperature", temperature);
        Check.nonNegative("hardWeight", hardWeight);
        Check.that(objective != null, "objective", "must be soft_targets or logit_matching");
    }

    public DistillConfig withTemperature(double t) {
        return new DistillConfig(t, hardWeight, objective);
    }

    /** The loss this config describes. */
    public org.nd4j.linalg.lossfunctions.ILossFunction loss() {
        return objective == Objective.SOFT_TARGETS
                ? new DistillationLoss(temperature, hardWeight)
                : new LogitMatchingLoss();
    }
}
