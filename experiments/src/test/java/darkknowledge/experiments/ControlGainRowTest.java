package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import darkknowledge.core.Configs;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.pipeline.SpecialistDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The glyph table's convergence line: the fine-tuned control's gain over the generalist on validation,
 * per column (mean ± sd over its seeds), with the under-one-point criterion met only when every run meets it.
 */
class ControlGainRowTest {

    private static void run(Path dir, Map<String, String> config, Map<String, String> result) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(RunRecord.CONFIG), Configs.toText(new TreeMap<>(config)));
        Files.writeString(dir.resolve(RunRecord.RESULT), Configs.toText(new TreeMap<>(result)));
    }

    private static SortedMap<String, String> smallGlyphConfig(Experiment<?> e, String seed, List<String> sets) {
        SortedMap<String, String> c = Configs.write("", Runner.resolve(e, Scale.SMALL, null, sets));
        c.put("run.seed", seed);
        return c;
    }

    private static Map<String, String> validation(String generalist, String control) {
        return Map.of("generalist.validation_accuracy", generalist, "control.validation_accuracy", control,
                "ensemble.test_accuracy", "90.00");
    }

    @Test
    void eachColumnShowsTheControlsValidationGainAndWhetherTheCriterionIsMet(@TempDir Path root) throws Exception {
        var e = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        Path dir = root.resolve("runs").resolve(e.name());
        // Column ‹c› (oldest): two seeds of the preset (fresh images), gains 0.20 and 0.60: met.
        run(dir.resolve("20261207-000001-aaaaaaaa"), smallGlyphConfig(e, "1", List.of()), validation("95.40", "95.60"));
        run(dir.resolve("20261207-000002-bbbbbbbb"), smallGlyphConfig(e, "2", List.of()), validation("95.00", "95.60"));
        // Column ‹b›: fixed images, one seed, the control gains 1.50: missed.
        run(dir.resolve("20261207-000003-cccccccc"), smallGlyphConfig(e, "1", List.of("glyphs.freshEachEpoch=false")),
                validation("94.00", "95.50"));
        // Column ‹a› (newest): a run without the validation figures (no control): nothing to show.
        run(dir.resolve("20261207-000004-dddddddd"), smallGlyphConfig(e, "1", List.of("ensemble.control=false")),
                Map.of("ensemble.test_accuracy", "90.00"));
        String md = ResultTables.generate(root.resolve("runs"), root.resolve("results"), e.table(), "./dk tables",
                Experiments.missingKeys(e)).markdown();
        String row = md.lines().filter(l -> l.startsWith("| " + SpecialistsExperiment.CONTROL_GAIN_LABEL + " |"))
                .findFirst().orElseThrow(() -> new AssertionError("no convergence line in\n" + md));
        assertEquals("| " + SpecialistsExperiment.CONTROL_GAIN_LABEL + " | – | – | +1.50 (missed) | +0.40 ± 0.28 (met) |",
                row, md);
    }

    @Test
    void aGainIsReadOnlyFromBothFiguresAndOtherDatasetsHaveNoConvergenceLine() {
        assertEquals(-0.05, SpecialistsExperiment.controlGain(validation("95.60", "95.55")), 1e-9);
        assertNull(SpecialistsExperiment.controlGain(Map.of("generalist.validation_accuracy", "95.60")));
        assertNull(SpecialistsExperiment.controlGain(validation("NaN", "95.55")));
        assertEquals("+0.00 (met)", new SpecialistsExperiment.ControlGainRow().value(List.of(new ResultTables.ColumnRun(
                Path.of("r"), new TreeMap<>(), new TreeMap<>(validation("95.55", "95.55"))))));
        for (SpecialistDataset d : List.of(SpecialistDataset.FASHION, SpecialistDataset.SYNTHETIC)) {
            assertFalse(new SpecialistsExperiment(d).table().columnRows().stream()
                    .anyMatch(r -> r instanceof SpecialistsExperiment.ControlGainRow), d.name());
        }
    }
}
