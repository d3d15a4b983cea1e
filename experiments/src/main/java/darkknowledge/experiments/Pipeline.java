package darkknowledge.experiments;

import darkknowledge.clustering.ClassClustering;
import darkknowledge.clustering.ClassPartition;
import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Check;
import darkknowledge.core.Configs;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.DistillationLoss;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.TemperatureSoftmax;
import darkknowledge.generalist.Checkpoints;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.DustbinCorrection;
import darkknowledge.specialists.KlCombiner;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.SpecialistEnsemble;
import darkknowledge.specialists.Specialists;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * <p>Stages live in {@code runs/pipeline/stages/<stage>/<hash>/} (see {@link Stages}) and are reused
 * by later runs with the same inputs; {@code stages.from=<stage>} redoes a stage and all after it.
 */
public final class Pipeline implements Experiment<Pipeline.Config> {
    static final List<String> STAGES = List.of("generalist", "clustering", "specialists", "ensemble",
            "student-generalist", "student-ensemble");

    /** @param from first stage to redo even if a finished one exists (empty = reuse all finished stages) */
    public record StageConfig(String from) {
        public StageConfig {
            Check.that(from != null, "from", "must be a stage name or empty");
        }
    }

    public record Config(RunConfig run, DataConfig data, SpecialistsExperiment.Variant dataset,
                         SpecialistsExperiment.Synthetic synthetic, MlpConfig generalist, ClusteringConfig clustering,
                         SpecialistConfig specialists, SpecialistsExperiment.Ensemble ensemble, MlpConfig student,
                         DistillConfig distill, StageConfig stages) {
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
        SpecialistsExperiment.Config s = new SpecialistsExperiment(SpecialistsExperiment.Variant.FASHION).defaults();
        return new Config(s.run(), s.data(), SpecialistsExperiment.Variant.FASHION, s.synthetic(), s.generalist(),
                s.clustering(), s.specialists(), s.ensemble(), s.generalist(),
                new DistillConfig(4, 0.5, DistillConfig.Objective.SOFT_TARGETS), new StageConfig(""));
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        // The specialists experiment's presets, plus the students.
        Map<String, String> m = new TreeMap<>(new SpecialistsExperiment(SpecialistsExperiment.Variant.FASHION).preset(scale));
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
        return new ResultTables.Spec(name(), "The pipeline, distilled (beyond the paper): test accuracy (%)", List.of(
                new ResultTables.Metric("generalist.test_accuracy", "generalist", "–", 2),
                new ResultTables.Metric("ensemble.test_accuracy", "generalist + specialists (§5.4)", "–", 2),
                new ResultTables.Metric("student_generalist.test_accuracy", "student distilled from the generalist", "–", 2),
                new ResultTables.Metric("student_ensemble.test_accuracy", "student distilled from the ensemble", "–", 2),
                new ResultTables.Metric("student_ensemble.gain_kept_pct",
                        "share of the ensemble's gain over the generalist kept by its student (%)", "–", 1),
                new ResultTables.Metric("generalist.specialist_classes_accuracy", "generalist on specialist classes", "–", 2),
                new ResultTables.Metric("ensemble.specialist_classes_accuracy", "ensemble on specialist classes", "–", 2),
                new ResultTables.Metric("student_ensemble.specialist_classes_accuracy",
                        "student (ensemble) on specialist classes", "–", 2),
                new ResultTables.Metric("cost.ensemble_per_student_inference", "inference time, ensemble / student", "–", 2),
                new ResultTables.Metric("generalist.train_seconds", "generalist training (s)", "–", 0),
                new ResultTables.Metric("specialists.train_seconds", "specialists training (s, summed)", "–", 0),
                new ResultTables.Metric("ensemble.targets_seconds", "ensemble soft targets on the transfer set (s)", "–", 0),
                new ResultTables.Metric("student_ensemble.train_seconds", "student training (s)", "–", 0)),
                List.of("run.scale"), "The paper does not distill the specialists back into one net (§8); there is no paper figure.");
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        if (c.student().jitter() != 0) {
            // A jittered student needs its teacher's outputs on each jittered image (see Nets.distill);
            // here they come from the §5.4 solve, computed once per training image.
            throw new darkknowledge.core.ConfigException("student.jitter: the pipeline's students learn from targets "
                    + "computed once per un-jittered training image; expected 0, got " + c.student().jitter());
        }
        SpecialistsExperiment.Loaded loaded = SpecialistsExperiment.load(c.dataset(), c.data(), c.synthetic(), ctx);
        Splits s = loaded.splits();
        int k = s.train().numClasses();
        Stages stages = new Stages(ctx.record().dir().getParent().resolve("stages"), STAGES, c.stages().from());
        SortedMap<String, String> result = new TreeMap<>();
        String trainSha = s.train().sha256();  // 172 MB of MNIST-size floats: hash once
        String dataId = "data " + c.dataset() + " " + trainSha + " seed " + c.run().seed() + "\n"
                + text("data", c.data()) + text("synthetic", c.synthetic());
        Seeds seeds = ctx.seeds();

        // 1. Generalist.
        Stages.Stage g = stages.open("generalist", dataId, text("generalist", c.generalist()));
        Classifier generalist = trainOrLoad(g, "generalist", c.generalist(), s, s.trainY(), null, seeds, ctx);
        result.put("generalist.train_seconds", g.info().get("train_seconds"));

        // 2. Clustering.
        Stages.Stage cl = stages.open("clustering", g.hash(), text("clustering", c.clustering()),
                "clusterOn " + c.ensemble().clusterOn());
        ClassPartition partition;
        if (cl.done()) {
            partition = ClassPartition.parse(cl.info().get("subsets"), k, cl.info().get("method"));
        } else {
            INDArray x = c.ensemble().clusterOn() == SpecialistsExperiment.ClusterOn.VALIDATION ? s.validationX() : s.trainX();
            INDArray z = generalist.logits(x).castTo(DataType.DOUBLE);
            double[][] pred = c.clustering().source() == ClusteringConfig.Source.LOGITS ? z.toDoubleMatrix()
                    : Transforms.softmax(z, true).toDoubleMatrix();
            partition = ClassClustering.fromPredictions(pred, c.clustering());
            cl.complete(new TreeMap<>(Map.of("subsets", partition.subsetsText(), "method", partition.method())));
        }
        ctx.provenance().putAll("", partition.provenance());
        result.put("clustering.subsets", SpecialistsExperiment.named(partition, s.train().classNames()));
        List<int[]> subsets = partition.subsets().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();

        // 3. Specialists.
        Stages.Stage sp = stages.open("specialists", cl.hash(), text("specialists", c.specialists()));
        List<Specialist> specialists = new ArrayList<>();
        if (sp.done()) {
            SortedMap<String, String> info = sp.info();
            for (int m = 0; m < subsets.size(); m++) {
                specialists.add(new Specialist(subsets.get(m), Classifier.load(sp.dir().resolve("specialist" + m + ".zip")),
                        Double.parseDouble(info.get("specialist" + m + ".dustbin_shift"))));
            }
        } else {
            List<Specialists.Trained> trained = Specialists.trainAll(generalist, c.generalist(), subsets, c.specialists(),
                    s.trainX(), s.train().labels(), s.validationX(), s.validation().labels(), s.train().imageWidth(),
                    s.train().imageHeight(), new Seeds(seeds.derive("specialists")), ctx.progress(),
                    new Checkpoints(sp.dir().resolve("checkpoints")));
            SortedMap<String, String> info = new TreeMap<>();
            double seconds = 0;
            for (Specialists.Trained t : trained) {
                t.specialist().model().save(sp.dir().resolve("specialist" + t.index() + ".zip"));
                info.put("specialist" + t.index() + ".dustbin_shift", Double.toString(t.specialist().dustbinShift()));
                info.put("specialist" + t.index() + ".sha256", t.specialist().model().fingerprint());
                seconds += t.outcome().trainSeconds();
                specialists.add(t.specialist());
            }
            info.put("train_seconds", Nets.fmt(seconds));
            sp.complete(info);
        }
        result.put("specialists.train_seconds", sp.info().get("train_seconds"));
        result.put("specialists.count", Integer.toString(specialists.size()));

        // 4. The ensemble: test figures, and its distribution on every transfer example, cached.
        KlCombiner solver = new KlCombiner(c.ensemble().tolerance(), c.ensemble().maxIterations());
        SpecialistEnsemble ensemble = new SpecialistEnsemble(generalist, specialists, c.ensemble().topN(), solver);
        Stages.Stage en = stages.open("ensemble", sp.hash(), text("ensemble", c.ensemble()));
        Path targetsFile = en.dir().resolve("transfer-q.bin");
        INDArray q;
        if (en.done()) {
            q = readMatrix(targetsFile);
        } else {
            long t0 = System.nanoTime();
            q = Nd4j.createFromArray(toFloat(ensemble.combine(s.trainX()).q()));
            writeMatrix(targetsFile, q);
            en.complete(new TreeMap<>(Map.of("targets_seconds", Nets.fmt((System.nanoTime() - t0) / 1e9),
                    "rows", Long.toString(q.rows()), "train_sha256", trainSha)));
        }
        if (q.rows() != s.train().numExamples() || !trainSha.equals(en.info().get("train_sha256"))) {
            throw new IllegalStateException(targetsFile + ": expected ensemble targets for the " + s.train().numExamples()
                    + " training examples of this split, found " + q.rows() + " rows for a different split");
        }
        result.put("ensemble.targets_seconds", en.info().get("targets_seconds"));

        // 5. Students: from the generalist alone, and from the ensemble, same net, same T.
        double t = c.distill().temperature();
        INDArray y = s.trainY();
        INDArray fromGeneralist = TemperatureSoftmax.soften(generalist.logits(s.trainX()), t);
        Stages.Stage sg = stages.open("student-generalist", g.hash(), text("student", c.student()), text("distill", c.distill()));
        Classifier studentG = trainOrLoad(sg, "student_generalist", c.student(), s,
                new SoftTargets(fromGeneralist, t, "generalist").withHardLabels(y), c.distill(), seeds, ctx);
        INDArray fromEnsemble = TemperatureSoftmax.soften(Transforms.log(q.add(1e-30f), false), t);
        Stages.Stage se = stages.open("student-ensemble", en.hash(), text("student", c.student()), text("distill", c.distill()));
        Classifier studentE = trainOrLoad(se, "student_ensemble", c.student(), s,
                new SoftTargets(fromEnsemble, t, "ensemble").withHardLabels(y), c.distill(), seeds, ctx);
        result.put("student_ensemble.train_seconds", se.info().get("train_seconds"));
        result.put("student_generalist.train_seconds", sg.info().get("train_seconds"));
        for (Stages.Stage st : List.of(g, cl, sp, en, sg, se)) {
            ctx.provenance().put("stage." + st.name(), st.dir().toString());
        }
        ctx.provenance().put("pipeline.temperature_of_ensemble", "q_T = softmax(log q / T), T = " + t);

        // Test figures and inference cost.
        int[] labels = s.test().labels();
        boolean[] covered = new boolean[k];
        subsets.forEach(sub -> IntStream.of(sub).forEach(cls -> covered[cls] = true));
        int onSpecialist = (int) IntStream.of(labels).filter(cls -> covered[cls]).count();
        long e0 = System.nanoTime();
        int[] ens = ensemble.combine(s.testX()).predictions();
        double ensSeconds = (System.nanoTime() - e0) / 1e9;
        long s0 = System.nanoTime();
        int[] stE = studentE.predict(s.testX());
        double studentSeconds = (System.nanoTime() - s0) / 1e9;
        Map<String, int[]> preds = Map.of("generalist", generalist.predict(s.testX()), "ensemble", ens,
                "student_generalist", studentG.predict(s.testX()), "student_ensemble", stE);
        preds.forEach((name, p) -> {
            result.put(name + ".test_accuracy", SpecialistsExperiment.pct(SpecialistsExperiment.correct(p, labels, null),
                    labels.length));
            result.put(name + ".specialist_classes_accuracy",
                    SpecialistsExperiment.pct(SpecialistsExperiment.correct(p, labels, covered), onSpecialist));
        });
        int gc = SpecialistsExperiment.correct(preds.get("generalist"), labels, null);
        int ec = SpecialistsExperiment.correct(ens, labels, null);
        int sc = SpecialistsExperiment.correct(stE, labels, null);
        result.put("student_ensemble.gain_kept_pct", ec == gc ? "NaN" : Nets.fmt(100.0 * (sc - gc) / (ec - gc)));
        result.put("cost.ensemble_per_student_inference", Nets.fmt(ensSeconds / studentSeconds));
        result.put("test_examples", Integer.toString(labels.length));
        AtomicFiles.writeString(ctx.record().dir().resolve("partition.txt"), partition.toText());
        return result;
    }

    /** Trains {@code name} in stage {@code st} (resuming from its checkpoint), or loads it when the stage is done. */
    private static Classifier trainOrLoad(Stages.Stage st, String name, MlpConfig cfg, Splits s, INDArray targets,
                                          DistillConfig distill, Seeds seeds, RunContext ctx) {
        Path file = st.dir().resolve(name + ".zip");
        if (st.done()) {
            Classifier model = Classifier.load(file);
            if (!model.fingerprint().equals(st.info().get("sha256"))) {
                throw new IllegalStateException(file + ": expected parameters with SHA-256 " + st.info().get("sha256")
                        + ", found " + model.fingerprint());
            }
            ctx.provenance().put("model." + name + ".sha256", model.fingerprint()).put("model." + name + ".reused", file.toString());
            return model;
        }
        long seed = seeds.derive(name);
        Classifier model = Classifier.create(cfg, s.train().numFeatures(), s.train().numClasses(),
                distill == null ? null : distill.loss(), seed);
        Checkpoints ck = new Checkpoints(st.dir().resolve("checkpoints"));
        Trainer.Outcome o = Trainer.fit(name, model, new Trainer.TrainingData(s.trainX(), targets, s.train().imageWidth(),
                s.train().imageHeight()), new Trainer.Validation(s.validationX(), s.validation().labels()), cfg, seed,
                ctx.progress(), ck);
        model.save(file);
        ck.clear(name);
        st.complete(new TreeMap<>(Map.of("sha256", model.fingerprint(), "train_seconds", Nets.fmt(o.trainSeconds()),
                "epochs", Integer.toString(o.epochsRun()), "best_epoch", Integer.toString(o.bestEpoch() + 1))));
        ctx.provenance().put("model." + name + ".sha256", model.fingerprint()).put("model." + name + ".seed", Long.toString(seed));
        return model;
    }

    private static String text(String prefix, Record r) {
        return Configs.toText(Configs.write(prefix, r));
    }

    private static float[][] toFloat(double[][] a) {
        float[][] f = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            f[i] = new float[a[i].length];
            for (int j = 0; j < a[i].length; j++) {
                f[i][j] = (float) a[i][j];
            }
        }
        return f;
    }

    private static void writeMatrix(Path file, INDArray m) {
        AtomicFiles.write(file, out -> {
            DataOutputStream d = new DataOutputStream(out);
            Nd4j.write(m, d);
            d.flush();
        });
    }

    private static INDArray readMatrix(Path file) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return Nd4j.read(new DataInputStream(in));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read cached ensemble targets " + file + ": " + e.getMessage(), e);
        }
    }

    public static void main(String[] args) {
        Main.runExperiment(new Pipeline(), args);
    }
}
