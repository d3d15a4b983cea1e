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
 * @param head              {@code dustbin}: §5.2's softmax over the subset plus one dustbin class;
 *                          {@code full}: §6.1's full softmax over all K classes, initialised as the
 *                          generalist itself and trained with hard targets on the examples of its
 *                          special classes and the generalist's soft targets on the others' (folded into
 *                          subset + dustbin for §5.4: the dustbin is its mass on the non-special classes)
 * @param softTemperature   §6.1: the temperature T of the generalist's soft targets and of the specialist's
 *                          softmax in the soft term ({@code head=full} only)
 * @param hardWeight        §6.1: the weight w of the hard-target term against the soft term's weight 1
 *                          (times T²), {@link darkknowledge.distill.DistillationLoss}'s convention
 *                          ({@code head=full} only)
 * @param correctionOnValidation whether the ensemble's headline correction is the one (of none,
 *                          log_oversampling, prior_shift, fitted) whose ensemble is most accurate on the
 *                          validation split, instead of {@code correction}; the choice is recorded
 */
public record SpecialistConfig(double subsetShare, DustbinCorrection correction, int epochs, double learningRate,
                               double learningRateDecay, int patience, int workers, Head head, double softTemperature,
                               double hardWeight, boolean correctionOnValidation) implements java.io.Serializable {

    /** A specialist's output layer: §5.2's subset + dustbin, or §6.1's full softmax. */
    public enum Head { DUSTBIN, FULL }

    /** §5.2 specialists with a dustbin head and the configured correction. */
    public SpecialistConfig(double subsetShare, DustbinCorrection correction, int epochs, double learningRate,
                            double learningRateDecay, int patience, int workers) {
        this(subsetShare, correction, epochs, learningRate, learningRateDecay, patience, workers, Head.DUSTBIN, 2, 1,
                false);
    }

    public SpecialistConfig {
        Check.inRange("subsetShare", subsetShare, 0.05, 0.95);
        Check.that(correction != null, "correction", "must be none, log_oversampling, prior_shift or fitted");
        Check.positive("epochs", epochs);
        Check.positive("learningRate", learningRate);
        Check.inRange("learningRateDecay", learningRateDecay, 1e-6, 1);
        Check.atLeast("patience", patience, 0);
        Check.inRange("workers", workers, 1, 64);
        Check.that(head != null, "head", "must be dustbin or full");
        Check.inRange("softTemperature", softTemperature, 1, 100);
        Check.inRange("hardWeight", hardWeight, 0, 1000);
    }

    public SpecialistConfig withWorkers(int w) {
        return new SpecialistConfig(subsetShare, correction, epochs, learningRate, learningRateDecay, patience, w, head,
                softTemperature, hardWeight, correctionOnValidation);
    }

    /** These settings with §6.1's full head at temperature {@code t} and hard weight {@code w}. */
    public SpecialistConfig withFullHead(double t, double w) {
        return new SpecialistConfig(subsetShare, correction, epochs, learningRate, learningRateDecay, patience, workers,
                Head.FULL, t, w, correctionOnValidation);
    }

    public SpecialistConfig withCorrection(DustbinCorrection c, boolean onValidation) {
        return new SpecialistConfig(subsetShare, c, epochs, learningRate, learningRateDecay, patience, workers, head,
                softTemperature, hardWeight, onValidation);
    }

    public static SpecialistConfig defaults() {
        return new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 10, 3e-4, 0.9, 3, 2);
    }
}
