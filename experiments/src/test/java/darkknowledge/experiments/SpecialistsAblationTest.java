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
        Map<String, String> val = new TreeMap<>(Map.of("ensemble.validation_accuracy", "93.10",
                "ensemble.none.validation_accuracy", "93.10", "ensemble.fitted.validation_accuracy", "92.95",
                "specialists.correction.chosen", "none", "generalist.validation_accuracy", "92.40",
                "control.validation_accuracy", "92.60", "unspecialised.validation_accuracy", "92.80",
                "cover2plus.validation_share", "31.5", "ensemble.test_accuracy", "77.77"));
        val.putAll(Map.of("generalist.epochs", "16", "generalist.best_epoch", "13"));
        run(runs.resolve("20261206-000001-aaaaaaaa"), Map.ofEntries(Map.entry("run.scale", "small"),
                Map.entry("specialists.head", "full"), Map.entry("specialists.softTemperature", "2.0"),
                Map.entry("specialists.hardWeight", "1.0"), Map.entry("architecture.generalist", "conv"),
                Map.entry("conv.epochs", "16"), Map.entry("conv.learningRateDecay", "0.85"), Map.entry("conv.patience", "0"),
                Map.entry("conv.channels", "4,8"), Map.entry("conv.dense", "64"), Map.entry("specialists.epochs", "10"),
                Map.entry("specialists.patience", "0"), Map.entry("specialists.learningRateDecay", "0.9"),
                Map.entry("ensemble.clusterOn", "train"), Map.entry("ensemble.topN", "2")), val);
        run(runs.resolve("20261206-000002-bbbbbbbb"), Map.of("run.scale", "tiny"), val);
        run(runs.resolve("20261206-000003-cccccccc"), Map.of("run.scale", "small"), Map.of("ensemble.test_accuracy", "1"));
        // The convergence lever: fresh images, a longer schedule with early stopping, and a control that
        // still gains a point or more on validation (the generalist not converged).
        Map<String, String> unconverged = new TreeMap<>(val);
        unconverged.putAll(Map.of("control.validation_accuracy", "93.65", "generalist.epochs", "21",
                "generalist.best_epoch", "17"));
        run(runs.resolve("20261206-000004-dddddddd"), Map.of("run.scale", "small", "specialists.head", "dustbin",
                "architecture.generalist", "conv", "conv.epochs", "40", "conv.learningRateDecay", "0.9",
                "conv.patience", "4", "glyphs.freshEachEpoch", "true"), unconverged);
        Path results = root.resolve("results");
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        String md = Files.readString(results.resolve("specialists-glyphs-ablation.md"));
        List<String> rows = md.lines().filter(l -> l.startsWith("| `")).toList();
        assertEquals(2, rows.size(), md);
        String row = rows.get(0);
        for (String cell : List.of("20261206-000001-aaaaaaaa", "| no |", "| 4,8 / 64 |", "| 16, 0.85, 0 → 16 / 13 |", "| train |", "| 10, 0.9, 0 |",
                "full (2.0, 1.0) | 2 |",
                "31.5", "92.40", "93.10", "92.95", "| none |", "92.60", "92.80", "| +0.20 (met) |")) {
            assertTrue(row.contains(cell), cell + " in " + row);
        }
        String fresh = rows.get(1);
        for (String cell : List.of("20261206-000004-dddddddd", "| yes |", "| 40, 0.9, 4 → 21 / 17 |", "| dustbin |",
                "| 93.65 |", "| +1.25 (missed) |")) {
            assertTrue(fresh.contains(cell), cell + " in " + fresh);
        }
        long headerCells = md.lines().filter(l -> l.startsWith("| run |")).findFirst().orElseThrow().chars()
                .filter(c -> c == '|').count();
        assertEquals(headerCells, row.chars().filter(c -> c == '|').count(), "one cell per column:\n" + md);
        assertFalse(md.contains("77.77"), "no test figure in the validation ablation");
        // No qualifying run any more: the stale table goes.
        Files.delete(runs.resolve("20261206-000001-aaaaaaaa").resolve(RunRecord.RESULT));
        Files.delete(runs.resolve("20261206-000004-dddddddd").resolve(RunRecord.RESULT));
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        assertFalse(Files.exists(results.resolve("specialists-glyphs-ablation.md")));
    }

    @Test
    void theFullRunsTableGivesEachSetsMarginOverTheBetterControlAndTable4(@TempDir Path root) throws Exception {
        Path runs = root.resolve("runs").resolve("specialists-glyphs");
        Map<String, String> result = new TreeMap<>(Map.of("ensemble.validation_accuracy", "85.31",
                "generalist.validation_accuracy", "84.73", "control.validation_accuracy", "84.91",
                "unspecialised.validation_accuracy", "84.86", "seen.ensemble.test_accuracy", "87.87",
                "seen.generalist.test_accuracy", "87.69", "seen.control.test_accuracy", "87.89",
                "seen.unspecialised.test_accuracy", "87.81", "seen.ensemble.margin_over_controls", "-0.01"));
        result.putAll(Map.of("ensemble.test_accuracy", "79.52", "generalist.test_accuracy", "79.37",
                "control.test_accuracy", "79.67", "unspecialised.test_accuracy", "79.52",
                "seen.cover1.relative_change_pct", "-0.02", "seen.cover2.relative_change_pct", "0.27",
                "seen.cover3.relative_change_pct", "0.61", "seen.cover4.relative_change_pct", "0.74"));
        run(runs.resolve("20261207-000001-aaaaaaaa"), Map.of("run.scale", "full", "run.seed", "2",
                "architecture.generalist", "conv", "conv.channels", "4,8", "conv.dense", "64"), result);
        run(runs.resolve("20261207-000002-bbbbbbbb"), Map.of("run.scale", "small"), result);
        Path results = root.resolve("results");
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        String md = Files.readString(results.resolve("specialists-glyphs-runs.md"));
        List<String> rows = md.lines().filter(l -> l.startsWith("| `")).toList();
        assertEquals(3, rows.size(), md);
        assertTrue(rows.get(0).contains("| 2 | 4,8 / 64 | validation | 84.73 | 85.31 | 84.91 | 84.86 | +0.40 | – |"), md);
        assertTrue(rows.get(1).contains("| seen typefaces | 87.69 | 87.87 | 87.89 | 87.81 | -0.01 | -0.02 / 0.27 / 0.61 / 0.74 |"),
                "the recorded margin (from counts), not one from rounded percentages: " + md);
        assertTrue(rows.get(2).contains("| unseen typefaces | 79.37 | 79.52 | 79.67 | 79.52 | -0.15 |"), md);
    }

    /** Every full-scale conv generalist, whole runs and generalist-only ones, with its schedule: validation only. */
    @Test
    void theGeneralistsTableListsEachFullScaleGeneralistWithItsScheduleAndNoTestFigure(@TempDir Path root)
            throws Exception {
        Path runs = root.resolve("runs").resolve("specialists-glyphs");
        Map<String, String> conv = Map.of("run.scale", "full", "run.seed", "3", "architecture.generalist", "conv",
                "conv.channels", "4,8", "conv.dense", "64", "conv.epochs", "80", "conv.patience", "0");
        Map<String, String> decayed = new TreeMap<>(conv);
        decayed.put("conv.learningRateDecay", "0.95");
        run(runs.resolve("20261207-000001-aaaaaaaa"), decayed, Map.of("generalist.validation_accuracy", "78.25",
                "control.validation_accuracy", "78.70", "generalist.epochs", "80", "generalist.best_epoch", "74",
                "seen.generalist.test_accuracy", "81.96"));
        Map<String, String> plateau = new TreeMap<>(conv);
        plateau.putAll(Map.of("conv.learningRateDecay", "1.0", "conv.plateau.epochs", "3", "conv.plateau.factor", "0.5",
                "stages.generalistOnly", "true"));
        run(runs.resolve("20261208-000002-bbbbbbbb"), plateau, Map.of("generalist.validation_accuracy", "92.30",
                "generalist.epochs", "80", "generalist.best_epoch", "77", "seen.generalist.test_accuracy", "94.61"));
        Map<String, String> small = new TreeMap<>(plateau);
        small.put("run.scale", "small");
        run(runs.resolve("20261208-000003-cccccccc"), small, Map.of("generalist.validation_accuracy", "99.00"));
        Path results = root.resolve("results");
        new SpecialistsExperiment(SpecialistDataset.GLYPHS).figures(runs, results);
        String md = Files.readString(results.resolve("specialists-glyphs-generalists.md"));
        List<String> rows = md.lines().filter(l -> l.startsWith("| `")).toList();
        assertEquals(2, rows.size(), "full scale only:\n" + md);
        for (String cell : List.of("20261207-000001-aaaaaaaa", "| 3 |", "| 4,8 / 64 |", "| 80, 0.95, 0 |", "| 80 / 74 |",
                "| 78.25 |", "| +0.45 |", "| yes |")) {
            assertTrue(rows.get(0).contains(cell), cell + " in " + rows.get(0));
        }
        for (String cell : List.of("| 80, 1.0 ×0.5 after 3 flat, 0 |", "| 80 / 77 |", "| 92.30 |", "| – |",
                "| no (generalist only) |")) {
            assertTrue(rows.get(1).contains(cell), cell + " in " + rows.get(1));
        }
        assertFalse(md.contains("81.96") || md.contains("94.61"), "no test figure");
        assertFalse(Files.exists(results.resolve("specialists-glyphs-ablation.md")), "no ensemble: no ablation row");
    }
}
