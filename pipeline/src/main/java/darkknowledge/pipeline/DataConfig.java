package darkknowledge.pipeline;

import darkknowledge.core.Check;
import darkknowledge.data.DataSource;

/**
 * Which data an experiment reads and which part of it it uses. The validation split is carved out of the training
 * set by a permutation seeded independently of {@code run.seed} (every seed shares it); tuning (early stopping, bias shifts) sees only it, the test set is
 * only reported.
 *
 * @param validationSize examples held out of the training set (MNIST: 60k = 55k + 5k)
 * @param trainLimit     keep only this many training examples, 0 = all (for tiny and small twins)
 * @param testLimit      evaluate on only the first this many test examples, 0 = all
 * @param source         the dataset ({@link DataSource}): {@code mnist}, {@code fashion-mnist}, {@code idx:<dir>}
 *                       or {@code images:<dir>}; blank only where the experiment makes its own data
 * @param imageSize      resize every image to this many pixels square, 0 = keep the files' size
 */
public record DataConfig(int validationSize, int trainLimit, int testLimit, String source, int imageSize) implements java.io.Serializable {
    public DataConfig {
        Check.positive("validationSize", validationSize);
        Check.atLeast("trainLimit", trainLimit, 0);
        Check.atLeast("testLimit", testLimit, 0);
        Check.atLeast("imageSize", imageSize, 0);
        source = source.strip();
        if (!source.isEmpty()) {
            try {
                DataSource.parse(source);
            } catch (IllegalArgumentException e) {
                Check.that(false, "source", e.getMessage());
            }
        }
    }

    /** The source this config names; an experiment that reads a dataset needs one. */
    DataSource dataSource() {
        if (source.isEmpty()) {
            throw new darkknowledge.core.ConfigException(DataSource.KEY + " is blank; expected " + DataSource.FORMS);
        }
        return DataSource.parse(source);
    }
}
