package darkknowledge.experiments;

import darkknowledge.clustering.AdjustedRandIndex;
import darkknowledge.clustering.ClassClustering;
import darkknowledge.clustering.ClassPartition;
import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.Check;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.Scale;
import darkknowledge.data.Dataset;
import darkknowledge.data.DatasetSource;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.DustbinCorrection;
import darkknowledge.specialists.KlCombiner;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.SpecialistEnsemble;
import darkknowledge.specialists.Specialists;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * <b>Specialists</b> — Hinton, Vinyals &amp; Dean 2015, §5 (Tables 3 and 4), on three datasets.
 *
 * <ol>
 * <li>A generalist is trained on all classes.
 * <li>The covariance of its predicted class probabilities (on the validation split, or the training
 *     split for the many-class synthetic set where validation has few examples per class) is
 *     clustered with K-means into subsets of classes it confuses (§5.3).
 * <li>One specialist per subset, initialised from the generalist, is trained on half subset, half
 *     other classes mapped to a dustbin; its dustbin logit is then corrected (§5.2).
 * <li>On each test example, the specialists covering the generalist's top class are combined with it
 *     by minimising the sum of KL divergences (§5.4).
 * </ol>
 * Reported: Table 3 (overall accuracy and accuracy on specialist classes, generalist vs ensemble),
 * Table 4 (accuracy change by number of specialists covering the correct class), the ensemble under
 * each dustbin correction, and a control that no paper run has: the generalist fine-tuned for as many
 * extra example-passes as all specialists together, so the specialists' gain is not just more training.
 *
 * <p>Paper (JFT, 15,000 classes, 61 specialists): 25.0% → 26.1% test accuracy (+4.4% relative);
 * conditional accuracy on specialist classes 43.1% → 45.9%.
 */
public final class SpecialistsExperiment implements Experiment<SpecialistsExperiment.Config> {

    /** The three datasets this experiment ships with. */
    public enum Variant { FASHION, MNIST_FASHION, SYNTHETIC }

    /** Which predictions the class covariance is computed from. */
    public enum ClusterOn { VALIDATION, TRAIN }

    /**
     * The synthetic many-class problem ({@link SyntheticClasses}); used by the synthetic variant only.
     */
    public record Synthetic(int classes, int groups, int dimension, double similarity, double noise, int trainPerClass,
                            int testPerClass) {
        public Synthetic {
            Check.atLeast("classes", classes, 2);
            Check.inRange("groups", groups, 1, classes);
            Check.positive("dimension", dimension);
            Check.inHalfOpen("similarity", similarity, 0, 1);
            Check.nonNegative("noise", noise);
            Check.positive("trainPerClass", trainPerClass);
            Check.positive("testPerClass", testPerClass);
        }
    }

    /**
     * How the ensemble is formed.
     *
     * @param topN          the generalist's top-n classes select the active specialists (paper n = 1)
     * @param tolerance     §5.4 solver: stop when no probability moves by more than this
     * @param maxIterations §5.4 solver iteration cap
     * @param clusterOn     predictions the covariance is computed on
     * @param control       also fine-tune the generalist for the specialists' extra compute
     */
    public record Ensemble(int topN, double tolerance, int maxIterations, ClusterOn clusterOn, boolean control) {
        public Ensemble {
            Check.positive("topN", topN);
            Check.positive("tolerance", tolerance);
            Check.positive("maxIterations", maxIterations);
            Check.that(clusterOn != null, "clusterOn", "must be validation or train");
        }
    }

    public record Config(RunConfig run, DataConfig data, Synthetic synthetic, MlpConfig generalist,
                         ClusteringConfig clustering, SpecialistConfig specialists, Ensemble ensemble) {
    }

    private final Variant variant;

    public SpecialistsExperiment(Variant variant) {
        this.variant = variant;
    }

    @Override
    public String name() {
        return switch (variant) {
            case FASHION -> "specialists-fashion";
            case MNIST_FASHION -> "specialists-mnist-fashion";
            case SYNTHETIC -> "specialists-synthetic";
        };
    }

    @Override
    public String card() {
        return switch (variant) {
            case FASHION -> "§5: Fashion-MNIST generalist -> covariance clusters -> specialists + dustbin -> KL ensemble";
            case MNIST_FASHION -> "§5: the 20-class union of MNIST and Fashion-MNIST, same pipeline and tables";
            case SYNTHETIC -> "§5: 1,000 synthetic classes in 50 planted groups: cluster recovery (ARI) and the tables";
        };
    }

    @Override
    public Config defaults() {
        MlpConfig generalist = new MlpConfig(List.of(512, 512), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-3, 0.9, 0.95,
                25, 128, 5, 0);
        SpecialistConfig spec = new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 10, 3e-4, 0.9, 3, 2);
        Synthetic synthetic = new Synthetic(1000, 50, 100, 0.9, 1.0, 60, 10);
        Ensemble ensemble = new Ensemble(1, 1e-7, 2000, ClusterOn.VALIDATION, true);
        ClusteringConfig clustering = ClusteringConfig.defaults();
        // Ten classes with very unequal confusion: correlation puts them on one scale, and the plain
        // diagonal then separates the groups (checked on a Fashion-MNIST generalist's validation
        // predictions: {T-shirt, shirt} {pullover, coat} {sandal, sneaker, ankle boot} ...). The many
        // equal groups of the synthetic set are found best by covariance with the row-max diagonal.
        ClusteringConfig fewClasses = new ClusteringConfig(5, clustering.restarts(), clustering.maxIterations(),
                clustering.source(), ClusteringConfig.Statistic.CORRELATION, 0, clustering.maxSubsetSize(),
                clustering.minSubsetSize(), clustering.small(), ClusteringConfig.Diagonal.KEEP, clustering.seed());
        return switch (variant) {
            case FASHION -> new Config(new RunConfig(1, Scale.FULL), new DataConfig(5000, 0, 0, "fashion-mnist", 0), synthetic, generalist,
                    fewClasses, spec, ensemble);
            case MNIST_FASHION -> new Config(new RunConfig(1, Scale.FULL), new DataConfig(10000, 0, 0, "", 0), synthetic,
                    generalist, fewClasses.withK(8), spec, ensemble);
            case SYNTHETIC -> new Config(new RunConfig(1, Scale.FULL), new DataConfig(5000, 0, 0, "", 0), synthetic,
                    generalist.withHidden(List.of(32)).withEpochs(30),
                    clustering.withK(50), new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 15, 1e-3, 0.9, 3, 2),
                    new Ensemble(1, 1e-7, 2000, ClusterOn.TRAIN, true));
        };
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        Map<String, String> m = new TreeMap<>();
        switch (scale) {
            case FULL -> {
            }
            case SMALL -> {
                m.put("generalist.epochs", "4");
                m.put("specialists.epochs", "2");
                if (variant == Variant.SYNTHETIC) {
                    m.put("synthetic.classes", "200");
                    m.put("synthetic.groups", "10");
                    m.put("clustering.k", "10");
                }
            }
            case TINY -> {
                m.putAll(Presets.tiny("generalist"));
                m.put("specialists.epochs", "2");
                m.put("clustering.restarts", "2");
                if (variant == Variant.SYNTHETIC) {
                    m.put("synthetic.classes", "40");
                    m.put("synthetic.groups", "4");
                    m.put("synthetic.trainPerClass", "40");
                    m.put("clustering.k", "4");
                    m.put("data.validationSize", "200");
                    m.put("data.trainLimit", "0");
                }
            }
        }
        return m;
    }

    @Override
    public ResultTables.Spec table() {
        List<ResultTables.Metric> metrics = new ArrayList<>(List.of(
                new ResultTables.Metric("generalist.test_accuracy", "Table 3: generalist test accuracy (%)", "25.0 (JFT)", 2),
                new ResultTables.Metric("ensemble.test_accuracy", "Table 3: generalist + specialists (%)", "26.1 (JFT)", 2),
                new ResultTables.Metric("ensemble.relative_gain_pct", "relative improvement (%)", "+4.4", 1),
                new ResultTables.Metric("generalist.specialist_classes_accuracy",
                        "generalist on specialist classes (%)", "43.1", 2),
                new ResultTables.Metric("ensemble.specialist_classes_accuracy",
                        "ensemble on specialist classes (%)", "45.9", 2),
                new ResultTables.Metric("control.test_accuracy", "control: generalist fine-tuned, same extra compute (%)",
                        "–", 2),
                new ResultTables.Metric("ensemble.none.test_accuracy", "ensemble, no dustbin correction (%)", "–", 2),
                new ResultTables.Metric("ensemble.log_oversampling.test_accuracy",
                        "ensemble, paper's log(oversampling) correction (%)", "–", 2),
                new ResultTables.Metric("ensemble.prior_shift.test_accuracy", "ensemble, exact prior shift (%)", "–", 2),
                new ResultTables.Metric("clustering.specialists", "number of specialists", "61", 0)));
        String[] paper = {"0.0", "+3.4", "+7.4", "+8.8", "+10.5"};
        for (int c = 0; c <= 4; c++) {
            String label = c == 4 ? "4 or more" : Integer.toString(c);
            metrics.add(new ResultTables.Metric("cover" + c + ".examples", "Table 4: test examples covered by " + label,
                    "–", 0));
            metrics.add(new ResultTables.Metric("cover" + c + ".relative_change_pct",
                    "Table 4: relative accuracy change, covered by " + label + " (%)", paper[c], 1));
        }
        if (variant == Variant.SYNTHETIC) {
            metrics.add(new ResultTables.Metric("clustering.ari", "planted groups recovered (adjusted Rand index)", "–", 3));
        }
        return new ResultTables.Spec(name(), "Specialists, " + card(), metrics, List.of("run.scale"),
                "Paper figures are JFT (15,000 classes, 61 specialists); ours are on " + variant.name().toLowerCase(Locale.ROOT)
                        + ". Accuracy in %; 'specialist classes' = test examples whose true class some specialist covers.");
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        Loaded loaded = load(variant, c.data(), c.synthetic(), ctx);
        Splits s = loaded.splits();
        SortedMap<String, String> result = new TreeMap<>();
        int k = s.train().numClasses();

        Nets.Trained generalist = Nets.trainOnLabels(ctx, "generalist", c.generalist(), s);
        Nets.report(result, generalist);

        // §5.3: the covariance of the generalist's predictions, clustered.
        INDArray clusterX = c.ensemble().clusterOn() == ClusterOn.VALIDATION ? s.validationX() : s.trainX();
        INDArray z = generalist.model().logits(clusterX).castTo(DataType.DOUBLE);
        double[][] predictions = c.clustering().source() == ClusteringConfig.Source.LOGITS ? z.toDoubleMatrix()
                : Transforms.softmax(z, true).toDoubleMatrix();
        ClassPartition partition = ClassClustering.fromPredictions(predictions, c.clustering());
        ctx.provenance().putAll("", partition.provenance());
        darkknowledge.core.AtomicFiles.writeString(ctx.record().dir().resolve("partition.txt"), partition.toText()
                + "\n" + named(partition, s.train().classNames()) + "\n");
        result.put("clustering.specialists", Integer.toString(partition.subsets().size()));
        result.put("clustering.subsets", named(partition, s.train().classNames()));
        Plots.covariance(ClassClustering.statistic(predictions, c.clustering()), partition, s.train().classNames(),
                ctx.record().dir().resolve("covariance.png"), name() + ": class "
                        + c.clustering().statistic().name().toLowerCase(Locale.ROOT) + " of the generalist's "
                        + c.clustering().source().name().toLowerCase(Locale.ROOT));
        if (loaded.groupOfClass() != null) {
            result.put("clustering.ari", String.format(Locale.ROOT, "%.4f",
                    AdjustedRandIndex.of(partition.clusterOf(), loaded.groupOfClass())));
        }

        // §5.2: specialists, in parallel.
        List<int[]> subsets = partition.subsets().stream()
                .map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        List<Specialists.Trained> trained = Specialists.trainAll(generalist.model(), c.generalist(), subsets,
                c.specialists(), s.trainX(), s.train().labels(), s.validationX(), s.validation().labels(),
                s.train().imageWidth(), s.train().imageHeight(), new darkknowledge.core.Seeds(ctx.seeds().derive("specialists")),
                ctx.progress(), Nets.checkpoints(ctx));
        long extraExamplePasses = 0;
        double specialistSeconds = 0;
        for (Specialists.Trained t : trained) {
            String id = "specialist" + t.index();
            t.specialist().model().save(ctx.modelPath(id));
            ctx.provenance().put("model." + id + ".sha256", t.specialist().model().fingerprint())
                    .put("model." + id + ".generalist_sha256", generalist.model().fingerprint())
                    .put("model." + id + ".subset", join(t.specialist().subset()))
                    .put("model." + id + ".dustbin_shift", String.format(Locale.ROOT, "%.5f", t.specialist().dustbinShift()))
                    .put("model." + id + ".correction", c.specialists().correction().name().toLowerCase(Locale.ROOT));
            extraExamplePasses += (long) t.trainExamples() * t.outcome().epochsRun();
            specialistSeconds += t.outcome().trainSeconds();
            result.put(id + ".validation_errors", Integer.toString(t.outcome().bestValidationErrors()));
            result.put(id + ".epochs", Integer.toString(t.outcome().epochsRun()));
        }
        result.put("specialists.train_seconds", Nets.fmt(specialistSeconds));
        result.put("specialists.example_passes", Long.toString(extraExamplePasses));

        // §5.4: the ensemble, under each dustbin correction (the configured one is the headline).
        int[] labels = s.test().labels();
        boolean[] covered = new boolean[k];
        int[] coverage = new int[k];
        for (int[] sub : subsets) {
            for (int cl : sub) {
                covered[cl] = true;
                coverage[cl]++;
            }
        }
        int[] gen = generalist.model().predict(s.testX());
        KlCombiner solver = new KlCombiner(c.ensemble().tolerance(), c.ensemble().maxIterations());
        int[] headline = null;
        for (DustbinCorrection corr : DustbinCorrection.values()) {
            List<Specialist> specs = new ArrayList<>();
            for (Specialists.Trained t : trained) {
                specs.add(t.specialist().withDustbinShift(t.shift(corr)));
            }
            long t0 = System.nanoTime();
            SpecialistEnsemble.Combined comb = new SpecialistEnsemble(generalist.model(), specs, c.ensemble().topN(),
                    solver).combine(s.testX());
            double seconds = (System.nanoTime() - t0) / 1e9;
            int[] pred = comb.predictions();
            String key = "ensemble." + corr.name().toLowerCase(Locale.ROOT);
            result.put(key + ".test_accuracy", pct(correct(pred, labels, null), labels.length));
            result.put(key + ".unconverged", Integer.toString(comb.unconverged()));
            if (corr == c.specialists().correction()) {
                headline = pred;
                result.put("ensemble.max_solver_iterations", Integer.toString(comb.maxIterations()));
                result.put("ensemble.seconds_per_1000_examples", Nets.fmt(1000 * seconds / labels.length));
            }
            // Leave the trained specialists with the configured correction (saved above).
        }
        int genCorrect = correct(gen, labels, null);
        int ensCorrect = correct(headline, labels, null);
        result.put("test_examples", Integer.toString(labels.length));
        result.put("generalist.test_accuracy", pct(genCorrect, labels.length));
        result.put("ensemble.test_accuracy", pct(ensCorrect, labels.length));
        result.put("ensemble.relative_gain_pct", Nets.fmt(100.0 * (ensCorrect - genCorrect) / genCorrect));
        int onSpecialist = (int) IntStream.of(labels).filter(y -> covered[y]).count();
        result.put("generalist.specialist_classes_accuracy", pct(correct(gen, labels, covered), onSpecialist));
        result.put("ensemble.specialist_classes_accuracy", pct(correct(headline, labels, covered), onSpecialist));
        result.put("specialist_classes.test_examples", Integer.toString(onSpecialist));
        // Table 4: by the number of specialists covering the correct class.
        for (int cov = 0; cov <= 4; cov++) {
            int examples = 0;
            int g = 0;
            int e = 0;
            for (int i = 0; i < labels.length; i++) {
                int cv = Math.min(4, coverage[labels[i]]);
                if (cv == cov) {
                    examples++;
                    g += gen[i] == labels[i] ? 1 : 0;
                    e += headline[i] == labels[i] ? 1 : 0;
                }
            }
            result.put("cover" + cov + ".examples", Integer.toString(examples));
            result.put("cover" + cov + ".delta_correct", Integer.toString(e - g));
            result.put("cover" + cov + ".relative_change_pct", g == 0 ? "NaN" : Nets.fmt(100.0 * (e - g) / g));
        }

        if (c.ensemble().control()) {
            int epochs = (int) Math.max(1, Math.round((double) extraExamplePasses / s.train().numExamples()));
            Classifier tuned = Classifier.of(generalist.model().network().clone());
            MlpConfig cfg = c.generalist().withEpochs(epochs).withLearningRate(c.specialists().learningRate());
            Trainer.Outcome o = Trainer.fit("control", tuned, new Trainer.TrainingData(s.trainX(), s.trainY(),
                    s.train().imageWidth(), s.train().imageHeight()), new Trainer.Validation(s.validationX(),
                    s.validation().labels()), cfg, ctx.seeds().derive("control"), ctx.progress());
            tuned.save(ctx.modelPath("control"));
            result.put("control.epochs", Integer.toString(o.epochsRun()));
            result.put("control.test_accuracy", pct(correct(tuned.predict(s.testX()), labels, null), labels.length));
        }
        return result;
    }

    /** The splits, and for synthetic data the planted group of each class. */
    record Loaded(Splits splits, int[] groupOfClass) {
    }

    static Loaded load(Variant variant, DataConfig dataCfg, Synthetic synthetic, RunContext ctx) {
        // The union and the synthetic set are made here, not read: a data.source other than the
        // fashion variant's default (which pipeline's data section inherits) would be ignored.
        if (variant != Variant.FASHION && (dataCfg.imageSize() != 0
                || !dataCfg.source().isEmpty() && !dataCfg.source().equals("fashion-mnist"))) {
            throw new darkknowledge.core.ConfigException("data.source=" + dataCfg.source() + ", data.imageSize="
                    + dataCfg.imageSize() + ": the " + variant.name().toLowerCase(java.util.Locale.ROOT)
                    + " variant makes its own data; run specialists-fashion (or pipeline with dataset=fashion) "
                    + "to read a data.source");
        }
        return switch (variant) {
            case FASHION -> new Loaded(Splits.load(ctx, dataCfg), null);
            case MNIST_FASHION -> {
                Dataset[] train = new Dataset[2];
                Dataset[] test = new Dataset[2];
                int i = 0;
                List<String> names = new ArrayList<>();
                for (DatasetSource src : List.of(DatasetSource.MNIST, DatasetSource.FASHION_MNIST)) {
                    names.addAll(src.classNames().stream().map(n -> src.id() + ":" + n).toList());
                }
                int offset = 0;
                for (DatasetSource src : List.of(DatasetSource.MNIST, DatasetSource.FASHION_MNIST)) {
                    int[] map = new int[10];
                    for (int j = 0; j < 10; j++) {
                        map[j] = offset + j;
                    }
                    train[i] = ctx.data().load(src, true).relabel(map, names);
                    test[i] = ctx.data().load(src, false).relabel(map, names);
                    ctx.provenance().putAll("data." + src.id() + ".", ctx.data().checksums(src));
                    offset += 10;
                    i++;
                }
                // Interleave so that a train or test limit keeps both halves.
                yield new Loaded(Splits.of(ctx, interleave(train[0], train[1]), interleave(test[0], test[1]), dataCfg),
                        null);
            }
            case SYNTHETIC -> {
                Synthetic y = synthetic;
                long seed = ctx.seeds().derive("synthetic");
                SyntheticClasses.Generated generated = SyntheticClasses.generate(new SyntheticClasses.Spec(y.classes(), y.groups(), y.dimension(),
                        y.similarity(), y.noise(), y.trainPerClass(), y.testPerClass(), seed));
                ctx.provenance().put("data.synthetic.seed", Long.toString(seed))
                        .put("data.synthetic.train_sha256", generated.train().sha256());
                yield new Loaded(Splits.of(ctx, generated.train(), generated.test(), dataCfg), generated.groupOfClass());
            }
        };
    }

    private static Dataset interleave(Dataset a, Dataset b) {
        Dataset both = a.concat(b);
        int n = both.numExamples();
        int[] order = new int[n];
        int i = 0;
        int ia = 0;
        int ib = 0;
        while (i < n) {
            if (ia < a.numExamples()) {
                order[i++] = ia++;
            }
            if (ib < b.numExamples()) {
                order[i++] = a.numExamples() + ib++;
            }
        }
        return both.subset(order);
    }

    static int correct(int[] pred, int[] labels, boolean[] onlyClasses) {
        int n = 0;
        for (int i = 0; i < labels.length; i++) {
            if ((onlyClasses == null || onlyClasses[labels[i]]) && pred[i] == labels[i]) {
                n++;
            }
        }
        return n;
    }

    static String pct(int correct, int total) {
        return total == 0 ? "NaN" : String.format(Locale.ROOT, "%.2f", 100.0 * correct / total);
    }

    static String join(int[] a) {
        return String.join(",", IntStream.of(a).mapToObj(Integer::toString).toList());
    }

    static String named(ClassPartition p, List<String> names) {
        List<String> parts = new ArrayList<>();
        for (List<Integer> sub : p.subsets()) {
            parts.add("{" + String.join(", ", sub.stream().map(names::get).toList()) + "}");
        }
        return String.join(" ", parts);
    }

    /** {@code main [fashion|mnist_fashion|synthetic] [options]}: runs one variant (default fashion). */
    public static void main(String[] args) {
        boolean named = args.length > 0 && !args[0].startsWith("-");
        Variant v = named ? Variant.valueOf(args[0].toUpperCase(Locale.ROOT).replace('-', '_')) : Variant.FASHION;
        Main.runExperiment(new SpecialistsExperiment(v), named ? java.util.Arrays.copyOfRange(args, 1, args.length) : args);
    }
}
