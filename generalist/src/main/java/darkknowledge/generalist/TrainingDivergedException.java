package darkknowledge.generalist;

/** The loss became NaN or infinite; the message names the model, epoch and batch. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String model, int epoch, int batch, double loss) {
        super("training of '" + model + "' diverged: loss " + loss + " at epoch " + (epoch + 1) + ", batch " + (batch + 1)
                + " (lower the learning rate, or check the inputs for NaN)");
    }
}
