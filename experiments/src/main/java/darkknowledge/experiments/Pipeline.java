package darkknowledge.experiments;

import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Check;
import darkknowledge.core.ClassPartition;
import darkknowledge.core.Configs;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.TemperatureSoftmax;
import darkknowledge.generalist.Classifier;
import darkknowledge.data.GlyphsConfig;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.TrainingSchedule;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.pipeline.Architecture;
import darkknowledge.pipeline.EnsembleTargetsTask;
import darkknowledge.generalist.Trainer;
import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.EnsembleConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.SpecialistDataset;
import darkknowledge.pipeline.SpecialistStages;
import darkknowledge.pipeline.Store;
import darkknowledge.pipeline.Synthetic;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.SpecialistEnsemble;
import darkknowledge.specialists.Specialists;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * <b>The whole pipeline</b>, and the step the paper stops before (§8: "we have not yet shown that we
 * can distill the knowledge in the specialists back into the single large net"):
 * generalist → covariance clustering (§5.3) → specialists with dustbins (§5.2, in parallel) →
 * KL-combined ensemble (§5.4) → one student distilled from the ensemble, compared with a student
 * distilled from the generalist alone.
 *
 * <p><b>Temperature of the combined distribution.</b> The ensemble gives a distribution q, not
 * logits; we take {@code log q} as its logits, so its soft targets at T are
 * {@code q_T = softmax(log q / T) ∝ q^{1/T}} (T = 1 gives q itself). The student's loss is the usual
 * {@code T² · CE(q_T, softmax(z/T)) + w · CE(y, softmax(z))}.
 *
 * <p>Store live in {@code runs/pipeline/stages/<stage>/<hash>/} (see {@link darkknowledge.pipeline.Store}) and are reused
 * by later runs with the same inputs; {@code stages.from=<stage>} redoes a stage and all after it.
 */
public final class Pipeline implements Experiment<Pipeline.Config> {
    static final ResultTables.Metric GENERALIST_TEST_ACCURACY =
            new ResultTables.Metric("generalist.test_accuracy", "generalist", "–", 2);
    static final ResultTables.Metric ENSEMBLE_TEST_ACCURACY =
            new ResultTables.Metric("ensemble.test_accuracy", "generalist + specialists (§5.4)", "–", 2);
    static final ResultTables.Metric STUDENT_GENERALIST_TEST_ACCURACY = new ResultTables.Metric("student_generalist.test_accuracy",
            "student distilled from the generalist", "–", 2);
    static final ResultTables.Metric STUDENT_ENSEMBLE_TEST_ACCURACY =
            new ResultTables.Metric("student_ensemble.test_accuracy", "student distilled from the ensemble", "–", 2);
    static final ResultTables.Metric STUDENT_ENSEMBLE_GAIN_KEPT_PCT = new ResultTables.Metric("student_ensemble.gain_kept_pct",
            "share of the ensemble's gain over the generalist kept by its student (%; none where the ensemble "
                    + "does not beat the generalist)", "–", 1);
    static final ResultTables.Metric GENERALIST_SPECIALIST_CLASSES_ACCURACY = new ResultTables.Metric("generalist.specialist_classes_accuracy",
            "generalist on specialist classes", "–", 2);
    static final ResultTables.Metric ENSEMBLE_SPECIALIST_CLASSES_ACCURACY =
            new ResultTables.Metric("ensemble.specialist_classes_accuracy", "ensemble on specialist classes", "–", 2);
    static final ResultTables.Metric STUDENT_ENSEMBLE_SPECIALIST_CLASSES_ACCURACY = new ResultTables.Metric("student_ensemble.specialist_classes_accuracy",
            "student (ensemble) on specialist classes", "–", 2);
    static final ResultTables.Metric COST_ENSEMBLE_PER_STUDENT_INFERENCE = new ResultTables.Metric("cost.ensemble_per_student_inference",
            "inference time, ensemble / student", "–", 2);
    static final ResultTables.Metric GENERALIST_TRAIN_SECONDS =
            new ResultTables.Metric("generalist.train_seconds", "generalist training (s)", "–", 0);
    static final ResultTables.Metric SPECIALISTS_TRAIN_SECONDS =
            new ResultTables.Metric("specialists.train_seconds", "specialists training (s, summed)", "–", 0);
    static final ResultTables.Metric ENSEMBLE_TARGETS_SECONDS = new ResultTables.Metric("ensemble.targets_seconds",
            "ensemble soft targets on the transfer set (s)", "–", 0);
    static final ResultTables.Metric STUDENT_ENSEMBLE_TRAIN_SECONDS =
            new ResultTables.Metric("student_ensemble.train_seconds", "student training (s)", "–", 0);

    static final List<String> STAGES = List.of("generalist", "clustering", "specialists", "ensemble",
            "student-generalist", "student-ensemble");

    /** @param from first stage to redo even if a finished one exists (empty = reuse all finished stages) */
    public record StageConfig(String from) {
        public StageConfig {
            Check.that(from != null, "from", "must be a stage name or empty");
        }
    }

    public record Config(RunConfig run, DataConfig data, SpecialistDataset dataset,
                         Synthetic synthetic, GlyphsConfig glyphs, Architecture architecture, MlpConfig generalist,
                         ConvConfig conv, ClusteringConfig clustering, SpecialistConfig specialists,
                         EnsembleConfig ensemble, MlpConfig student, Architecture.Net studentNet,
                         ConvConfig studentConv, DistillConfig distill, StageConfig stages, EngineConfig engine) {
        public Config {
            if (dataset == SpecialistDataset.GLYPHS) {
                SpecialistsExperiment.refuseFreshOnSpark(glyphs, engine);
            }
        }

        /** The generalist's net: {@code generalist.*} (MLP) or {@code conv.*}, as {@code architecture.generalist} says. */
        TrainingSchedule generalistNet() {
            return architecture.pick(generalist, conv);
        }

        /**
         * The students' net: the MLP of {@code student.*} or, with {@code studentNet=conv}, the conv net of
         * {@code studentConv.*} (a student the generalist's kind and size: what distilling the ensemble
         * back into "the single large net" of §8 asks for on images).
         */
        TrainingSchedule studentSchedule() {
            return studentNet == Architecture.Net.CONV ? studentConv : student;
        }

        /** The config section of the students' net: {@code student} or {@code studentConv}. */
        String studentSection() {
            return studentNet == Architecture.Net.CONV ? "studentConv" : "student";
        }

        /** The students' net as config text (the students' stage inputs): an MLP student's as before. */
        String studentText() {
            return text(studentSection(), (Record) studentSchedule());
        }
    }

    @Override
    public String name() {
        return "pipeline";
    }

    @Override
    public String card() {
        return "§5 + §8: generalist -> clusters -> specialists -> KL ensemble -> distilled student (beyond the paper)";
    }

    @Override
    public Config defaults() {
        Presets.Specialists s = Presets.specialists(SpecialistDataset.FASHION);
        return new Config(new RunConfig(1, Scale.FULL), s.data(), SpecialistDataset.FASHION, s.synthetic(), s.glyphs(),
                s.architecture(), s.generalist(), s.conv(), s.clustering(), s.specialists(), s.ensemble(), s.generalist(),
                Architecture.Net.MLP, s.conv(), new DistillConfig(4, 0.5, DistillConfig.Objective.SOFT_TARGETS), new StageConfig(""),
                EngineConfig.defaults());
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        // The specialists experiment's presets, plus the students.
        Map<String, String> m = new TreeMap<>(Presets.specialists(SpecialistDataset.FASHION, scale));
        switch (scale) {
            case FULL -> {
            }
            case SMALL -> m.put("student.epochs", "4");
            case TINY -> m.putAll(Presets.tiny("student"));
        }
        return m;
    }

    @Override
    public ResultTables.Spec table() {
        List<ResultTables.Metric> perTestSet = List.of(
                GENERALIST_TEST_ACCURACY,
                ENSEMBLE_TEST_ACCURACY,
                STUDENT_GENERALIST_TEST_ACCURACY,
                STUDENT_ENSEMBLE_TEST_ACCURACY,
                STUDENT_ENSEMBLE_GAIN_KEPT_PCT,
                GENERALIST_SPECIALIST_CLASSES_ACCURACY,
                ENSEMBLE_SPECIALIST_CLASSES_ACCURACY,
                STUDENT_ENSEMBLE_SPECIALIST_CLASSES_ACCURACY);
        List<ResultTables.Metric> metrics = new ArrayList<>();
        // The dataset's own test set (glyphs: the unseen typefaces), then the glyphs' seen typefaces.
        for (ResultTables.Metric m : perTestSet) {
            metrics.add(new ResultTables.Metric(m.key(), TEST_LABEL + " — " + m.label(), m.paper(), m.decimals()));
        }
        for (ResultTables.Metric m : perTestSet) {
            metrics.add(new ResultTables.Metric(RunData.SEEN_PREFIX + m.key(), SEEN_LABEL + " — " + m.label(), m.paper(),
                    m.decimals()));
        }
        metrics.addAll(List.of(COST_ENSEMBLE_PER_STUDENT_INFERENCE,
                GENERALIST_TRAIN_SECONDS,
                SPECIALISTS_TRAIN_SECONDS,
                ENSEMBLE_TARGETS_SECONDS,
                STUDENT_ENSEMBLE_TRAIN_SECONDS));
        return new ResultTables.Spec(name(), "The pipeline, distilled (beyond the paper): test accuracy (%)", metrics,
                List.of("dataset", "run.scale"), "The paper does not distill the specialists back into one net (§8); "
                        + "there is no paper figure. On glyphs two test sets: the held-out faces (" + TEST_LABEL
                        + ") and new images of the training faces, distortions from a seed stream no training or "
                        + "validation image uses (" + SEEN_LABEL + "); other datasets have one test set, and glyph "
                        + "runs made before the seen set existed show \"–\" in its rows.");
    }

    /** Row labels of the two test sets. */
    static final String TEST_LABEL = "test set (glyphs: unseen typefaces)";
    static final String SEEN_LABEL = "glyphs: seen typefaces (i.i.d.)";

    /**
     * Glyph runs made before {@code glyphs.seenTestImagesPerFace} existed had no seen-typeface test set:
     * their config reads as 0 there, so they are never averaged with new glyph runs (other datasets read
     * no glyphs key: their older runs take the default and stay repeats of new ones).
     */
    @Override
    public Map<String, String> olderRunsHad(Map<String, String> recorded) {
        return "glyphs".equals(recorded.get("dataset")) ? Map.of(Presets.SEEN_TEST_KEY, "0") : Map.of();
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        if (c.studentSchedule().jitter() != 0) {
            // A jittered student needs its teacher's outputs on each jittered image (see Models.distill);
            // here they come from the §5.4 solve, computed once per training image.
            throw new darkknowledge.core.ConfigException(c.studentSection() + ".jitter: the pipeline's students learn "
                    + "from targets computed once per un-jittered training image; expected 0, got "
                    + c.studentSchedule().jitter());
        }
        SpecialistDataset.Loaded loaded = c.dataset().load(c.data(), c.synthetic(), c.glyphs(), ctx);
        RunData s = loaded.data();
        int k = s.train().numClasses();
        Store stages = Store.shared(ctx.record().dir().getParent().resolve("stages"), STAGES, c.stages().from());
        SortedMap<String, String> result = new TreeMap<>();
        String trainSha = s.train().sha256();  // 172 MB of MNIST-size floats: hash once
        String dataId = "data " + c.dataset() + " " + trainSha + " seed " + c.run().seed() + "\n"
                + text("data", c.data()) + text("synthetic", c.synthetic())
                + (c.dataset() == SpecialistDataset.GLYPHS ? glyphsText(c.glyphs()) : "");
        Seeds seeds = ctx.seeds();

        // 1. Generalist.
        Store.Entry g = stages.open("generalist", dataId, text("architecture", c.architecture()) + (c.architecture()
                .generalist() == Architecture.Net.CONV ? text("conv", c.conv()) : text("generalist", c.generalist())));
        Classifier generalist = Models.trainOnLabels(ctx, g, "generalist", c.generalistNet(), s).model();
        GENERALIST_TRAIN_SECONDS.put(result, Models.fmt(Double.parseDouble(g.info().get("train_seconds"))));

        // 2. Clustering.
        Store.Entry cl = stages.open("clustering", g.hash(), text("clustering", c.clustering()),
                "clusterOn " + c.ensemble().clusterOn());
        ClassPartition partition;
        if (cl.done()) {
            partition = ClassPartition.parse(cl.info().get("subsets"), k, cl.info().get("method"));
        } else {
            partition = SpecialistStages.cluster(SpecialistStages.predictions(generalist, s, c.clustering(),
                    c.ensemble().clusterOn()), c.clustering());
            cl.complete(new TreeMap<>(Map.of("subsets", partition.subsetsText(), "method", partition.method())));
        }
        ctx.provenance().putAll("", partition.provenance());
        result.put("clustering.subsets", partition.named(s.train().classNames()));

        // 3. Specialists.
        if (c.specialists().correctionOnValidation()) {
            throw new IllegalArgumentException("specialists.correctionOnValidation=true: the pipeline distils the "
                    + "ensemble under specialists.correction; choose it on validation with the specialists experiment "
                    + "and set it here");
        }
        Store.Entry sp = stages.open("specialists", cl.hash(), text("specialists", c.specialists().withWorkers(1)));
        List<Specialist> specialists = new ArrayList<>();
        if (sp.done()) {
            SortedMap<String, String> info = sp.info();
            for (int m = 0; m < partition.subsets().size(); m++) {
                specialists.add(new Specialist(partition.subset(m), sp.loadModelForInference("specialist" + m),
                        Double.parseDouble(info.get("specialist" + m + ".dustbin_shift")), c.specialists().head()));
            }
        } else {
            List<Specialists.Trained> trained = SpecialistStages.trainSpecialists(ctx, c.engine(), generalist,
                    g.model("generalist"), c.generalistNet(), partition, c.specialists(), s,
                    seeds.derive("specialists"), sp.dir());
            SortedMap<String, String> info = new TreeMap<>();
            double seconds = 0;
            for (Specialists.Trained t : trained) {
                info.put("specialist" + t.index() + ".dustbin_shift", Double.toString(t.specialist().dustbinShift()));
                info.put("specialist" + t.index() + ".sha256", t.specialist().model().fingerprint());
                seconds += t.outcome().trainSeconds();
                specialists.add(t.specialist());
            }
            info.put("train_seconds", Models.fmt(seconds));
            sp.complete(info);
        }
        SPECIALISTS_TRAIN_SECONDS.put(result, sp.info().get("train_seconds"));
        result.put("specialists.count", Integer.toString(specialists.size()));

        // 4. The ensemble: test figures, and its distribution on every transfer example, cached.
        SpecialistEnsemble ensemble = SpecialistStages.ensemble(generalist, specialists, c.ensemble());
        Store.Entry en = stages.open("ensemble", sp.hash(), text("ensemble", c.ensemble()));
        Path targetsFile = en.dir().resolve("transfer-q.bin");
        INDArray q;
        if (en.done()) {
            q = SpecialistStages.readMatrix(targetsFile, null);
        } else {
            long t0 = System.nanoTime();
            List<EnsembleTargetsTask.SpecialistModel> refs = new ArrayList<>();
            for (int m = 0; m < specialists.size(); m++) {
                refs.add(new EnsembleTargetsTask.SpecialistModel(new EnsembleTargetsTask.Model(
                        sp.model("specialist" + m).toAbsolutePath().toString(),
                        specialists.get(m).model().fingerprint()), partition.subset(m),
                        specialists.get(m).dustbinShift(), specialists.get(m).head()));
            }
            q = SpecialistStages.ensembleTargets(ctx, c.engine(), new EnsembleTargetsTask.Model(
                    g.model("generalist").toAbsolutePath().toString(), generalist.fingerprint()), refs,
                    c.ensemble(), s, Math.max(2, 2 * c.engine().workers()));
            SpecialistStages.writeMatrix(targetsFile, q);
            en.complete(new TreeMap<>(Map.of("targets_seconds", Models.fmt((System.nanoTime() - t0) / 1e9),
                    "rows", Long.toString(q.rows()), "train_sha256", trainSha)));
        }
        if (q.rows() != s.train().numExamples() || !trainSha.equals(en.info().get("train_sha256"))) {
            throw new IllegalStateException(targetsFile + ": expected ensemble targets for the " + s.train().numExamples()
                    + " training examples of this split, found " + q.rows() + " rows for a different split");
        }
        ENSEMBLE_TARGETS_SECONDS.put(result, en.info().get("targets_seconds"));

        // 5. Students: from the generalist alone, and from the ensemble, same net, same T.
        double t = c.distill().temperature();
        INDArray y = s.trainY();
        INDArray fromGeneralist = TemperatureSoftmax.soften(generalist.logits(s.trainX()), t);
        Store.Entry sg = stages.open("student-generalist", g.hash(), c.studentText(), text("distill", c.distill()));
        Classifier studentG = student(ctx, sg, "student_generalist", c,
                new SoftTargets(fromGeneralist, t, "generalist").withHardLabels(y), s);
        INDArray fromEnsemble = TemperatureSoftmax.soften(Transforms.log(q.add(1e-30f), false), t);
        Store.Entry se = stages.open("student-ensemble", en.hash(), c.studentText(), text("distill", c.distill()));
        Classifier studentE = student(ctx, se, "student_ensemble", c,
                new SoftTargets(fromEnsemble, t, "ensemble").withHardLabels(y), s);
        STUDENT_ENSEMBLE_TRAIN_SECONDS.put(result, Models.fmt(Double.parseDouble(se.info().get("train_seconds"))));
        result.put("student_generalist.train_seconds", Models.fmt(Double.parseDouble(sg.info().get("train_seconds"))));
        for (Store.Entry st : List.of(g, cl, sp, en, sg, se)) {
            ctx.provenance().put("stage." + st.name(), st.dir().toString());
        }
        ctx.provenance().put("pipeline.temperature_of_ensemble", "q_T = softmax(log q / T), T = " + t);

        // Test figures on each test set (glyphs: the unseen typefaces, then the seen ones), and inference cost.
        boolean[] covered = SpecialistStages.covered(partition);
        for (RunData.TestSet set : s.testSets()) {
            int[] labels = set.labels();
            String pre = set.prefix();
            int onSpecialist = (int) IntStream.of(labels).filter(cls -> covered[cls]).count();
            long e0 = System.nanoTime();
            int[] ens = ensemble.combine(set.x()).predictions();
            double ensSeconds = (System.nanoTime() - e0) / 1e9;
            long s0 = System.nanoTime();
            int[] stE = studentE.predict(set.x());
            double studentSeconds = (System.nanoTime() - s0) / 1e9;
            Map<String, int[]> preds = Map.of("generalist", generalist.predict(set.x()), "ensemble", ens,
                    "student_generalist", studentG.predict(set.x()), "student_ensemble", stE);
            preds.forEach((name, p) -> {
                result.put(pre + name + ".test_accuracy", SpecialistStages.pct(SpecialistStages.correct(p, labels, null),
                        labels.length));
                result.put(pre + name + ".specialist_classes_accuracy",
                        SpecialistStages.pct(SpecialistStages.correct(p, labels, covered), onSpecialist));
            });
            int gc = SpecialistStages.correct(preds.get("generalist"), labels, null);
            int ec = SpecialistStages.correct(ens, labels, null);
            int sc = SpecialistStages.correct(stE, labels, null);
            // a share of the gain exists only where there is a gain: an ensemble no better than its generalist
            // leaves it undefined (NaN), rather than a "share" of a loss that would read as kept
            result.put(pre + STUDENT_ENSEMBLE_GAIN_KEPT_PCT.key(), ec <= gc ? "NaN"
                    : Models.fmt(100.0 * (sc - gc) / (ec - gc)));
            result.put(pre + COST_ENSEMBLE_PER_STUDENT_INFERENCE.key(), Models.fmt(ensSeconds / studentSeconds));
            result.put(pre + "test_examples", Integer.toString(labels.length));
        }
        AtomicFiles.writeString(ctx.record().dir().resolve("partition.txt"), partition.toText());
        return result;
    }

    /** The dataset {@code dataset} names (glyphs, synthetic classes, ...), made as the run made it. */
    @Override
    public darkknowledge.data.Dataset testSet(Config c, darkknowledge.data.DataStore store,
                                              darkknowledge.core.Provenance provenance, java.nio.file.Path runDir) {
        return c.dataset().load(c.data(), c.synthetic(), c.glyphs(), store, new Seeds(c.run().seed()), provenance,
                runDir).data().test();
    }

    /** Trains student {@code name} on {@code targets} in stage entry {@code at}, or loads it when the entry is done. */
    private static Classifier student(RunContext ctx, Store.Entry at, String name, Config c, INDArray targets,
                                      RunData s) {
        Trainer.TrainingData data = new Trainer.TrainingData(s.trainX(), targets, s.train().imageWidth(),
                s.train().imageHeight());
        return Models.trainOrLoad(ctx, at, name, c.studentSchedule(), c.distill().loss(), data, s).model();
    }

    /**
     * A config section as a stage's key text. A conv net's {@code plateau.*} keys are left out while
     * its plateau is off (their defaults): the stages trained before the keys existed are still found.
     */
    static String text(String prefix, Record r) {
        java.util.SortedMap<String, String> keys = Configs.write(prefix, r);
        if (r instanceof ConvConfig conv && !conv.plateau().on()) {
            keys.keySet().removeIf(k -> k.startsWith(prefix + ".plateau."));
        }
        return Configs.toText(keys);
    }

    /**
     * The glyphs section as the stages' data key: without the seen-typeface test set's size, which no
     * model is trained on (so stages cached before it existed are still found).
     */
    static String glyphsText(GlyphsConfig g) {
        java.util.SortedMap<String, String> keys = Configs.write("glyphs", g);
        keys.remove(Presets.SEEN_TEST_KEY);
        if (!g.freshEachEpoch()) {  // the key's default: the stages trained before it existed
            keys.remove("glyphs.freshEachEpoch");
        }
        return Configs.toText(keys);
    }


    public static void main(String[] args) {
        Main.runExperiment(new Pipeline(), args);
    }
}
