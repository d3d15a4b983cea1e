package darkknowledge.generalist;

import darkknowledge.core.Check;

/**
 * A training schedule on its own, for training a net whose architecture already exists (a
 * specialist built from its generalist, the fine-tuned control): minibatch size, input jitter,
 * epochs, early-stopping patience and a learning rate decaying per epoch and reduced on validation
 * plateaus ({@link Plateau}), {@code lr_e = learningRate · learningRateDecay^e · factor^(r_e)}.
 */
public record Schedule(int epochs, int batchSize, int jitter, int patience, double learningRate,
                       double learningRateDecay, Plateau plateau) implements TrainingSchedule, java.io.Serializable {
    public Schedule {
        Check.positive("epochs", epochs);
        Check.positive("batchSize", batchSize);
        Check.atLeast("jitter", jitter, 0);
        Check.atLeast("patience", patience, 0);
        Check.positive("learningRate", learningRate);
        Check.positive("learningRateDecay", learningRateDecay);
        Check.that(plateau != null, "plateau", "must be given (Plateau.OFF for none)");
    }

    /** Without plateau reductions. */
    public Schedule(int epochs, int batchSize, int jitter, int patience, double learningRate, double learningRateDecay) {
        this(epochs, batchSize, jitter, patience, learningRate, learningRateDecay, Plateau.OFF);
    }

    @Override
    public double learningRateAt(int e) {
        return learningRate * Math.pow(learningRateDecay, e);
    }
}
