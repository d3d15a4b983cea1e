package darkknowledge.pipeline;

import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.Fidelity;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.Teacher;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.generalist.TrainingSchedule;
import java.nio.file.Path;
import java.util.List;
import darkknowledge.generalist.Trainer;
import java.util.Locale;
import java.util.SortedMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Trains, evaluates, saves and records the networks of an experiment. */
public final class Models {
    private Models() {
    }

    /** A trained net and how its training went. */
    public record Trained(String name, Classifier model, Trainer.Outcome outcome) {
        public int testErrors(RunData s) {
            return model.errors(s.testX(), s.test().labels());
        }
    }

    /** Trains {@code name} on the hard labels of the training split, kept in the run's store. */
    public static Trained trainOnLabels(RunContext ctx, String name, TrainingSchedule cfg, RunData s) {
        return trainOnLabels(ctx, ctx.store().open(name), name, cfg, s);
    }

    /** Trains {@code name} on the hard labels of the training split into store entry {@code at}, or loads it. */
    public static Trained trainOnLabels(RunContext ctx, Store.Entry at, String name, TrainingSchedule cfg,
                                        RunData s) {
        Trainer.TrainingData data = new Trainer.TrainingData(s.trainX(), s.trainY(), s.train().imageWidth(),
                s.train().imageHeight()).withFresh(s.freshInputs());
        return trainOrLoad(ctx, at, name, cfg, null, data, s);
    }

    /**
     * Trains {@code name} on {@code data} into store entry {@code at} (resuming from its last
     * checkpoint), or loads it when the entry is done. The one train-or-load of every experiment.
     *
     * @param lossOnLogits null for softmax cross-entropy on the targets, else the distillation loss
     */
    public static Trained trainOrLoad(RunContext ctx, Store.Entry at, String name, TrainingSchedule cfg,
                                      org.nd4j.linalg.lossfunctions.ILossFunction lossOnLogits,
                                      Trainer.TrainingData data, RunData s) {
        long seed = ctx.seeds().derive(name);
        if (at.done()) {
            Classifier model = at.loadModel(name);
            SortedMap<String, String> o = at.info();
            ctx.provenance().put("model." + name + ".sha256", model.fingerprint())
                    .put("model." + name + ".seed", Long.toString(seed))
                    .put("model." + name + ".reused", at.model(name).toString());
            Trainer.Outcome recorded = outcome(o);
            replayHistory(ctx, at, recorded);
            return new Trained(name, model, recorded);
        }
        if (!s.hasValidation() && cfg.patience() > 0) {
            throw new darkknowledge.core.ConfigException(name + ".patience=" + cfg.patience() + ": early stopping needs a "
                    + "validation split, and data.validationSize is 0 (no hold-out).");
        }
        if (!s.hasValidation() && cfg.plateau().on()) {
            throw new darkknowledge.core.ConfigException(name + ".plateau.epochs=" + cfg.plateau().epochs() + ": reducing "
                    + "the learning rate when validation stops improving needs a validation split, and "
                    + "data.validationSize is 0 (no hold-out).");
        }
        Classifier model = Classifier.create(cfg, s.train().numFeatures(), s.train().numClasses(), lossOnLogits, seed);
        Trainer.Outcome outcome = Trainer.fit(name, model, data, validation(s), cfg, seed, ctx.progress(),
                at.checkpoints());
        // The done record is written after the model: its presence says the model is complete.
        at.completeWith(name, model, record(outcome));
        ctx.provenance().put("model." + name + ".sha256", model.fingerprint())
                .put("model." + name + ".seed", Long.toString(seed));
        return new Trained(name, model, outcome);
    }

    /**
     * Trains student {@code name} on the teacher's soft targets at {@code distill.temperature()}
     * (plus the hard labels, weighted by {@code distill.hardWeight()}) over the given rows of the
     * training split, the transfer set. {@code labeled = false} drops the hard term.
     *
     * <p>With {@code cfg.jitter() = 0} (the paper's student) the teacher's outputs are computed once
     * on the transfer set and cached. With a jittered student they are computed online instead: the
     * teacher labels each minibatch as the student sees it, after the jitter, so the transfer set
     * becomes the training images under random shifts of up to {@code cfg.jitter()} pixels, each
     * with the teacher's own distribution (Beyer et al. 2022, "consistent teaching"). This departs
     * from §3, whose transfer set "does not contain any translations"; it costs a teacher forward
     * pass per minibatch.
     */
    public static Trained distill(RunContext ctx, String name, MlpConfig cfg, DistillConfig distill, Teacher teacher,
                           RunData s, int[] transferRows, boolean labeled) {
        Store.Entry at = ctx.store().open(name);
        INDArray x = s.trainX().getRows(transferRows);
        INDArray y = labeled ? s.trainY().getRows(transferRows) : s.trainY().getRows(transferRows).muli(0);
        java.util.function.UnaryOperator<INDArray> teacherTargets = teacherTargets(teacher, distill);
        INDArray targets;
        if (distill.objective() == DistillConfig.Objective.SOFT_TARGETS) {
            targets = SoftTargets.compute(teacher, x, distill.temperature()).withHardLabels(y);
        } else {
            targets = teacherTargets.apply(x);
        }
        int k = teacher.numClasses();
        Trainer.Relabel online = cfg.jitter() == 0 ? null : (features, batchTargets) -> batchTargets
                .get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).assign(teacherTargets.apply(features));
        ctx.provenance().put("model." + name + ".teacher", teacher.id())
                .put("model." + name + ".teacher_targets", online == null ? "cached on the transfer set"
                        : "online on each jittered minibatch");
        Trainer.TrainingData data = new Trainer.TrainingData(x, targets, s.train().imageWidth(), s.train().imageHeight(),
                online);
        return trainOrLoad(ctx, at, name, cfg, distill.loss(), data, s);
    }

    /**
     * What the student regresses on, as a function of its inputs: the teacher's distribution at T
     * (soft targets, §2), or for logit matching (§2.1) the teacher's logits recovered as
     * {@code T log p} at T = 100, which equals them up to a per-row constant that the loss removes by
     * centring (a high T keeps p from underflowing).
     */
    private static java.util.function.UnaryOperator<INDArray> teacherTargets(Teacher teacher, DistillConfig distill) {
        if (distill.objective() == DistillConfig.Objective.SOFT_TARGETS) {
            return f -> teacher.softTargets(f, distill.temperature());
        }
        double t = 100;
        return f -> org.nd4j.linalg.ops.transforms.Transforms.log(SoftTargets.compute(teacher, f, t).probabilities(),
                false).muli(t);
    }



    /**
     * The teacher of an experiment: loaded from {@code checkpoint} when one is given (its hash and
     * path recorded), else trained here on hard labels with {@code cfg}.
     */
    public static Trained teacher(RunContext ctx, String checkpoint, MlpConfig cfg, RunData s) {
        if (checkpoint == null || checkpoint.isBlank()) {
            return trainOnLabels(ctx, "teacher", cfg, s);
        }
        java.nio.file.Path path = java.nio.file.Path.of(checkpoint);
        if (!java.nio.file.Files.isRegularFile(path)) {
            throw new darkknowledge.core.ConfigException("inputs.teacher: checkpoint not found: " + path.toAbsolutePath());
        }
        Classifier model = Classifier.load(path);
        if (model.numInputs() != s.train().numFeatures() || model.numClasses() != s.train().numClasses()) {
            throw new darkknowledge.core.ConfigException("inputs.teacher: " + path + " maps " + model.numInputs()
                    + " inputs to " + model.numClasses() + " classes; this data has " + s.train().numFeatures()
                    + " and " + s.train().numClasses());
        }
        ctx.provenance().put("model.teacher.checkpoint", path.toAbsolutePath().toString())
                .put("model.teacher.sha256", model.fingerprint())
                .put("model.teacher.split", sameDataAndSplit(path, ctx.provenance().entries()));
        int errors = s.hasValidation() ? model.errors(s.validationX(), s.validation().labels()) : -1;
        return new Trained("teacher", model, new Trainer.Outcome(-1, errors, 0, 0, java.util.List.of()));
    }

    /**
     * Checks that a reused teacher was trained on this run's data and training split, from the run
     * record it was saved in: the same dataset files (their SHA-256s, {@code data.*}) and the same
     * training indices. A teacher trained under another split (another {@code data.validationSize},
     * or before the split stopped depending on {@code run.seed}) has seen most of this run's
     * validation images: its validation errors, the student's model selection and the omitted-digit
     * bias shift would all be tuned on data the teacher learned. A teacher of another dataset of the
     * same shape (Fashion-MNIST for MNIST) would pass a shape check. Returns what the provenance records.
     */
    private static String sameDataAndSplit(java.nio.file.Path checkpoint, java.util.Map<String, String> ours) {
        java.nio.file.Path record = checkpoint.toAbsolutePath().getParent().resolve(darkknowledge.core.RunRecord.PROVENANCE);
        if (!java.nio.file.Files.isRegularFile(record)) {
            org.slf4j.LoggerFactory.getLogger(Models.class).warn("inputs.teacher: no {} beside {}; cannot check that the "
                    + "teacher was trained on this run's data and split", darkknowledge.core.RunRecord.PROVENANCE, checkpoint);
            return "unchecked (no run record beside the checkpoint)";
        }
        java.util.Map<String, String> theirRecord = darkknowledge.core.RunRecord.readProperties(record);
        java.util.SortedMap<String, String> theirData = dataFiles(theirRecord);
        java.util.SortedMap<String, String> ourData = dataFiles(ours);
        if (!theirData.isEmpty() && !theirData.equals(ourData)) {
            throw new darkknowledge.core.ConfigException("inputs.teacher: " + checkpoint + " was trained on other data ("
                    + theirData.keySet() + " in " + record + "; this run reads " + ourData.keySet()
                    + ", or the same files with other SHA-256s).");
        }
        String theirRows = theirRecord.getOrDefault(RunData.TEACHER_ROWS_KEY, RunData.ALL_ROWS);
        String ourRows = ours.getOrDefault(RunData.TEACHER_ROWS_KEY, RunData.ALL_ROWS);
        if (!theirRows.equals(ourRows)) {
            throw new darkknowledge.core.ConfigException("inputs.teacher: " + checkpoint + " was trained on other rows of "
                    + "the training split (" + RunData.TEACHER_ROWS_KEY + " " + theirRows + " in " + record
                    + "; this run's teacher is to be trained on " + ourRows + "): with transfer.half, a teacher must "
                    + "not have seen the half it is to label as unseen. Use the teacher of a run with the same "
                    + "transfer.half teacher rows.");
        }
        String theirs = theirRecord.get(RunData.TRAIN_INDICES_KEY);
        String split = ours.get(RunData.TRAIN_INDICES_KEY);
        if (theirs != null && !theirs.equals(split)) {
            throw new darkknowledge.core.ConfigException("inputs.teacher: " + checkpoint + " was trained on another "
                    + "training split (" + RunData.TRAIN_INDICES_KEY + " " + theirs + " in " + record + ", this run's is "
                    + split + "); its training images overlap this run's validation split. Use the teacher's "
                    + "data.validationSize.");
        }
        return theirs == null ? "unchecked (its run record has no " + RunData.TRAIN_INDICES_KEY + ")" : "same as this run's";
    }

    /** The dataset files a run read, as {@code data.<dataset>.<file>} → SHA-256. */
    private static java.util.SortedMap<String, String> dataFiles(java.util.Map<String, String> provenance) {
        java.util.SortedMap<String, String> files = new java.util.TreeMap<>();
        provenance.forEach((k, v) -> {
            if (k.startsWith("data.")) {
                files.put(k, v);
            }
        });
        return files;
    }

    /** How a training went, as a store entry records it. */
    static SortedMap<String, String> record(Trainer.Outcome o) {
        SortedMap<String, String> r = new java.util.TreeMap<>(java.util.Map.of("best_epoch", Integer.toString(o.bestEpoch()),
                "best_validation_errors", Integer.toString(o.bestValidationErrors()),
                "epochs_run", Integer.toString(o.epochsRun()), "train_seconds", Double.toString(o.trainSeconds())));
        Trainer.EpochReport.putHistory(r, o.history());
        return r;
    }

    /** The training outcome a store entry recorded ({@link #record}), with its per-epoch history. */
    static Trainer.Outcome outcome(SortedMap<String, String> o) {
        return new Trainer.Outcome(Integer.parseInt(o.get("best_epoch")),
                Integer.parseInt(o.get("best_validation_errors")), Integer.parseInt(o.get("epochs_run")),
                Double.parseDouble(o.get("train_seconds")), Trainer.EpochReport.history(o::get));
    }

    /**
     * A model found done in this run's own directory may have been trained where the run's metrics
     * writer was not (an executor's JVM, or a driver killed before it wrote every row): its recorded
     * epochs are written as the run's metrics rows again. Rows are replaced, not repeated; an entry of
     * the shared store, trained by another run, adds none.
     */
    static void replayHistory(RunContext ctx, Store.Entry at, Trainer.Outcome o) {
        if (at.dir().toAbsolutePath().normalize().startsWith(ctx.record().dir().toAbsolutePath().normalize())) {
            o.history().forEach(ctx.progress()::onRestoredEpoch);
        }
    }

    /**
     * Trains the students of a sweep on {@code engineCfg}'s engine, one {@link DistillTask} each: those
     * not already in the run's store. The engine ships the teacher saved at {@code teacherFile} and
     * the run's data {@code s}; each student's model and done record are written into the run's store
     * as it finishes, where {@link #distill} then finds it.
     */
    public static void distillAll(RunContext ctx, EngineConfig engineCfg, Path teacherFile, Trained teacher,
                                  List<DistillTask.Student> students, RunData s, long runSeed) {
        List<DistillTask.Student> todo = students.stream().filter(t -> !ctx.store().open(t.name()).done()).toList();
        if (todo.isEmpty()) {
            return;
        }
        SpecialistTask.listenInProcess(darkknowledge.specialists.Specialists.synchronizedListener(ctx.progress()));
        Shipped.Data data = null;
        try (darkknowledge.core.engine.Engine engine = darkknowledge.core.engine.Engines.open(engineCfg,
                ctx.record().dir())) {
            Shipped.Model t = Shipped.model(engine, teacherFile, teacher.model().fingerprint());
            data = Shipped.data(engine, s);
            String runDir = ctx.record().dir().toAbsolutePath().toString();
            List<DistillTask> tasks = new java.util.ArrayList<>();
            for (DistillTask.Student st : todo) {
                tasks.add(new DistillTask(st.name(), st.cfg(), st.distill(), t, teacher.name(), data, runSeed, runDir,
                        st.transferRows(), st.labeled()));
            }
            engine.runAll("students", tasks, d -> DistillTask.save(ctx.store(), d));
            ctx.provenance().putAll("engine.", engine.describe());
        } finally {
            SpecialistTask.listenInProcess(null);
            if (data != null) {
                Shipped.forget(data);
            }
        }
    }

    /** The teacher that {@code trained} is, at any temperature. */
    public static Teacher asTeacher(Trained trained) {
        return Teacher.single(trained.name() + ":" + trained.model().fingerprint().substring(0, 16),
                trained.model().numClasses(), trained.model()::logits);
    }

    /** The validation split early stopping and model selection see; null without one (the last epoch is kept). */
    private static Trainer.Validation validation(RunData s) {
        return s.hasValidation() ? new Trainer.Validation(s.validationX(), s.validation().labels()) : null;
    }


    /** Records a trained net's training figures under {@code name.*}. */
    public static void report(SortedMap<String, String> result, Trained t) {
        Trainer.Outcome o = t.outcome();
        if (o.epochsRun() == 0) {
            result.put(t.name() + ".validation_errors", validationErrors(o));
            result.put(t.name() + ".reused", "true");
            return;
        }
        result.put(t.name() + ".epochs", Integer.toString(o.epochsRun()));
        result.put(t.name() + ".best_epoch", Integer.toString(o.bestEpoch() + 1));
        result.put(t.name() + ".validation_errors", validationErrors(o));
        result.put(t.name() + ".train_seconds", fmt(o.trainSeconds()));
        result.put(t.name() + ".seconds_per_epoch", fmt(o.trainSeconds() / o.epochsRun()));
    }

    /** A net's validation errors as a result records them: "none (no hold-out)" when there was no validation split. */
    private static String validationErrors(Trainer.Outcome o) {
        return o.bestValidationErrors() < 0 ? "none (no hold-out)" : Integer.toString(o.bestValidationErrors());
    }

    /**
     * Records how closely student {@code name} matches its teacher ({@link Fidelity}) at
     * {@code temperature}: on the transfer set it was trained on (without jitter) and on the test set.
     */
    public static void reportFidelity(SortedMap<String, String> result, String name, Teacher teacher, Trained student,
                               INDArray transferX, RunData s, double temperature) {
        Fidelity onTransfer = Fidelity.measure(teacher, student.model()::logits, transferX, temperature);
        Fidelity onTest = Fidelity.measure(teacher, student.model()::logits, s.testX(), temperature);
        result.put(name + ".teacher_kl_transfer", String.format(Locale.ROOT, "%.4f", onTransfer.scaledKl()));
        result.put(name + ".teacher_kl_test", String.format(Locale.ROOT, "%.4f", onTest.scaledKl()));
        result.put(name + ".teacher_disagreements_test", Integer.toString(onTest.disagreements()));
    }

    public static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
