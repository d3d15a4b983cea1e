package darkknowledge.pipeline;

import darkknowledge.data.Dataset;
import darkknowledge.data.DataSource;
import darkknowledge.data.Split;
import darkknowledge.generalist.Trainer;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The train, validation and test sets of a run, with their matrices built once; for the glyphs a
 * second test set, the <em>seen typefaces</em> ({@code seenTest}: images of the training faces drawn
 * from a seed stream no training or validation image uses), beside {@code test}, the unseen typefaces.
 * {@link #testSets()} lists the test sets a run reports on. The split seed
 * (the same for every {@code run.seed}), the training indices' hash and the data files' checksums
 * go into the run's provenance. With {@code data.validationSize=0} (the paper's protocol) there is
 * no validation split: {@link #hasValidation()} is false and asking for it is an error naming the key.
 */
public record RunData(Dataset train, Dataset validation, Dataset test, INDArray trainX, INDArray trainY, INDArray validationX,
              INDArray testX, Dataset seenTest, INDArray seenTestX, FreshInputs fresh) {

    /**
     * Training inputs drawn anew each epoch (online augmentation, {@code glyphs.freshEachEpoch}): the
     * epoch inputs of the given rows of the training split. A run without it trains on the fixed images.
     */
    @FunctionalInterface
    public interface FreshInputs {
        Trainer.EpochInputs of(int[] trainRows);
    }

    /** The fresh inputs of every training row, in order; null when the training images are fixed. */
    public Trainer.EpochInputs freshInputs() {
        return fresh == null ? null : fresh.of(IntStream.range(0, train.numExamples()).toArray());
    }

    /** The fresh inputs of training rows {@code rows}; null when the training images are fixed. */
    public Trainer.EpochInputs freshInputs(int[] rows) {
        return fresh == null ? null : fresh.of(rows.clone());
    }

    /** The result-key prefix of the seen-typeface test set's figures ({@code seen.generalist.test_accuracy}). */
    public static final String SEEN_PREFIX = "seen.";

    /**
     * One test set a run reports on: its figures go under result keys prefixed {@code prefix} (empty for
     * the dataset's own test set, {@link #SEEN_PREFIX} for the seen typefaces).
     */
    public record TestSet(String prefix, Dataset data, INDArray x) {
        public int[] labels() {
            return data.labels();
        }
    }

    /** True when the run has a seen-typeface test set (glyphs with {@code glyphs.seenTestImagesPerFace > 0}). */
    public boolean hasSeenTest() {
        return seenTest != null;
    }

    /** The test sets: the dataset's own ({@link #test()}), then the seen typefaces' where there is one. */
    public List<TestSet> testSets() {
        TestSet main = new TestSet("", test, testX);
        return hasSeenTest() ? List.of(main, new TestSet(SEEN_PREFIX, seenTest, seenTestX)) : List.of(main);
    }

    /** False when {@code data.validationSize} is 0: nothing was held out. */
    public boolean hasValidation() {
        return validation.numExamples() > 0;
    }

    /** The validation split; an error naming {@code data.validationSize} when there is none. */
    @Override
    public Dataset validation() {
        requireValidation();
        return validation;
    }

    /** The validation split's features; an error naming {@code data.validationSize} when there is none. */
    @Override
    public INDArray validationX() {
        requireValidation();
        return validationX;
    }

    private void requireValidation() {
        if (!hasValidation()) {
            throw new darkknowledge.core.ConfigException("data.validationSize is 0 (no hold-out), but this step needs "
                    + "a validation split (early stopping, model selection, a choice tuned on held-out data): set "
                    + "data.validationSize > 0.");
        }
    }

    /** The same validation and test sets with only {@code rows} of the training set. */
    public RunData withTrainRows(int[] rows) {
        Dataset t = train.subset(rows);
        return new RunData(t, validation, test, trainX.getRows(rows), trainY.getRows(rows), validationX, testX, seenTest,
                seenTestX, fresh == null ? null : r -> fresh.of(IntStream.of(r).map(i -> rows[i]).toArray()));
    }

    /**
     * The splits of the dataset {@code data.source} names ({@link DataSource}), resized to
     * {@code data.imageSize} if set; the files' checksums and the source go into the provenance.
     */
    public static RunData load(RunContext ctx, DataConfig cfg) {
        return load(ctx.data(), ctx.provenance(), ctx.record().dir(), cfg);
    }

    /** As {@link #load(RunContext, DataConfig)}, without a run context. */
    public static RunData load(darkknowledge.data.DataStore store, darkknowledge.core.Provenance provenance,
                               java.nio.file.Path runDir, DataConfig cfg) {
        DataSource.Loaded loaded = cfg.dataSource().load(store, cfg.imageSize());
        provenance.putAll("", loaded.provenance());
        return of(provenance, runDir, loaded.train(), loaded.test(), cfg);
    }

    /**
     * The validation split is drawn from this master seed, not from {@code run.seed}: runs of every
     * seed share one split, so a teacher trained once can teach students of many seeds (its
     * training images never in their validation split) and their validation figures compare.
     * Seed 1's split is the one every run so far was made on.
     */
    public static final long SPLIT_MASTER_SEED = 1;

    /** The provenance key of the SHA-256 of the training split's example indices. */
    public static final String TRAIN_INDICES_KEY = "split.train_indices_sha256";

    /**
     * The provenance key of the SHA-256 of the rows of the training split the teacher was trained
     * on, when not all of them ({@code transfer.half}); absent means {@link #ALL_ROWS}. A reused
     * teacher must have been trained on the same rows.
     */
    public static final String TEACHER_ROWS_KEY = "split.teacher_rows_sha256";

    /** What {@link #TEACHER_ROWS_KEY} stands for when a run does not record it. */
    public static final String ALL_ROWS = "all of the training split";

    /**
     * The run's splits. A resumed run carries the hash of the split it was started on; drawing
     * another one (code changed in between) would mix models trained on different images, so it is
     * refused.
     */
    public static RunData of(RunContext ctx, Dataset fullTrain, Dataset fullTest, DataConfig cfg) {
        return of(ctx.provenance(), ctx.record().dir(), fullTrain, fullTest, cfg);
    }

    /** As {@link #of(RunContext, Dataset, Dataset, DataConfig)}, for a run in {@code runDir} recording into {@code provenance}. */
    public static RunData of(darkknowledge.core.Provenance provenance, java.nio.file.Path runDir, Dataset fullTrain,
                             Dataset fullTest, DataConfig cfg) {
        return of(provenance, runDir, fullTrain, fullTest, null, null, cfg);
    }

    /**
     * As {@link #of(darkknowledge.core.Provenance, java.nio.file.Path, Dataset, Dataset, DataConfig)}, with
     * a seen-typeface test set ({@code null}: none), cut to {@code data.testLimit} as the test set is, and
     * fresh training inputs ({@code null}: none) whose rows index {@code fullTrain}.
     */
    public static RunData of(darkknowledge.core.Provenance provenance, java.nio.file.Path runDir, Dataset fullTrain,
                             Dataset fullTest, Dataset fullSeenTest, FreshInputs fullFresh, DataConfig cfg) {
        long seed = new darkknowledge.core.Seeds(SPLIT_MASTER_SEED).derive("split");
        Split split = darkknowledge.data.Sampling.trainValidation(fullTrain, cfg.validationSize(), seed);
        String started = provenance.entries().get(TRAIN_INDICES_KEY);
        if (started != null && !started.equals(split.trainIndicesSha256())) {
            throw new darkknowledge.core.ConfigException("--resume " + runDir + ": the run was started on "
                    + "a training split with " + TRAIN_INDICES_KEY + " " + started + ", this code draws "
                    + split.trainIndicesSha256() + "; its finished models and checkpoints belong to the other "
                    + "split. Start a new run.");
        }
        Dataset train = split.train();
        if (cfg.trainLimit() > 0 && cfg.trainLimit() < train.numExamples()) {
            train = train.subset(IntStream.range(0, cfg.trainLimit()).toArray());
        }
        Dataset test = limit(fullTest, cfg.testLimit());
        Dataset seenTest = fullSeenTest == null ? null : limit(fullSeenTest, cfg.testLimit());
        provenance.put("split.seed", Long.toString(seed))
                .put(TRAIN_INDICES_KEY, split.trainIndicesSha256())
                .put("split.train_examples", Integer.toString(train.numExamples()))
                .put("split.validation_examples", Integer.toString(split.validation().numExamples()))
                .put("split.test_examples", Integer.toString(test.numExamples()));
        if (seenTest != null) {
            provenance.put("split.seen_test_examples", Integer.toString(seenTest.numExamples()));
        }
        Dataset validation = split.validation();
        int[] fullRows = split.trainIndices();  // row i of the split (and of a trainLimit prefix) is fullRows[i]
        FreshInputs fresh = fullFresh == null ? null
                : rows -> fullFresh.of(IntStream.of(rows).map(i -> fullRows[i]).toArray());
        return new RunData(train, validation, test, train.featuresMatrix(), train.oneHot(),
                validation.numExamples() == 0 ? null : validation.featuresMatrix(), test.featuresMatrix(), seenTest,
                seenTest == null ? null : seenTest.featuresMatrix(), fresh);
    }

    /** The first {@code limit} examples of {@code d} (all of them for 0). */
    private static Dataset limit(Dataset d, int limit) {
        return limit > 0 && limit < d.numExamples() ? d.subset(IntStream.range(0, limit).toArray()) : d;
    }
}
