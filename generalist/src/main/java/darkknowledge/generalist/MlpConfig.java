package darkknowledge.generalist;

import darkknowledge.kernels.Precision;
import darkknowledge.kernels.Bf16;
import darkknowledge.core.Check;
import java.util.List;

/**
 * A ReLU MLP and how it is trained.
 *
 * <p><b>SGD with a rising momentum</b> (how the paper's reference [5] trained its MNIST nets: Hinton,
 * Srivastava, Krizhevsky, Sutskever &amp; Salakhutdinov 2012, "Improving neural networks by
 * preventing co-adaptation of feature detectors", arXiv:1207.0580, appendix A; the paper, §3, cites
 * it for its teacher's regularisation). With {@code optimizer = sgd_momentum}, in epoch e (0-based)
 * <pre>
 *   p_e = momentumStart + (momentum − momentumStart) · e / momentumRampEpochs   for e &lt; momentumRampEpochs
 *       = momentum                                                             afterwards
 *   ε_e = learningRate · learningRateDecay^e · (momentumDamped ? 1 − p_e : 1)
 *   v  ← p_e v − ε_e ∇L,   w ← w + v      (reference [5]: Δw = p Δw − (1 − p) ε ⟨∇L⟩)
 * </pre>
 * and {@code maxNorm} clips each unit's incoming weight vector after every update (reference [5]'s
 * weight constraint). DL4J offers Nesterov's form of momentum only ({@code Nesterovs}: the gradient
 * taken at the look-ahead point), which Sutskever et al. 2013 compare with classical momentum and
 * find as good or better; the momentum schedule is DL4J's own {@code MapSchedule} over epochs.
 *
 * @param hidden            units per hidden layer, e.g. {@code 1200,1200} (the paper's MNIST teacher)
 * @param inputDropout      probability of DROPPING an input unit (0 = none; the paper's teacher: 0.2)
 * @param hiddenDropout     probability of dropping a hidden unit (0 = none; the paper's teacher: 0.5)
 * @param maxNorm           max L2 norm of each unit's incoming weight vector (0 = unconstrained)
 * @param jitter            random translation of input images by up to this many pixels (0 = none)
 * @param optimizer         {@code adam} or {@code sgd_momentum} (Nesterov)
 * @param learningRate      initial learning rate
 * @param momentum          momentum of {@code sgd_momentum} (with a ramp: the momentum it rises to, then holds)
 * @param learningRateDecay per-epoch multiplicative decay of the learning rate (1 = constant)
 * @param epochs            maximum number of epochs
 * @param batchSize         minibatch size
 * @param patience          stop after this many epochs without a new best validation error (0 = never)
 * @param l2                L2 weight decay (0 = none)
 * @param momentumStart     momentum of the first epoch when {@code momentumRampEpochs > 0}; it then rises
 *                          linearly to {@code momentum} (the dropout recipe: 0.5)
 * @param momentumRampEpochs epochs over which the momentum rises from {@code momentumStart} to {@code momentum},
 *                          then held (0 = constant {@code momentum}; the dropout recipe: 500)
 * @param momentumDamped    scale each epoch's step by {@code 1 − p_e} (the dropout recipe's update), so the
 *                          steady-state step stays {@code ε_e · gradient} as the momentum rises
 * @param precision         of the hidden layers' matrix products: {@code fp32}, or {@code bf16} (bfloat16
 *                          operands, fp32 accumulation and fp32 master weights: {@link Precision}), where the
 *                          CPU and BLAS have it ({@link Bf16#unsupported}); refused elsewhere
 */
public record MlpConfig(List<Integer> hidden, double inputDropout, double hiddenDropout, double maxNorm, int jitter,
                        Optimizer optimizer, double learningRate, double momentum, double learningRateDecay,
                        int epochs, int batchSize, int patience, double l2, double momentumStart,
                        int momentumRampEpochs, boolean momentumDamped, Precision precision)
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
        Check.inHalfOpen("momentumStart", momentumStart, 0, 1);
        Check.atLeast("momentumRampEpochs", momentumRampEpochs, 0);
        Check.that(optimizer == Optimizer.SGD_MOMENTUM || momentumRampEpochs == 0, "momentumRampEpochs",
                "applies to optimizer=sgd_momentum only; 0 with " + optimizer.name().toLowerCase(java.util.Locale.ROOT));
        Check.that(optimizer == Optimizer.SGD_MOMENTUM || !momentumDamped, "momentumDamped",
                "applies to optimizer=sgd_momentum only; false with " + optimizer.name().toLowerCase(java.util.Locale.ROOT));
        Check.that(precision != null, "precision", "must be fp32 or bf16");
        String bf16 = precision == Precision.BF16 ? Bf16.unsupported() : null;
        Check.that(bf16 == null, "precision", "bf16 needs bfloat16 matrix products, which this machine cannot run: "
                + bf16 + "; use fp32 here");
    }

    /** In fp32 (the default): every constructor but the canonical one. */
    public MlpConfig(List<Integer> hidden, double inputDropout, double hiddenDropout, double maxNorm, int jitter,
                     Optimizer optimizer, double learningRate, double momentum, double learningRateDecay, int epochs,
                     int batchSize, int patience, double l2, double momentumStart, int momentumRampEpochs,
                     boolean momentumDamped) {
        this(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, momentumStart, momentumRampEpochs, momentumDamped,
                Precision.FP32);
    }

    /** Without a momentum schedule: constant momentum, undamped steps. */
    public MlpConfig(List<Integer> hidden, double inputDropout, double hiddenDropout, double maxNorm, int jitter,
                     Optimizer optimizer, double learningRate, double momentum, double learningRateDecay, int epochs,
                     int batchSize, int patience, double l2) {
        this(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, 0.5, 0, false);
    }

    /** An unregularised net trained with Adam: the paper's baseline and student settings. */
    public static MlpConfig plain(List<Integer> hidden, int epochs) {
        return new MlpConfig(hidden, 0, 0, 0, 0, Optimizer.ADAM, 1e-3, 0.9, 1.0, epochs, 128, 0, 0);
    }

    public MlpConfig withHidden(List<Integer> h) {
        return new MlpConfig(h, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, momentumStart,
                momentumRampEpochs, momentumDamped, precision);
    }

    public MlpConfig withEpochs(int e) {
        return new MlpConfig(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, e, batchSize, patience, l2, momentumStart,
                momentumRampEpochs, momentumDamped, precision);
    }

    public MlpConfig withPrecision(Precision p) {
        return new MlpConfig(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, momentumStart, momentumRampEpochs, momentumDamped, p);
    }

    public MlpConfig withLearningRate(double lr) {
        return new MlpConfig(hidden, inputDropout, hiddenDropout, maxNorm, jitter, optimizer, lr, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, momentumStart,
                momentumRampEpochs, momentumDamped, precision);
    }

    public MlpConfig withRegularisation(double inDrop, double hidDrop, double norm, int jit) {
        return new MlpConfig(hidden, inDrop, hidDrop, norm, jit, optimizer, learningRate, momentum,
                learningRateDecay, epochs, batchSize, patience, l2, momentumStart,
                momentumRampEpochs, momentumDamped, precision);
    }

    /**
     * Learning rate of epoch {@code e} (0-based): {@code learningRate · learningRateDecay^e}, times
     * {@code 1 − momentumAt(e)} when {@code momentumDamped} (reference [5]'s update, see the type's doc).
     */
    @Override
    public double learningRateAt(int e) {
        double lr = learningRate * Math.pow(learningRateDecay, e);
        return momentumDamped ? lr * (1 - momentumAt(e)) : lr;
    }

    /**
     * Momentum of epoch {@code e} (0-based): rising linearly from {@code momentumStart} to
     * {@code momentum} over the first {@code momentumRampEpochs} epochs, then held; constant
     * {@code momentum} without a ramp.
     */
    public double momentumAt(int e) {
        if (momentumRampEpochs == 0 || e >= momentumRampEpochs) {
            return momentum;
        }
        return momentumStart + (momentum - momentumStart) * e / momentumRampEpochs;
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
