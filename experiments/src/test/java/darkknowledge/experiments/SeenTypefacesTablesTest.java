package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Configs;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.pipeline.RunData;
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
 * Glyph runs made before the seen-typeface test set existed: they still render (their seen rows "–"),
 * are never averaged with new runs, and a resume goes on without the set; other datasets' older runs stay
 * repeats of new ones.
 */
class SeenTypefacesTablesTest {

    private static void run(Path dir, Map<String, String> config, Map<String, String> result) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(RunRecord.CONFIG), Configs.toText(new TreeMap<>(config)));
        Files.writeString(dir.resolve(RunRecord.RESULT), Configs.toText(new TreeMap<>(result)));
    }

    /** The small glyph preset's config as a run records it, with or without the new key. */
    private static SortedMap<String, String> smallGlyphConfig(Experiment<?> e, boolean withSeenKey) {
        SortedMap<String, String> c = Configs.write("", Runner.resolve(e, Scale.SMALL, null, List.of()));
        assertEquals("1", c.get(Presets.SEEN_TEST_KEY), "the small preset has a seen-typeface test set");
        if (!withSeenKey) {
            c.remove(Presets.SEEN_TEST_KEY);
        }
        return c;
    }

    private static String row(String md, String label) {
        return md.lines().filter(l -> l.startsWith("| " + label + " |")).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + label + " in\n" + md));
    }

    @Test
    void anOlderGlyphRunRendersWithEmptySeenCellsAndIsNotAveragedWithNewRuns(@TempDir Path root) throws Exception {
        var e = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        Path runs = root.resolve("runs");
        Path dir = runs.resolve(e.name());
        SortedMap<String, String> older = smallGlyphConfig(e, false);
        older.put("run.seed", "2");  // another seed: were the configs equal, these would be two repeats
        run(dir.resolve("20261201-000001-aaaaaaaa"), older, Map.of("ensemble.test_accuracy", "90.00",
                "generalist.test_accuracy", "91.00"));
        run(dir.resolve("20261208-000001-bbbbbbbb"), smallGlyphConfig(e, true), Map.of("ensemble.test_accuracy", "80.00",
                "generalist.test_accuracy", "81.00", "seen.ensemble.test_accuracy", "95.50",
                "seen.generalist.test_accuracy", "95.00"));
        String md = ResultTables.generate(runs, root.resolve("results"), e.table(), "./dk tables",
                Experiments.missingKeys(e)).markdown();
        assertTrue(md.contains("ours: small ‹a› (n=1)") && md.contains("ours: small ‹b› (n=1)"),
                "two columns, not one of n=2:\n" + md);
        // Newest first: ‹a› is the new run, ‹b› the older one.
        assertEquals("| " + SpecialistsExperiment.SEEN_LABEL + " — Table 3: generalist + specialists (%) | 26.1 (JFT) | 95.50 | – |",
                row(md, SpecialistsExperiment.SEEN_LABEL + " — Table 3: generalist + specialists (%)"));
        assertEquals("| " + SpecialistsExperiment.UNSEEN_LABEL + " — Table 3: generalist + specialists (%) | 26.1 (JFT) | 80.00 | 90.00 |",
                row(md, SpecialistsExperiment.UNSEEN_LABEL + " — Table 3: generalist + specialists (%)"));
        assertTrue(md.contains("`" + Presets.SEEN_TEST_KEY + "=0`") && md.contains("`" + Presets.SEEN_TEST_KEY + "=1`"),
                "the legend names the difference:\n" + md);

        // Without the per-run value the older run would read as today's default and be averaged in.
        String merged = ResultTables.generate(runs, root.resolve("results"), e.table(), "./dk tables",
                Configs.write("", e.defaults())).markdown();
        assertTrue(merged.contains("ours: small (n=2)"), merged);
    }

    @Test
    void olderRunsOfOtherDatasetsStayRepeatsOfNewOnes(@TempDir Path root) throws Exception {
        Pipeline p = new Pipeline();
        Path runs = root.resolve("runs");
        SortedMap<String, String> fashion = Configs.write("", Runner.resolve(p, Scale.SMALL, null, List.of()));
        fashion.put("run.seed", "1");
        SortedMap<String, String> older = new TreeMap<>(fashion);
        older.remove(Presets.SEEN_TEST_KEY);
        fashion.put("run.seed", "2");
        run(runs.resolve("pipeline").resolve("20261201-000001-aaaaaaaa"), older, Map.of("generalist.test_accuracy", "89.00"));
        run(runs.resolve("pipeline").resolve("20261208-000001-bbbbbbbb"), fashion, Map.of("generalist.test_accuracy", "90.00"));
        String md = ResultTables.generate(runs, root.resolve("results"), p.table(), "./dk tables",
                Experiments.missingKeys(p)).markdown();
        assertTrue(md.contains("ours: dataset=fashion, small (n=2)"), md);
        assertTrue(row(md, Pipeline.TEST_LABEL + " — generalist").contains("89.50 ± 0.71"), md);
        assertTrue(row(md, Pipeline.SEEN_LABEL + " — generalist").endsWith("| – |"), "no seen set on fashion:\n" + md);
        SortedMap<String, String> glyphs = new TreeMap<>(older);
        glyphs.put("dataset", "glyphs");
        assertEquals(Map.of(Presets.SEEN_TEST_KEY, "0"), p.olderRunsHad(glyphs));
    }

    @Test
    void aResumedOlderGlyphRunGoesOnWithoutTheSeenTypefaces(@TempDir Path root) {
        var e = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        Path file = root.resolve(RunRecord.CONFIG);
        var older = Configs.read(Runner.recordedSettings(e, file, smallGlyphConfig(e, false)), "", e.defaults());
        assertEquals(0, older.glyphs().seenTestImagesPerFace());
        var newer = Configs.read(Runner.recordedSettings(e, file, smallGlyphConfig(e, true)), "", e.defaults());
        assertEquals(1, newer.glyphs().seenTestImagesPerFace());
        var other = new SpecialistsExperiment(SpecialistDataset.FASHION);
        SortedMap<String, String> fashion = Configs.write("", Runner.resolve(other, Scale.SMALL, null, List.of()));
        fashion.remove(Presets.SEEN_TEST_KEY);
        assertEquals(darkknowledge.data.GlyphsConfig.defaults().seenTestImagesPerFace(), Configs.read(Runner.recordedSettings(other, file, fashion), "", other.defaults())
                .glyphs().seenTestImagesPerFace());
        assertEquals(RunData.SEEN_PREFIX + "ensemble.relative_gain_pct", Experiments.claims().stream()
                .filter(c -> c.claim().contains(", seen typefaces")).findFirst().orElseThrow().metric());
    }
}
