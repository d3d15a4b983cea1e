package darkknowledge.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.data.Dataset;
import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.Teacher;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models' one train-or-load, on a tiny seeded synthetic problem (a second or two per test). */
class ModelsTest {
    /** Adam at 1e-2 on minibatches of 32: 8 steps an epoch over the 240 training examples. */
    private static MlpConfig mlp(int epochs) {
        return new MlpConfig(List.of(16), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 1.0, epochs, 32, 0, 0);
    }

    @Test
    void aNetIsTrainedOnceAndThenLoadedNotTrainedAgain(@TempDir Path root) {
        TinyRuns.Recorder first = new TinyRuns.Recorder();
        RunContext ctx = TinyRuns.context(root, 1, first);
        RunData s = TinyRuns.data(ctx, TinyRuns.DATA);
        Models.Trained trained = Models.trainOnLabels(ctx, "teacher", mlp(4), s);
        assertEquals(4, first.trainedEpochsOf("teacher"));
        assertEquals(4, trained.outcome().epochsRun());
        assertTrue(trained.testErrors(s) < s.test().numExamples() / 3,
                "far better than chance (5/6 errors): " + trained.testErrors(s) + " of " + s.test().numExamples());
        Store.Entry entry = ctx.store().open("teacher");
        assertTrue(entry.done());
        assertEquals(trained.model().fingerprint(), entry.info().get("sha256"));
        SortedMap<String, String> p = ctx.provenance().entries();
        assertEquals(trained.model().fingerprint(), p.get("model.teacher.sha256"));
        assertEquals(Long.toString(new Seeds(1).derive("teacher")), p.get("model.teacher.seed"));

        TinyRuns.Recorder second = new TinyRuns.Recorder();
        RunContext resumed = TinyRuns.reopened(ctx, second);
        Models.Trained loaded = Models.trainOnLabels(resumed, "teacher", mlp(4), s);
        assertEquals(List.of(), second.trained, "nothing is trained again");
        assertEquals(trained.model().fingerprint(), loaded.model().fingerprint());
        assertEquals(trained.outcome(), loaded.outcome(), "the recorded outcome, with its per-epoch history");
        assertEquals(trained.outcome().history(), second.restored, "its epochs are replayed into the run's metrics");
        assertEquals(entry.model("teacher").toString(), resumed.provenance().entries().get("model.teacher.reused"));
    }

    @Test
    void aStoredNetWhoseParametersChangedIsRefusedNamingTheFile(@TempDir Path root) {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        RunData s = TinyRuns.data(ctx, TinyRuns.DATA);
        Models.trainOnLabels(ctx, "teacher", mlp(1), s);
        Path file = ctx.modelPath("teacher");
        Classifier.create(mlp(1), 12, 6, null, 99).save(file);  // same shape, other weights
        var e = assertThrows(IllegalStateException.class,
                () -> Models.trainOnLabels(TinyRuns.reopened(ctx, new TinyRuns.Recorder()), "teacher", mlp(1), s));
        assertTrue(e.getMessage().startsWith(file + ": expected parameters with SHA-256 "), e.getMessage());
    }

    @Test
    void earlyStoppingWithoutAValidationSplitIsRefusedNamingTheKeyBeforeTraining(@TempDir Path root) {
        TinyRuns.Recorder progress = new TinyRuns.Recorder();
        RunContext ctx = TinyRuns.context(root, 1, progress);
        RunData s = TinyRuns.data(ctx, new DataConfig(0, 0, 0, "", 0));
        assertFalse(s.hasValidation());
        MlpConfig patient = new MlpConfig(List.of(16), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 1.0, 4, 32, 2, 0);
        var e = assertThrows(ConfigException.class, () -> Models.trainOnLabels(ctx, "teacher", patient, s));
        assertTrue(e.getMessage().startsWith("teacher.patience=2: early stopping needs a validation split"),
                e.getMessage());
        assertEquals(List.of(), progress.trained);
        assertFalse(ctx.store().open("teacher").done());
    }

    /** An experiment config of a data section and a conv net, as the glyph experiments have. */
    private record WithConv(DataConfig data, ConvConfig conv) {
    }

    @Test
    void aPlateauScheduleWithoutAValidationSplitIsRefusedNamingTheKey() {
        ConvConfig plateau = ConvConfig.small(3).withPlateau(new darkknowledge.generalist.Plateau(3, 0.5));
        var e = assertThrows(ConfigException.class, () -> DataConfig.requireHoldOutWhereNeeded(
                new WithConv(new DataConfig(0, 0, 0, "", 0), plateau)));
        assertTrue(e.getMessage().startsWith("conv.plateau.epochs=3: reducing the learning rate when validation stops "
                + "improving needs a validation split"), e.getMessage());
        DataConfig.requireHoldOutWhereNeeded(new WithConv(new DataConfig(0, 0, 0, "", 0), ConvConfig.small(3)));
        DataConfig.requireHoldOutWhereNeeded(new WithConv(new DataConfig(100, 0, 0, "", 0), plateau));
    }

    /** What kind of net a store entry holds: read with DL4J itself, not through our loader. */
    private static long storedParameters(Path zip) throws Exception {
        return org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), false).numParams();
    }

    @Test
    void theArchitectureDecidesTheKindOfNetTrainedAndTheSameNetIsLoadedBack(@TempDir Path root) throws Exception {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        RunData s = images(ctx);
        ConvConfig conv = new ConvConfig(8, 8, 1, List.of(4), 1, 3, 2, List.of(8), 0, 0, MlpConfig.Optimizer.ADAM,
                1e-2, 0.9, 1.0, 2, 16, 0, 0, ConvConfig.Backend.IM2COL);
        Models.Trained c = Models.trainOnLabels(ctx, "conv", conv, s);
        Models.Trained m = Models.trainOnLabels(ctx, "mlp", mlp(2), s);
        assertEquals(conv.parameterCount(3), storedParameters(ctx.modelPath("conv")));
        assertEquals(mlp(2).parameterCount(64, 3), storedParameters(ctx.modelPath("mlp")));
        assertTrue(conv.parameterCount(3) != mlp(2).parameterCount(64, 3));

        RunContext resumed = TinyRuns.reopened(ctx, new TinyRuns.Recorder());
        for (Models.Trained t : List.of(c, m)) {
            Models.Trained back = Models.trainOnLabels(resumed, t.name(), t.name().equals("conv") ? conv : mlp(2), s);
            assertTrue(resumed.provenance().entries().containsKey("model." + t.name() + ".reused"), t.name());
            assertEquals(64, back.model().numInputs());
            assertEquals(3, back.model().numClasses());
            assertArrayEquals(t.model().logits(s.testX()).toFloatMatrix(), back.model().logits(s.testX()).toFloatMatrix(),
                    t.name() + ": the loaded net computes what the trained one did");
        }
    }

    /**
     * 8×8 grey images of three classes, a bright band (rows 0–1, 3–4 or 6–7) in seeded noise: 40
     * training images a class (10 of them held out) and 10 test images.
     */
    private static RunData images(RunContext ctx) {
        return RunData.of(ctx, bands(40, 11), bands(10, 12), new DataConfig(30, 0, 0, "", 0));
    }

    private static Dataset bands(int perClass, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 3 * perClass;
        float[] x = new float[n * 64];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int p = 0; p < 64; p++) {
                int row = p / 8;
                boolean band = row == 3 * y[i] || row == 3 * y[i] + 1;
                x[i * 64 + p] = (float) ((band ? 0.8 : 0.1) + 0.1 * r.nextDouble());
            }
        }
        return new Dataset("bands", x, y, n, 64, 3, 8, 8, List.of("top", "middle", "bottom"));
    }

    @Test
    void aStudentLearnsItsTeachersSoftTargetsRecordsTheTeacherAndIsThenReused(@TempDir Path root) {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        RunData s = TinyRuns.data(ctx, TinyRuns.DATA);
        Models.Trained teacher = Models.trainOnLabels(ctx, "teacher", mlp(6), s);
        Teacher asTeacher = Models.asTeacher(teacher);
        assertEquals("teacher:" + teacher.model().fingerprint().substring(0, 16), asTeacher.id());
        int[] transfer = IntStream.range(0, s.train().numExamples()).toArray();
        DistillConfig soft = new DistillConfig(4, 0.1, DistillConfig.Objective.SOFT_TARGETS);
        Models.Trained student = Models.distill(ctx, "student", mlp(6).withHidden(List.of(8)), soft, asTeacher, s,
                transfer, true);

        SortedMap<String, String> p = ctx.provenance().entries();
        assertEquals(asTeacher.id(), p.get("model.student.teacher"));
        assertEquals("cached on the transfer set", p.get("model.student.teacher_targets"));
        assertTrue(ctx.store().open("student").done());
        int[] byTeacher = teacher.model().predict(s.testX());
        int[] byStudent = student.model().predict(s.testX());
        long agree = IntStream.range(0, byTeacher.length).filter(i -> byTeacher[i] == byStudent[i]).count();
        assertTrue(agree >= 0.75 * byTeacher.length, "the student agrees with its teacher on " + agree + " of "
                + byTeacher.length + " test examples");

        TinyRuns.Recorder again = new TinyRuns.Recorder();
        Models.Trained reused = Models.distill(TinyRuns.reopened(ctx, again), "student", mlp(6).withHidden(List.of(8)),
                soft, asTeacher, s, transfer, true);
        assertEquals(List.of(), again.trained, "the student is loaded, not distilled again");
        assertEquals(student.model().fingerprint(), reused.model().fingerprint());
    }

    @Test
    void aTeacherCheckpointMustExistAndFitTheData(@TempDir Path root) {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        RunData s = TinyRuns.data(ctx, TinyRuns.DATA);
        Path missing = root.resolve("elsewhere/teacher.zip");
        var none = assertThrows(ConfigException.class, () -> Models.teacher(ctx, missing.toString(), mlp(1), s));
        assertEquals("inputs.teacher: checkpoint not found: " + missing.toAbsolutePath(), none.getMessage());

        Path narrow = root.resolve("narrow/teacher.zip");
        Classifier.create(mlp(1), 5, 2, null, 3).save(narrow);
        var shape = assertThrows(ConfigException.class, () -> Models.teacher(ctx, narrow.toString(), mlp(1), s));
        assertTrue(shape.getMessage().endsWith("maps 5 inputs to 2 classes; this data has 12 and 6"), shape.getMessage());
    }

    @Test
    void aTeacherCheckpointIsLoadedAndItsSplitCheckedAgainstItsRunRecord(@TempDir Path root) {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        RunData s = TinyRuns.data(ctx, TinyRuns.DATA);
        Classifier net = Classifier.create(mlp(1), 12, 6, null, 3);

        // Without a run record beside it the split cannot be checked, and the provenance says so.
        Path alone = root.resolve("alone/teacher.zip");
        net.save(alone);
        Models.Trained t = Models.teacher(ctx, alone.toString(), mlp(1), s);
        SortedMap<String, String> p = ctx.provenance().entries();
        assertEquals("unchecked (no run record beside the checkpoint)", p.get("model.teacher.split"));
        assertEquals(net.fingerprint(), p.get("model.teacher.sha256"));
        assertEquals(alone.toAbsolutePath().toString(), p.get("model.teacher.checkpoint"));
        assertEquals(net.errors(s.validationX(), s.validation().labels()), t.outcome().bestValidationErrors());
        assertEquals(0, t.outcome().epochsRun(), "loaded, not trained");

        // Beside the run record of a run with this split: checked.
        String split = p.get(RunData.TRAIN_INDICES_KEY);
        Path same = teacherBeside(root.resolve("same"), net, Map.of(RunData.TRAIN_INDICES_KEY, split));
        Models.teacher(ctx, same.toString(), mlp(1), s);
        assertEquals("same as this run's", ctx.provenance().entries().get("model.teacher.split"));

        // Another split, or other data files: refused, naming what differs.
        Path other = teacherBeside(root.resolve("other"), net, Map.of(RunData.TRAIN_INDICES_KEY, "0123"));
        var e = assertThrows(ConfigException.class, () -> Models.teacher(ctx, other.toString(), mlp(1), s));
        assertTrue(e.getMessage().contains("another training split (" + RunData.TRAIN_INDICES_KEY + " 0123"),
                e.getMessage());
        Path data = teacherBeside(root.resolve("data"), net, Map.of("data.mnist.train", "abc"));
        var d = assertThrows(ConfigException.class, () -> Models.teacher(ctx, data.toString(), mlp(1), s));
        assertTrue(d.getMessage().contains("was trained on other data ([data.mnist.train]"), d.getMessage());
    }

    private static Path teacherBeside(Path dir, Classifier net, Map<String, String> provenance) {
        Path zip = dir.resolve("teacher.zip");
        net.save(zip);
        darkknowledge.core.AtomicFiles.writeString(dir.resolve(RunRecord.PROVENANCE),
                Configs.toText(new TreeMap<>(provenance)));
        return zip;
    }

    @Test
    void theReportGivesATrainedNetsFiguresAndMarksALoadedOne() {
        Classifier net = Classifier.create(mlp(1), 12, 6, null, 3);
        Trainer.Outcome o = new Trainer.Outcome(2, 17, 4, 10.0, List.of());
        SortedMap<String, String> result = new TreeMap<>();
        Models.report(result, new Models.Trained("student", net, o));
        assertEquals(Map.of("student.epochs", "4", "student.best_epoch", "3", "student.validation_errors", "17",
                "student.train_seconds", "10.00", "student.seconds_per_epoch", "2.50"), result);

        SortedMap<String, String> loaded = new TreeMap<>();
        Models.report(loaded, new Models.Trained("teacher", net, new Trainer.Outcome(-1, -1, 0, 0, List.of())));
        assertEquals(Map.of("teacher.validation_errors", "none (no hold-out)", "teacher.reused", "true"), loaded);
    }

    @Test
    void aStoreRecordOfAnOutcomeReadsBackAsTheSameOutcome() {
        List<Trainer.EpochReport> history = List.of(
                new Trainer.EpochReport("net", 0, 2, 0.75, 12, 60, 1e-2, 0.125, 1920.0, 0.125),
                new Trainer.EpochReport("net", 1, 2, 0.5, 9, 60, 1e-2, 0.1, 2400.0, 0.0));
        Trainer.Outcome o = new Trainer.Outcome(1, 9, 2, 0.225, history);
        SortedMap<String, String> r = Models.record(o);
        assertEquals("1", r.get("best_epoch"));
        assertEquals("2", r.get("epochs_run"));
        assertEquals(o, Models.outcome(r));
    }

    @Test
    void aNetsSeedIsDerivedFromTheRunSeedAndItsName(@TempDir Path root) {
        RunContext a = TinyRuns.context(root.resolve("a"), 1, new TinyRuns.Recorder());
        RunContext b = TinyRuns.context(root.resolve("b"), 2, new TinyRuns.Recorder());
        RunData s = TinyRuns.data(a, TinyRuns.DATA);
        Models.Trained ta = Models.trainOnLabels(a, "teacher", mlp(1), s);
        Models.Trained tb = Models.trainOnLabels(b, "teacher", mlp(1), s);
        Models.Trained other = Models.trainOnLabels(a, "baseline", mlp(1), s);
        assertEquals(Long.toString(new Seeds(1).derive("teacher")), a.provenance().entries().get("model.teacher.seed"));
        assertEquals(Long.toString(new Seeds(2).derive("teacher")), b.provenance().entries().get("model.teacher.seed"));
        assertEquals(Long.toString(new Seeds(1).derive("baseline")), a.provenance().entries().get("model.baseline.seed"));
        assertFalse(ta.model().fingerprint().equals(tb.model().fingerprint()), "another run seed, another net");
        assertFalse(ta.model().fingerprint().equals(other.model().fingerprint()), "another name, another net");
    }
}
