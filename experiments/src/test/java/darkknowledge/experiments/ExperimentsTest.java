package darkknowledge.experiments;

import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.Store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Every experiment's tiny twin runs end to end and leaves a complete run record. */
class ExperimentsTest {

    static Stream<String> experiments() {
        return Experiments.all().stream().map(Experiment::name);
    }

    @ParameterizedTest
    @MethodSource("experiments")
    void tinyTwinRunsEndToEndAndWritesACompleteRunRecord(String name, @TempDir Path root) throws Exception {
        Experiment<?> e = Experiments.byName(name).orElseThrow();
        Runner.Outcome o = runTiny(e, root.resolve("runs"));
        for (String f : List.of(RunRecord.CONFIG, RunRecord.PROVENANCE, RunRecord.METRICS, RunRecord.RESULT)) {
            assertTrue(Files.isRegularFile(o.dir().resolve(f)), f + " in " + o.dir());
        }
        var config = RunRecord.readProperties(o.dir().resolve(RunRecord.CONFIG));
        assertEquals("tiny", config.get("run.scale"));
        var provenance = RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(provenance.keySet().stream().anyMatch(k -> k.startsWith("data.")), "dataset checksums recorded");
        assertTrue(provenance.containsKey("time.end") && provenance.containsKey("split.train_indices_sha256"));
        for (String lib : List.of("lib.smile-core", "lib.deeplearning4j-nn", "lib.commons-math3")) {
            assertTrue(provenance.getOrDefault(lib, "absent").matches("\\d.*"), lib + " = " + provenance.get(lib));
        }
        // Glyph runs report on two test sets (the seen typefaces under "seen."); other datasets have one.
        boolean glyphs = name.equals("specialists-glyphs") || "glyphs".equals(config.get("dataset"));
        for (ResultTables.Metric m : e.table().metrics()) {
            if (!glyphs && m.key().startsWith(RunData.SEEN_PREFIX)) {
                continue;
            }
            assertTrue(o.result().containsKey(m.key()), name + " result lacks " + m.key() + ": " + o.result().keySet());
        }
        assertEquals(glyphs, o.result().keySet().stream().anyMatch(k -> k.startsWith(RunData.SEEN_PREFIX)),
                "seen-typeface figures exactly for glyph runs: " + o.result().keySet());
        ResultTables.Generated g = ResultTables.generate(root.resolve("runs"), root.resolve("results"), e.table(), "./dk tables");
        assertEquals(1, g.runs());
        assertTrue(g.markdown().matches("(?s).*ours: (dataset=\\w+, )?tiny.*"), g.markdown());
        e.figures(root.resolve("runs").resolve(name), root.resolve("results"));
        if (e instanceof EnsembleDistillation) {
            Path png = root.resolve("results").resolve(name + "-student-curves.png");
            var image = javax.imageio.ImageIO.read(png.toFile());
            assertEquals(1000, image.getWidth(), png.toString());
            Plots.Curve c = EnsembleDistillation.curve(new FinishedRuns.Run(o.dir(), config, o.result()));
            int epochs = Integer.parseInt(config.get("student.epochs"));
            assertEquals(epochs, c.epochs().length, "one point per student epoch");
            assertEquals(o.result().get("student.validation_errors"),
                    Integer.toString(java.util.Arrays.stream(c.validationErrors()).min().orElseThrow()),
                    "the student kept is its best validation epoch's");
            assertEquals(Integer.parseInt(o.result().get("ensemble.validation_errors")), c.ensembleValidationErrors());
            double members = o.result().entrySet().stream().filter(m -> m.getKey().matches("member\\d+\\.validation_errors"))
                    .mapToInt(m -> Integer.parseInt(m.getValue())).average().orElseThrow();
            assertEquals(members, c.membersValidationErrors(), 1e-9);
            assertTrue(c.label().contains("seed 1"), c.label());
        }
    }

    @Test
    void theCurveFigureShowsTheLargestScaleAndEnsembleOrderedByAverageThenSeed(@TempDir Path runs) {
        Object[][] made = {{"a", "full", 10, "logits", 1}, {"b", "full", 10, "probabilities", 2},
            {"c", "full", 10, "probabilities", 1}, {"d", "full", 5, "probabilities", 1}, {"e", "small", 10, "logits", 1},
            {"f", "full", 10, "probabilities", 3, "unfinished"}};
        for (Object[] r : made) {
            Path d = runs.resolve((String) r[0]);
            darkknowledge.core.AtomicFiles.writeString(d.resolve(RunRecord.CONFIG), "run.scale=" + r[1]
                    + "\nensemble.members=" + r[2] + "\nensemble.average=" + r[3] + "\nrun.seed=" + r[4] + "\n");
            if (r.length == 5) {
                darkknowledge.core.AtomicFiles.writeString(d.resolve(RunRecord.RESULT), "student.test_errors=1\n");
            }
        }
        var defaults = darkknowledge.core.Configs.write("", new EnsembleDistillation().defaults());
        assertEquals(List.of("a", "c", "b"), EnsembleDistillation.curveRuns(runs, defaults).stream()
                .map(FinishedRuns.Run::id).toList());
        // A newer run at another temperature takes the figure to its own settings, not mixed with these.
        darkknowledge.core.AtomicFiles.writeString(runs.resolve("g").resolve(RunRecord.CONFIG),
                "run.scale=full\nensemble.members=10\ndistill.temperature=8\n");
        darkknowledge.core.AtomicFiles.writeString(runs.resolve("g").resolve(RunRecord.RESULT),
                "member0.validation_errors=none (no hold-out)\nmember1.validation_errors=70\n");
        var newest = EnsembleDistillation.curveRuns(runs, defaults);
        assertEquals(List.of("g"), newest.stream().map(FinishedRuns.Run::id).toList());
        Plots.Curve c = EnsembleDistillation.curve(newest.getFirst());
        assertEquals(70.0, c.membersValidationErrors(), "only members recorded as numbers count");
        assertTrue(Double.isNaN(c.ensembleValidationErrors()) && c.epochs().length == 0 && c.label().contains("seed 1"));
    }

    private static <C extends Record> Runner.Outcome runTiny(Experiment<C> e, Path runs) {
        C cfg = Runner.resolve(e, Scale.TINY, null, List.of());
        return Runner.run(e, cfg, runs, new DataStore(DataStore.defaultCacheDir()), false);
    }

    @Test
    void theOmittedDigitFigureTakesTheNewestRunOfEachSingleDigit(@TempDir Path root) throws Exception {
        Path runs = root.resolve("runs");
        String[][] made = {{"0-fashion", "7", "50", "fashion-mnist"}, {"1-old", "5", "90", "mnist"},
            {"2-new", "5", "91", "mnist"}, {"3", "2", "80", "mnist"}, {"4", "3,5", "70", "mnist"}};
        for (String[] r : made) {
            darkknowledge.core.AtomicFiles.writeString(runs.resolve(r[0]).resolve(RunRecord.CONFIG),
                    "run.scale=full\nomitted.classes=" + r[1] + "\ndata.source=" + r[3] + "\n");
            darkknowledge.core.AtomicFiles.writeString(runs.resolve(r[0]).resolve(RunRecord.RESULT),
                    "omitted.class_accuracy_pct=" + r[2] + "\nomitted.shifted.class_accuracy_pct=99\nomitted.shift=2.5\n");
        }
        var e = new MnistOmittedClass();
        var byDigit = MnistOmittedClass.perDigit(runs, darkknowledge.core.Configs.write("", e.defaults()));
        assertEquals(List.of(2, 5), List.copyOf(byDigit.keySet()), "one digit each, not the Fashion-MNIST run's 7");
        assertEquals("2-new", byDigit.get(5).id());
        assertEquals(91.0, byDigit.get(5).number("omitted.class_accuracy_pct"));
        Path png = root.resolve("results/mnist-omitted-class-digits.png");
        e.figures(runs, root.resolve("results"));
        assertEquals(900, javax.imageio.ImageIO.read(png.toFile()).getWidth());
        // With one digit left there is nothing to compare: the figure goes, it is not left stale.
        for (String gone : List.of("1-old", "2-new")) {
            darkknowledge.core.AtomicFiles.writeString(runs.resolve(gone).resolve(RunRecord.RESULT), "omitted.shift=none\n");
        }
        e.figures(runs, root.resolve("results"));
        assertTrue(!Files.exists(png));
    }

    @Test
    void aResumeWhoseTeacherCheckpointIsGoneIsRefusedBeforeTheRunRecordIsTouched(@TempDir Path root) throws Exception {
        var e = new MnistOmittedClass();
        Path teacher = root.resolve("teacher.zip");
        Files.writeString(teacher, "stand-in: only its existence is checked when the config resolves");
        var resolved = darkknowledge.core.Configs.write("", Runner.resolve(e, Scale.TINY, null,
                List.of("inputs.teacher=" + teacher)));
        RunRecord record = RunRecord.create(root.resolve("runs"), e.name(), resolved);
        Files.delete(teacher);
        String config = Files.readString(record.dir().resolve(RunRecord.CONFIG));
        var ex = assertThrows(ConfigException.class, () -> Runner.resume(record.dir(),
                new DataStore(DataStore.defaultCacheDir()), false, List.of()));
        assertTrue(ex.getMessage().contains("inputs.teacher: checkpoint not found: " + teacher), ex.getMessage());
        assertEquals(config, Files.readString(record.dir().resolve(RunRecord.CONFIG)), "config untouched");
        assertTrue(!Files.exists(record.dir().resolve(RunRecord.PROVENANCE)), "no provenance of a resume that never ran");
    }

    @Test
    void aMissingTeacherCheckpointIsRefusedBeforeARunDirectoryIsMade(@TempDir Path root) {
        Path missing = root.resolve("runs/mnist-distillation/gone/teacher.zip");
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(new MnistOmittedClass(), Scale.TINY, null,
                List.of("inputs.teacher=" + missing)));
        assertTrue(ex.getMessage().contains("inputs.teacher: checkpoint not found: " + missing), ex.getMessage());
        assertTrue(!Files.exists(root.resolve("runs")), "nothing written");
    }

    @Test
    void unknownKeyStopsBeforeAnythingRunsNamingTheKey() {
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(new MnistDistillation(), Scale.TINY, null,
                List.of("distill.temperatur=3")));
        assertTrue(ex.getMessage().contains("'distill.temperatur'") && ex.getMessage().contains("distill.temperature"));
    }

    @Test
    void precedenceIsPresetThenFileThenSet(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.properties");
        Files.writeString(file, "teacher.epochs=7\nstudent.epochs=9\n");
        MnistDistillation.Config c = Runner.resolve(new MnistDistillation(), Scale.TINY, file, List.of("student.epochs=11"));
        assertEquals(7, c.teacher().epochs());
        assertEquals(11, c.student().epochs());
        assertEquals(List.of(64, 64), c.teacher().hidden());
        assertEquals(Scale.TINY, c.run().scale());
    }

    /** configs/&lt;experiment&gt;-&lt;variant&gt;.properties, the variants the README tells users to run. */
    static Stream<Path> committedConfigs() throws Exception {
        Path dir = Path.of("").toAbsolutePath().getParent().resolve("configs");
        if (!Files.isDirectory(dir)) {
            return Stream.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".properties")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("committedConfigs")
    void everyCommittedConfigFileResolvesForItsExperiment(Path file) {
        String name = file.getFileName().toString();
        Experiment<?> e = Experiments.all().stream()
                .filter(x -> name.startsWith(x.name() + "-") || name.equals(x.name() + ".properties"))
                .max(java.util.Comparator.comparingInt(x -> x.name().length()))
                .orElseThrow(() -> new AssertionError(name + " names no experiment"));
        var resolved = darkknowledge.core.Configs.write("", Runner.resolve(e, null, file, List.of()));
        darkknowledge.core.Settings.readFile(file).forEach((k, v) -> assertEquals(v, resolved.get(k), name + ": " + k));
    }

    @Test
    void commandLineReportsBadValuesWithExitCodeTwo() {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("run", "mnist-distillation", "--set", "distill.temperature=-1", "--print-config");
        assertEquals(2, code);
        assertTrue(err.toString().contains("distill.temperature (from --set distill.temperature=-1)"), err.toString());
    }

    @Test
    void aJitteredStudentIsTaughtOnlineAndThePipelineRefusesOne(@TempDir Path root) {
        var e = new MnistDistillation();
        var store = new DataStore(DataStore.defaultCacheDir());
        for (String jitter : List.of("0", "1")) {
            var cfg = Runner.resolve(e, Scale.TINY, null, List.of("student.jitter=" + jitter));
            Runner.Outcome o = Runner.run(e, cfg, root.resolve("runs-" + jitter), store, false);
            var provenance = RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
            assertEquals(jitter.equals("0") ? "cached on the transfer set" : "online on each jittered minibatch",
                    provenance.get("model.student.teacher_targets"));
        }

        var p = new Pipeline();
        var pc = Runner.resolve(p, Scale.TINY, null, List.of("student.jitter=1"));
        var ex = assertThrows(ConfigException.class, () -> Runner.run(p, pc, root.resolve("runs-pipeline"), store,
                false));
        assertTrue(ex.getMessage().contains("student.jitter"), ex.getMessage());
    }

    @Test
    void aReusedTeacherMustHaveBeenTrainedOnThisRunsSplit(@TempDir Path root) {
        var store = new DataStore(DataStore.defaultCacheDir());
        var d = new MnistDistillation();
        Path teacher = Runner.run(d, Runner.resolve(d, Scale.TINY, null, List.of()), root.resolve("a"), store, false)
                .dir().resolve("teacher.zip");
        var e = new MnistOmittedClass();
        var other = Runner.resolve(e, Scale.TINY, null, List.of("inputs.teacher=" + teacher, "data.validationSize=400"));
        var ex = assertThrows(ConfigException.class, () -> Runner.run(e, other, root.resolve("b"), store, false));
        assertTrue(ex.getMessage().contains("another training split"), ex.getMessage());
        // Another run.seed shares the split (RunData.SPLIT_MASTER_SEED), so it may reuse the teacher.
        var same = Runner.resolve(e, Scale.TINY, null, List.of("inputs.teacher=" + teacher, "run.seed=2"));
        Runner.Outcome o = Runner.run(e, same, root.resolve("c"), store, false);
        assertEquals("same as this run's", RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE))
                .get("model.teacher.split"));
    }

    @Test
    void aReusedTeacherMustHaveBeenTrainedOnThisRunsData(@TempDir Path root) throws Exception {
        var store = new DataStore(DataStore.defaultCacheDir());
        var d = new MnistDistillation();
        Path dir = Runner.run(d, Runner.resolve(d, Scale.TINY, null, List.of()), root.resolve("a"), store, false).dir();
        // As if the teacher had read other files of the same shape (Fashion-MNIST for MNIST).
        Path prov = dir.resolve(RunRecord.PROVENANCE);
        Files.writeString(prov, Files.readString(prov).replace("data.mnist.", "data.fashion-mnist."));
        var cfg = Runner.resolve(d, Scale.TINY, null, List.of("inputs.teacher=" + dir.resolve("teacher.zip")));
        var ex = assertThrows(ConfigException.class, () -> Runner.run(d, cfg, root.resolve("b"), store, false));
        assertTrue(ex.getMessage().contains("other data") && ex.getMessage().contains("data.fashion-mnist."),
                ex.getMessage());
    }
}
