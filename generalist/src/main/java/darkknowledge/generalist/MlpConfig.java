package darkknowledge.generalist;

import darkknowledge.core.Check;
import java.util.List;

/**
 * A ReLU MLP and how it is trained.
 *
 * @param hidden            units per hidden layer, e.g. {@code 1200,1200} (the paper's MNIST teacher)
 * @param inputDropout      probability of DROPPING an input unit (0 = none; the paper's teacher: 0.2)
 * @param hiddenDropout     probability of dropping a hidden unit (0 = none; the paper's teacher: 0.5)
 * @param maxNorm           max L2 norm of each unit's incoming weight vector (0 = unconstrained)
 * @param jitter            random translation of input images by up to this many pixels (0 = none)
 * @param optimizer         {@code adam} or {@code sgd_momentum} (Nesterov)
 * @param learningRate      initial learning rate
 * @param momentum          momentum of {@code sgd_momentum}
 * @param learningRateDecay per-epoch multiplicative decay of the learning rate (1 = constant)
 * @param epochs            maximum number of epochs
 * @param batchSize         minibatch size
 * @param patience          stop after this many epochs without a new best validation error (0 = never)
 * @param l2                L2 weight decay (0 = none)
 */
public record MlpConfig(List<Integer> hidden, double inputDropout, double hiddenDropout, double maxNorm, int jitter,
                        Optimizer optimizer, double learningRate, double momentum, double learningRateDecay,
                        int epochs, int batchSize, int patience, double l2)
        implements TrainingSchedule, java.io.Serializable {

    /** The update rule. */
    public enum Optimizer { ADAM, SGD_MOMENTUM }

    public MlpConfig {
        hidden = Check.allPositive("hidden", hidden);
        Check.inHalfOpen("inputDropout", inputDropout, 0, 1);
        Check.inHalfOpen("hiddenDropout", hiddenDropout, 0, 1);
        Check.nonNegative("maxNorm", maxNorm);
        Check.inRange("jitter", jitter, 0, 8);
        Check.that(optimizer != null, "optimizer", "must be adam or sgd_momentum");
        Check.positive("learningRate", learningRate);
        Check.inHalfOpen("momentum", momentum, 0, 1);
        Check.inRange("learningRateDecay", learningRateDecay, 1e-6, 1);
        Check.positive("epochs", epochs);
        Check.positive("batchSize", batchSize);
        Check.atLeast("patience", patience, 0);
        Check.nonNegative("l2", l2);
    }

    /** An unregularised net trained with Adam: the paper's baseline and student settings. */
    public static MlpConfig plain(List<Integer> hidden, int epochs) {
        return new MlpConfig(hidden, 0, 0, 0, 0, Optimizer.ADAM, 1e-3, 0.9, 1.0, epochs, 128, 0, 0);
    }

    public MlpConfig withHidden(List<Integer> h) {
        return new MlpConfig(h, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2);
    }

    public MlpConfig withEpochs(int e) {
        return new MlpConfig(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, e, batchSize, patience, l2);
    }

    public MlpConfig withLearningRate(double lr) {
        return new MlpConfig(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, lr, momentum,
                learningRateDecay, epochs, batchSize, patience, l2);
    }

    public MlpConfig withRegularisation(double inDrop, double hidDrop, double norm, int jit) {
        return new MlpConfig(hidden, inDrop, hidDrop, norm, jit, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2);
    }

    /** Learning rate of epoch {@code e} (0-based): {@code learningRate * learningRateDecay^e}. */
    @Override
    public double learningRateAt(int e) {
        return learningRate * Math.pow(learningRateDecay, e);
    }

    /** Number of weights and biases of this net for {@code nIn} inputs and {@code nOut} outputs. */
    public long parameterCount(int nIn, int nOut) {
        long count = 0;
        int prev = nIn;
        for (int h : hidden) {
            count += (long) prev * h + h;
            prev = h;
        }
        return count + (long) prev * nOut + nOut;
    }
}
