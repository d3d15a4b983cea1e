package darkknowledge.pipeline;

import darkknowledge.core.Check;

/**
 * Which part of a dataset an experiment uses. The validation split is carved out of the training
 * set by a permutation seeded independently of {@code run.seed} (every seed shares it); tuning (early stopping, bias shifts) sees only it, the test set is
 * only reported.
 *
 * @param validationSize examples held out of the training set (MNIST: 60k = 55k + 5k)
 * @param trainLimit     keep only this many training examples, 0 = all (for tiny and small twins)
 * @param testLimit      evaluate on only the first this many test examples, 0 = all
 */
public record DataConfig(int validationSize, int trainLimit, int testLimit) {
    public DataConfig {
        Check.positive("validationSize", validationSize);
        Check.atLeast("trainLimit", trainLimit, 0);
        Check.atLeast("testLimit", testLimit, 0);
    }
}
