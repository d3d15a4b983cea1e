package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunRecordTest {
    private static final Instant BASE = Instant.parse("2026-11-25T10:00:00Z");

    /** A clock stopped {@code seconds} after {@link #BASE}: run ids have one-second resolution, so tests step it. */
    private static Clock at(int seconds) {
        return Clock.fixed(BASE.plusSeconds(seconds), ZoneOffset.UTC);
    }

    private static SortedMap<String, String> config(String seed, String scale) {
        return new TreeMap<>(java.util.Map.of("run.seed", seed, "run.scale", scale, "distill.temperature", "20"));
    }

    @Test
    void runRecordHoldsConfigProvenanceMetricsAndResult(@TempDir Path runs) throws Exception {
        RunRecord r = RunRecord.create(runs, "exp", config("1", "tiny"));
        assertTrue(r.dir().getFileName().toString().endsWith("-" + Configs.hash(config("1", "tiny"))));
        assertEquals(config("1", "tiny"), RunRecord.readProperties(r.dir().resolve(RunRecord.CONFIG)));

        r.writeProvenance(Provenance.capture(Path.of(".")).put("data.mnist", "abc"));
        var prov = RunRecord.readProperties(r.dir().resolve(RunRecord.PROVENANCE));
        assertEquals("abc", prov.get("data.mnist"));
        assertTrue(prov.containsKey("git.commit") && prov.containsKey("jvm.version") && prov.containsKey("machine.cores"));

        r.metric(new RunRecord.MetricRow("teacher", 1, 0.5, 10, 100, 1e-3, 2.0, 500));
        r.metric(new RunRecord.MetricRow("teacher", 2, 0.25, 5, 100, 1e-3, 2.0, 500));
        List<String> lines = Files.readAllLines(r.dir().resolve(RunRecord.METRICS));
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("model,epoch,loss,validation_errors"));
        assertTrue(lines.get(2).startsWith("teacher,2,0.25,5,100,0.05"), lines.get(2));
        // Without a validation split the validation columns stay empty (no NaN, no -1) and read back.
        r.metric(new RunRecord.MetricRow("student", 1, 0.5, -1, 0, 1e-3, 2.0, 500));
        String row = Files.readAllLines(r.dir().resolve(RunRecord.METRICS)).get(3);
        assertTrue(row.startsWith("student,1,0.5,,0,,0.001"), row);
        RunRecord reopened = RunRecord.open(r.dir());
        reopened.metric(new RunRecord.MetricRow("student", 2, 0.4, -1, 0, 1e-3, 2.0, 500));
        assertEquals(5, Files.readAllLines(r.dir().resolve(RunRecord.METRICS)).size());
        // A restored epoch the record already has is not written again (the file is not even touched);
        // a missing one is added.
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(r.dir().resolve(RunRecord.METRICS));
        Files.setLastModifiedTime(r.dir().resolve(RunRecord.METRICS), java.nio.file.attribute.FileTime.fromMillis(0));
        reopened.metricIfAbsent(new RunRecord.MetricRow("student", 2, 0.9, -1, 0, 1e-3, 2.0, 500));
        assertEquals(0, Files.getLastModifiedTime(r.dir().resolve(RunRecord.METRICS)).toMillis(), "not rewritten");
        assertTrue(Files.readAllLines(r.dir().resolve(RunRecord.METRICS)).get(4).startsWith("student,2,0.4,"));
        reopened.metricIfAbsent(new RunRecord.MetricRow("student", 3, 0.3, -1, 0, 1e-3, 2.0, 500));
        assertEquals(6, Files.readAllLines(r.dir().resolve(RunRecord.METRICS)).size());
        assertTrue(before.toMillis() > 0);
        // New rows are appended; a row cut short by a kill (no line end) is dropped on reading, and
        // removed from the file before the resumed run appends after it.
        Path metrics = r.dir().resolve(RunRecord.METRICS);
        Files.writeString(metrics, "student,4,0.2", java.nio.file.StandardOpenOption.APPEND);
        assertEquals(5, RunRecord.readMetrics(r.dir()).size());
        RunRecord resumed = RunRecord.open(r.dir());
        assertTrue(Files.readString(metrics).endsWith("\n"), "the cut row is gone from the file");
        resumed.metric(new RunRecord.MetricRow("student", 4, 0.2, -1, 0, 1e-3, 2.0, 500));
        List<String> after = Files.readAllLines(metrics);
        assertEquals(7, after.size());
        assertTrue(after.get(6).startsWith("student,4,0.2,,0,"), after.get(6));
        assertEquals(6, RunRecord.readMetrics(r.dir()).size());

        r.writeResult(new TreeMap<>(java.util.Map.of("teacher.test_errors", "70")));
        assertEquals("70", RunRecord.readProperties(r.dir().resolve(RunRecord.RESULT)).get("teacher.test_errors"));
        try (Stream<Path> files = Files.list(r.dir())) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temp files left behind");
        }
    }

    @Test
    void atomicWriteReplacesTheWholeFileOrNothing(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("result.properties");
        AtomicFiles.writeString(f, "old=1\n");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(f, out -> {
            out.write("new=".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            throw new java.io.IOException("disk full");
        }));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertEquals("disk full", e.getCause().getMessage());
        // the failed write leaves the old content intact and no temporary file beside it
        assertEquals("old=1\n", Files.readString(f));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList());
        }
    }

    @Test
    void theRunIdIsTheClocksSecondAndTheConfigHash(@TempDir Path runs) {
        RunRecord r = RunRecord.create(runs, "exp", config("1", "tiny"), at(0));
        assertEquals("20261125-100000-" + Configs.hash(config("1", "tiny")), r.id());
        assertEquals(runs.resolve("exp").resolve(r.id()), r.dir());
    }

    @Test
    void runIdsDifferWhenTheClockAdvances(@TempDir Path runs) {
        RunRecord first = RunRecord.create(runs, "exp", config("1", "tiny"), at(0));
        RunRecord second = RunRecord.create(runs, "exp", config("1", "tiny"), at(1));
        assertNotEquals(first.id(), second.id());
        assertTrue(second.id().startsWith("20261125-100001-"), second.id());
        assertTrue(first.id().compareTo(second.id()) < 0, "ids sort in the order the runs were made");
    }

    @Test
    void aSecondRunOfTheSameConfigInTheSameSecondGetsASuffix(@TempDir Path runs) {
        String id = "20261125-100000-" + Configs.hash(config("1", "tiny"));
        assertEquals(id, RunRecord.create(runs, "exp", config("1", "tiny"), at(0)).id());
        assertEquals(id + "-2", RunRecord.create(runs, "exp", config("1", "tiny"), at(0)).id());
        assertEquals(id + "-3", RunRecord.create(runs, "exp", config("1", "tiny"), at(0)).id());
    }

    @Test
    void tablesSummariseFinishedRunsPerScaleBesideThePaper(@TempDir Path root) throws Exception {
        Path runs = root.resolve("runs");
        for (String[] r : new String[][] {{"1", "full", "70"}, {"2", "full", "74"}, {"1", "tiny", "900"}}) {
            RunRecord rec = RunRecord.create(runs, "exp", config(r[0], r[1]));
            rec.writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", r[2])));
        }
        RunRecord.create(runs, "exp", config("3", "full")); // unfinished: no result, not counted
        var spec = new ResultTables.Spec("exp", "Title", List.of(
                new ResultTables.Metric("student.test_errors", "student errors", "74", 1)), List.of("run.scale"), "");
        Path readme = root.resolve("README.md");
        Files.writeString(readme, "intro\n<!-- table:exp -->\nold\n<!-- /table:exp -->\nend\n");

        ResultTables.Generated g = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables");
        assertEquals(3, g.runs());
        assertTrue(g.markdown().contains("| student errors | 74 | 72.0 ± 2.8 | 900.0 |"), g.markdown());
        assertTrue(g.markdown().indexOf("full (n=2)") < g.markdown().indexOf("tiny (n=1)"));
        List<String> csv = Files.readAllLines(g.csv());
        assertTrue(csv.get(0).startsWith("# generated by `./dk tables`"));
        assertEquals(1 + 1 + 3, csv.size());

        assertTrue(ResultTables.updateBlock(readme, "exp", g.markdown()));
        String text = Files.readString(readme);
        assertTrue(text.startsWith("intro\n<!-- table:exp -->\n<!-- generated") && text.endsWith("<!-- /table:exp -->\nend\n"));
        assertTrue(!text.contains("old"));
    }

    @Test
    void tablesRefreshTheirBlockInTheReadmeAndInEveryDocsPageThatHasIt(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("README.md"), "front\n<!-- table:summary -->\nold\n<!-- /table:summary -->\n");
        Files.createDirectories(root.resolve("docs/nested"));
        Path perf = root.resolve("docs/performance.md");
        Path other = root.resolve("docs/cluster.md");
        Path nested = root.resolve("docs/nested/deep.md");
        Files.writeString(perf, "# Perf\n<!-- table:bench -->\nold bench\n<!-- /table:bench -->\nAfter.\n");
        Files.writeString(other, "# Cluster\nno markers here\n");
        Files.writeString(nested, "<!-- table:bench -->\nold\n<!-- /table:bench -->\n");
        Files.writeString(root.resolve("docs/notes.txt"), "<!-- table:bench -->\nold\n<!-- /table:bench -->\n");

        List<Path> docs = ResultTables.documents(root);
        assertEquals(List.of(root.resolve("README.md"), other, perf), docs);

        assertEquals(List.of(perf), ResultTables.updateBlocks(docs, "bench", "| new bench |\n"));
        assertEquals("# Perf\n<!-- table:bench -->\n| new bench |\n<!-- /table:bench -->\nAfter.\n",
                Files.readString(perf));
        assertEquals("# Cluster\nno markers here\n", Files.readString(other));
        assertTrue(Files.readString(root.resolve("README.md")).contains("old"), "the README has no bench block");
        assertTrue(Files.readString(nested).contains("old"), "only docs/*.md, not sub-folders");

        assertEquals(List.of(root.resolve("README.md")), ResultTables.updateBlocks(docs, "summary", "| s |"));
        assertEquals("front\n<!-- table:summary -->\n| s |\n<!-- /table:summary -->\n",
                Files.readString(root.resolve("README.md")));
        try (Stream<Path> files = Files.list(root.resolve("docs"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void aRepositoryWithoutDocsHasOnlyItsReadmeAsADocument(@TempDir Path root) throws Exception {
        assertEquals(List.of(), ResultTables.documents(root));
        Files.writeString(root.resolve("README.md"), "x\n");
        assertEquals(List.of(root.resolve("README.md")), ResultTables.documents(root));
    }

    @Test
    void runsOfDifferentConfigsAreNotAveragedTogether(@TempDir Path root) throws Exception {
        Path runs = root.resolve("runs");
        String[][] made = {{"1", "20", "70"}, {"2", "20", "74"}, {"1", "8", "90"}};
        for (int i = 0; i < made.length; i++) {  // one second apart: the ids keep the runs' order
            var c = config(made[i][0], "full");
            c.put("distill.temperature", made[i][1]);
            RunRecord rec = RunRecord.create(runs, "exp", c, at(i));
            rec.writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", made[i][2])));
        }
        var spec = new ResultTables.Spec("exp", "Title", List.of(
                new ResultTables.Metric("student.test_errors", "student errors", "74", 1)), List.of("run.scale"), "");
        String md = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables").markdown();
        assertTrue(md.contains("| | paper | ours: full ‹a› (n=1) | ours: full ‹b› (n=2) |"), md);
        assertTrue(md.contains("| student errors | 74 | 90.0 | 72.0 ± 2.8 |"), md);
        assertTrue(md.contains("- ‹a› full: `distill.temperature=8`\n- ‹b› full: `distill.temperature=20`"), md);

        // a loaded teacher's recorded settings are not what differs: the legend names the input instead
        var loaded = config("1", "full");
        loaded.put("inputs.teacher", "/x/runs/exp/20261125-000000-abcd/teacher.zip");
        loaded.put("teacher.epochs", "60");
        RunRecord.create(runs, "exp", loaded, at(3)).writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", "80")));
        md = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables").markdown();
        assertTrue(md.contains("- ‹a› full: `distill.temperature=20`, `inputs.teacher=…/20261125-000000-abcd/teacher.zip`\n"),
                md);
        assertTrue(md.contains("| ours: full ‹a› (n=1) | ours: full ‹b› (n=1) | ours: full ‹c› (n=2) |"), md);
    }

    @Test
    void aRepeatMadeAfterANewKeyArrivedIsStillARepeat(@TempDir Path root) throws Exception {
        Path runs = root.resolve("runs");
        RunRecord.create(runs, "exp", config("1", "full"), at(0))
                .writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", "70")));
        var newer = config("2", "full");
        newer.put("student.momentumStart", "0.5");  // a key added between the two runs, at its default
        RunRecord.create(runs, "exp", newer, at(1)).writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", "74")));
        var spec = new ResultTables.Spec("exp", "Title", List.of(
                new ResultTables.Metric("student.test_errors", "student errors", "74", 1)), List.of("run.scale"), "");
        String apart = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables").markdown();
        assertTrue(apart.contains("full ‹a› (n=1) | ours: full ‹b› (n=1)"), apart);
        String together = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables",
                java.util.Map.of("student.momentumStart", "0.5")).markdown();
        assertTrue(together.contains("| student errors | 74 | 72.0 ± 2.8 |"), together);
        // a rerun of a seed replaces it, it is not a repeat
        RunRecord.create(runs, "exp", newer, at(2)).writeResult(new TreeMap<>(java.util.Map.of("student.test_errors", "76")));
        String rerun = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables",
                java.util.Map.of("student.momentumStart", "0.5")).markdown();
        assertTrue(rerun.contains("| student errors | 74 | 73.0 ± 4.2 |"), rerun);
        // at another value the new key does make another config
        String other = ResultTables.generate(runs, root.resolve("results"), spec, "./dk tables",
                java.util.Map.of("student.momentumStart", "0.9")).markdown();
        assertTrue(other.contains("full ‹a› (n=1) | ours: full ‹b› (n=1)"), other);
        assertTrue(other.contains("| student errors | 74 | 76.0 | 70.0 |"), other);
    }
}
