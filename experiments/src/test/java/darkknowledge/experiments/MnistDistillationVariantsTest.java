package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.Settings;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.DataConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The committed MNIST-distillation configs (configs/mnist-distillation-*.properties) run as tiny
 * twins, and the pieces issue 16 added behave: no hold-out, transfer halves, a teacher reused across
 * halves.
 */
class MnistDistillationVariantsTest {
    private static final MnistDistillation E = new MnistDistillation();
    private static final DataStore STORE = new DataStore(DataStore.defaultCacheDir());

    static Stream<Path> configs() throws Exception {
        return ExperimentsTest.committedConfigs()
                .filter(f -> f.getFileName().toString().startsWith(E.name() + "-"));
    }

    /** A size key of the tiny preset: it shrinks the run and wins over the file; every other key is the file's. */
    private static boolean sizeKey(String key) {
        return key.endsWith(".epochs") || key.endsWith(".hidden") || key.equals("data.trainLimit")
                || key.equals("data.testLimit");
    }

    /** The tiny twin of a config file: the file, with the tiny preset's sizes. */
    static MnistDistillation.Config tinyTwin(Path file, String... more) {
        List<String> sets = new ArrayList<>();
        Map<String, String> fileKeys = Settings.readFile(file);
        E.preset(Scale.TINY).forEach((k, v) -> {
            if (sizeKey(k) || !fileKeys.containsKey(k)) {
                sets.add(k + "=" + v);
            }
        });
        sets.addAll(List.of(more));
        return Runner.resolve(E, Scale.TINY, file, sets);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void everyCommittedConfigRunsAsATinyTwinKeepingWhatItTests(Path file, @TempDir Path root) {
        Runner.Outcome o = Runner.run(E, tinyTwin(file), root.resolve("runs"), STORE, false);
        var config = RunRecord.readProperties(o.dir().resolve(RunRecord.CONFIG));
        Settings.readFile(file).forEach((k, v) -> {
            if (!sizeKey(k) && !k.equals("run.scale")) {
                assertEquals(v, config.get(k), file.getFileName() + ": " + k);
            }
        });
        for (ResultTables.Metric m : E.table().metrics()) {
            assertTrue(o.result().containsKey(m.key()), file.getFileName() + " lacks " + m.key());
        }
        boolean noHoldOut = "0".equals(config.get("data.validationSize"));
        assertEquals(noHoldOut ? DataConfig.NO_HOLD_OUT : "best validation epoch of 500 held out",
                o.result().get("model_selection"));
    }

    @Test
    void withoutAHoldOutEveryNetIsItsLastEpochAndNoValidationFigureIsInvented(@TempDir Path root) throws Exception {
        var cfg = Runner.resolve(E, Scale.TINY, null, List.of("data.validationSize=0", "baseline.patience=0",
                "student.epochs=3"));
        Runner.Outcome o = Runner.run(E, cfg, root, STORE, false);
        var r = o.result();
        assertEquals(DataConfig.NO_HOLD_OUT, r.get("model_selection"));
        for (String net : List.of("teacher", "baseline", "student")) {
            assertEquals("none (no hold-out)", r.get(net + ".validation_errors"), net);
            assertEquals(r.get(net + ".epochs"), r.get(net + ".best_epoch"), net + ": the last epoch");
        }
        assertEquals("2000", RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE)).get("split.train_examples"));
        List<String> metrics = Files.readAllLines(o.dir().resolve(RunRecord.METRICS));
        assertTrue(metrics.stream().noneMatch(l -> l.contains("NaN")), "no NaN in metrics.csv");
        assertTrue(metrics.get(1).matches("teacher,1,[^,]+,,0,,.*"), metrics.get(1));
        // The markdown table says so in the column of this run.
        var g = ResultTables.generate(root, root.resolve("results"), E.table(), "./dk tables");
        assertTrue(g.markdown().contains("| how each net is chosen | all 60,000 trained on | " + DataConfig.NO_HOLD_OUT
                + " |"), g.markdown());
        assertTrue(!g.markdown().contains("NaN"), g.markdown());
    }

    @Test
    void earlyStoppingWithoutAHoldOutIsRefusedBeforeAnythingTrainsNamingTheKey() {
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(E, Scale.TINY, null,
                List.of("data.validationSize=0")));
        assertTrue(ex.getMessage().startsWith("baseline.patience=10:") && ex.getMessage().contains("data.validationSize"),
                ex.getMessage());
        var student = assertThrows(ConfigException.class, () -> Runner.resolve(E, Scale.TINY, null,
                List.of("data.validationSize=0", "baseline.patience=0", "student.patience=3")));
        assertTrue(student.getMessage().startsWith("student.patience=3:"), student.getMessage());
        var negative = assertThrows(ConfigException.class, () -> Runner.resolve(E, Scale.TINY, null,
                List.of("data.validationSize=-1")));
        assertTrue(negative.getMessage().startsWith("data.validationSize"), negative.getMessage());
    }

    @Test
    void anExperimentThatNeedsAValidationSplitRefusesNoneNamingTheKey(@TempDir Path root) {
        // The omitted-digit experiment picks its bias shift on held-out images.
        var e = new MnistOmittedClass();
        // refused when the config is resolved, before anything trains
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(e, Scale.TINY, null, List.of("data.validationSize=0")));
        assertTrue(ex.getMessage().contains("data.validationSize"), ex.getMessage());
        assertTrue(!java.nio.file.Files.exists(root.resolve(e.name())), "no run directory was made");
    }

    @Test
    void theHalvesShareOneTeacherAndATeacherOfOtherRowsIsRefused(@TempDir Path root) throws Exception {
        Path configs = ExperimentsTest.committedConfigs().findFirst().orElseThrow().getParent();
        Runner.Outcome same = Runner.run(E, tinyTwin(configs.resolve("mnist-distillation-transfer-same-half.properties")),
                root.resolve("same"), STORE, false);
        assertEquals("same half: 1000 images, the teacher's", same.result().get("transfer_set"));
        Path teacher = same.dir().resolve("teacher.zip");
        Runner.Outcome other = Runner.run(E, tinyTwin(configs.resolve("mnist-distillation-transfer-other-half.properties"),
                "inputs.teacher=" + teacher), root.resolve("other"), STORE, false);
        assertEquals("other half: 1000 images the teacher never saw", other.result().get("transfer_set"));
        var p1 = RunRecord.readProperties(same.dir().resolve(RunRecord.PROVENANCE));
        var p2 = RunRecord.readProperties(other.dir().resolve(RunRecord.PROVENANCE));
        assertEquals(p1.get("split.teacher_rows_sha256"), p2.get("split.teacher_rows_sha256"));
        assertTrue(!p1.get("split.student_rows_sha256").equals(p2.get("split.student_rows_sha256")),
                "the other half is other images");
        assertEquals(p1.get("model.teacher.sha256"), p2.get("model.teacher.sha256"), "the same teacher");

        // A teacher trained on all the images has seen the half it would label as unseen.
        Runner.Outcome all = Runner.run(E, Runner.resolve(E, Scale.TINY, null, List.of("data.validationSize=0",
                "baseline.patience=0")), root.resolve("all"), STORE, false);
        var cfg = tinyTwin(configs.resolve("mnist-distillation-transfer-other-half.properties"),
                "inputs.teacher=" + all.dir().resolve("teacher.zip"));
        var ex = assertThrows(ConfigException.class, () -> Runner.run(E, cfg, root.resolve("refused"), STORE, false));
        assertTrue(ex.getMessage().contains("split.teacher_rows_sha256"), ex.getMessage());
    }
}
