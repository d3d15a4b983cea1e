package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.RunRecord;
import darkknowledge.pipeline.SpecialistDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The specialists' ablation table: one row per non-tiny run with validation figures, never a test figure. */
class SpecialistsAblationTest {

    private static void run(Path dir, Map<String, String> config, Map<String, String> result) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(RunRecord.CONFIG), darkknowledge.core.Configs.toText(new TreeMap<>(config)));
        Files.writeString(dir.resolve(RunRecord.RESULT), darkknowledge.core.Configs.toText(new TreeMap<>(result)));
    }

    @Test
    void eachNonTinyRunWithValidationFiguresIsOneRowOfItsLeversAndValidationAccuracies(@TempDir Path root)
            throws Exception {
        Path runs = root.resolve("runs").resolve("specialists-glyphs");
        Map<String, String> val = Map.of("ensemble.validation_accuracy", "93.10", "ensemble.none.validation_accuracy",
                "93.10", "ensemble.fitted.validation_accuracy", "92.95", "specialists.correction.chosen", "none",
                "generalist.validation_accuracy", "92.40", "control.validation_accuracy", "92.60",
                "unspecialised.validation_accuracy", "92.80", "cover2plus.validation_share", "31.5",
                "ensemble.test_accuracy", "77.77");
        run(runs.resolve("20261206-000001-aaaaaaaa"), Map.of("run.scale", "small", "specialists.head", "full",
                "specialists.softTemperature", "2.0", "specialists.hardWeight", "1.0", "architecture.generalist", "conv",
                "conv.epochs", "16"), val);
        run(runs.resolve("20261206-000002-bbbbbbbb"), Map.of("run.scale", "tiny"), val);
        run(runs.resolve("20261206-000003-cccccccc"), Map.of("run.scale", "small"), Map.of("ensemble.test_accuracy", "1"));
        Path results = root.resolve("results");
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        String md = Files.readString(results.resolve("specialists-glyphs-ablation.md"));
        List<String> rows = md.lines().filter(l -> l.startsWith("| `")).toList();
        assertEquals(1, rows.size(), md);
        String row = rows.get(0);
        for (String cell : List.of("20261206-000001-aaaaaaaa", "full (2.0, 1.0)", "| 16 |", "31.5", "92.40", "93.10",
                "92.95", "| none |", "92.60", "92.80")) {
            assertTrue(row.contains(cell), cell + " in " + row);
        }
        assertFalse(md.contains("77.77"), "no test figure in the validation ablation");
        // No qualifying run any more: the stale table goes.
        Files.delete(runs.resolve("20261206-000001-aaaaaaaa").resolve(RunRecord.RESULT));
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        assertFalse(Files.exists(results.resolve("specialists-glyphs-ablation.md")));
    }
}
