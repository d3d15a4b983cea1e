package darkknowledge.specialists;

import darkknowledge.core.Check;

/**
 * How specialists are trained (§5.2). The architecture and regularisation are the generalist's
 * (a specialist starts as a copy of it); these are the settings that differ.
 *
 * @param subsetShare       fraction of a specialist's training examples drawn from its subset (paper ½);
 *                          the rest are drawn at random from the other classes
 * @param correction        dustbin logit correction applied after training
 * @param epochs            maximum epochs per specialist
 * @param learningRate      initial learning rate (fine-tuning: usually below the generalist's)
 * @param learningRateDecay per-epoch decay
 * @param patience          early stopping on the specialist's validation errors (0 = never)
 * @param workers           specialists trained at once by {@link Specialists#trainAll} (the bench); the
 *                          experiments hand their specialists to an engine, whose {@code engine.workers} counts
 */
public record SpecialistConfig(double subsetShare, DustbinCorrection correction, int epochs, double learningRate,
                               double learningRateDecay, int patience, int workers) implements java.io.Serializable {
    public SpecialistConfig {
        Check.inRange("subsetShare", subsetShare, 0.05, 0.95);
        Check.that(correction != null, "correction", "must be none, log_oversampling or prior_shift");
        Check.positive("epochs", epochs);
        Check.positive("learningRate", learningRate);
        Check.inRange("learningRateDecay", learningRateDecay, 1e-6, 1);
        Check.atLeast("patience", patience, 0);
        Check.inRange("workers", workers, 1, 64);
    }

    public SpecialistConfig withWorkers(int w) {
        return new SpecialistConfig(subsetShare, correction, epochs, learningRate, learningRateDecay, patience, w);
    }

    public static SpecialistConfig defaults() {
        return new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 10, 3e-4, 0.9, 3, 2);
    }
}
