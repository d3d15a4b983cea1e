package darkknowledge.generalist;

/**
 * What {@link Trainer} needs of a net's configuration, whatever the architecture: minibatch size,
 * input jitter, the number of epochs, early-stopping patience and the per-epoch learning rate.
 * {@link MlpConfig} and {@link ConvConfig} provide it.
 */
public interface TrainingSchedule {
    int epochs();

    int batchSize();

    /** Random translation of input images by up to this many pixels (0 = none). */
    int jitter();

    /** Stop after this many epochs without a new best validation error (0 = never). */
    int patience();

    /** Learning rate of epoch {@code e} (0-based). */
    double learningRateAt(int e);
}
