package darkknowledge.pipeline;

import darkknowledge.core.Check;
import darkknowledge.data.DataSource;

/**
 * Which data an experiment reads and which part of it it uses. The validation split is carved out of the training
 * set by a permutation seeded independently of {@code run.seed} (every seed shares it); tuning (early stopping, bias shifts) sees only it, the test set is
 * only reported.
 *
 * @param validationSize examples held out of the training set (MNIST: 60k = 55k + 5k); 0 = none, the paper's
 *                       protocol (§3 trains on all 60,000): no early stopping, no model selection, each net
 *                       is its last epoch's ({@link #NO_HOLD_OUT}); a config that asks for either is refused
 * @param trainLimit     keep only this many training examples, 0 = all (for tiny and small twins)
 * @param testLimit      evaluate on only the first this many test examples, 0 = all
 * @param source         the dataset ({@link DataSource}): {@code mnist}, {@code fashion-mnist}, {@code idx:<dir>}
 *                       or {@code images:<dir>}; blank only where the experiment makes its own data
 * @param imageSize      resize every image to this many pixels square, 0 = keep the files' size
 */
public record DataConfig(int validationSize, int trainLimit, int testLimit, String source, int imageSize) implements java.io.Serializable {
    public DataConfig {
        Check.atLeast("validationSize", validationSize, 0);
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

    /** How nets are chosen without a validation split, as result records and tables say it. */
    public static final String NO_HOLD_OUT = "no hold-out, last epoch";

    /** How this config's nets are chosen: {@link #NO_HOLD_OUT}, or by validation on the held-out examples. */
    public String modelSelection() {
        return validationSize == 0 ? NO_HOLD_OUT : "best validation epoch of " + validationSize + " held out";
    }

    /**
     * Refuses a config that needs a validation split when {@code data.validationSize} is 0: every
     * {@code patience} greater than 0 anywhere in {@code experimentConfig} (early stopping) and every
     * plateau that is on ({@code plateau.epochs > 0}: learning-rate reductions), named by its key. Called when a config is resolved, before anything trains.
     */
    public static void requireHoldOutWhereNeeded(Record experimentConfig) {
        DataConfig data = of(experimentConfig);
        if (data == null || data.validationSize() > 0) {
            return;
        }
        patience("", experimentConfig);
    }

    /** The {@code data} section of an experiment's config record, or {@code null} if it has none. */
    public static DataConfig of(Record experimentConfig) {
        DataConfig data = null;
        for (var c : experimentConfig.getClass().getRecordComponents()) {
            if (value(c, experimentConfig) instanceof DataConfig d) {
                data = d;
            }
        }
        return data;
    }

    private static void patience(String prefix, Record r) {
        for (var c : r.getClass().getRecordComponents()) {
            String key = prefix.isEmpty() ? c.getName() : prefix + "." + c.getName();
            Object v = value(c, r);
            if (v instanceof darkknowledge.generalist.Plateau pl) {
                if (pl.on()) {
                    throw new darkknowledge.core.ConfigException(key + ".epochs=" + pl.epochs() + ": reducing the "
                            + "learning rate when validation stops improving needs a validation split, and "
                            + "data.validationSize is 0. Set " + key + ".epochs=0, or data.validationSize > 0.");
                }
            } else if (v instanceof Record nested) {
                patience(key, nested);
            } else if (c.getName().equals("patience") && v instanceof Integer p && p > 0) {
                throw new darkknowledge.core.ConfigException(key + "=" + p + ": early stopping needs a validation split, "
                        + "and data.validationSize is 0 (no hold-out: each net is its last epoch's). Set " + key
                        + "=0, or data.validationSize > 0.");
            }
        }
    }

    private static Object value(java.lang.reflect.RecordComponent c, Record r) {
        try {
            java.lang.reflect.Method m = c.getAccessor();
            m.setAccessible(true);
            return m.invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getName(), e);
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
