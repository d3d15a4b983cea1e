package darkknowledge.generalist;

/**
 * What {@link Trainer} needs of a net's configuration, whatever the architecture: minibatch size,
 * input jitter, the number of epochs, early-stopping patience and the per-epoch learning rate
 * (decayed per epoch, and reduced on validation plateaus if {@link #plateau()} says so).
 * {@link MlpConfig} and {@link ConvConfig} provide it.
 */
public interface TrainingSchedule {
    int epochs();

    int batchSize();

    /** Random translation of input images by up to this many pixels (0 = none). */
    int jitter();

    /** Stop after this many epochs without a new best validation error (0 = never). */
    int patience();

    /** Learning rate of the first epoch. */
    double learningRate();

    /** Per-epoch multiplicative decay of the learning rate. */
    double learningRateDecay();

    /** Learning rate of epoch {@code e} (0-based) by the schedule's per-epoch rule, before any plateau reductions. */
    double learningRateAt(int e);

    /** Reductions of the learning rate when validation stops improving ({@link Plateau#OFF}: none). */
    default Plateau plateau() {
        return Plateau.OFF;
    }

    /**
     * Learning rate of epoch {@code e} after epochs {@code 0..e-1} made {@code validationErrors}:
     * {@link #learningRateAt(int)} times the plateau reductions so far, {@code factor^(r_e)} ({@link
     * Plateau}); for a decaying schedule {@code lr_0 · decay^e · factor^(r_e)}.
     */
    default double learningRateAt(int e, int[] validationErrors) {
        return learningRateAt(e) * plateau().multiplierBefore(e, validationErrors);
    }
}
