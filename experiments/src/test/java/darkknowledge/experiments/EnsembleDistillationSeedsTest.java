package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Configs;
import darkknowledge.core.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnsembleDistillationSeedsTest {

    private static void run(Path dir, String seed, String source, Map<String, String> result) throws Exception {
        Files.createDirectories(dir);
        Map<String, String> config = new TreeMap<>(Map.of("run.seed", seed, "run.scale", "full", "data.source", source,
                "ensemble.members", "10", "ensemble.average", "both", "distill.temperature", "5.0",
                "distill.hardWeight", "0.5", "engine.kind", seed.equals("2") ? "spark" : "local"));
        Files.writeString(dir.resolve(RunRecord.CONFIG), Configs.toText(new TreeMap<>(config)));
        Files.writeString(dir.resolve(RunRecord.RESULT), Configs.toText(new TreeMap<>(result)));
    }

    private static Map<String, String> result(String members, String ens, String student, String kept, String keptLogits) {
        return Map.of("members.mean_test_errors", members, "ensemble.test_errors", ens, "student.test_errors", student,
                "student.gain_kept_pct", kept, "ensemble_logits.test_errors", ens, "student_logits.test_errors", student,
                "student_logits.gain_kept_pct", keptLogits);
    }

    @Test
    void eachConfigurationWithTwoSeedsGetsItsSeedsTheirErrorsAndTheIntervalOverThem(@TempDir Path root) throws Exception {
        // Fashion: three seeds (one on another engine: still the same configuration), shares 60, 70, 80.
        run(root.resolve("20261207-000001-aaaaaaaa"), "3", "fashion-mnist", result("1130.0", "1030", "1070", "60.00", "50.00"));
        run(root.resolve("20261207-000002-bbbbbbbb"), "1", "fashion-mnist", result("1120.0", "1020", "1050", "70.00", "60.00"));
        run(root.resolve("20261207-000003-cccccccc"), "2", "fashion-mnist", result("1110.0", "1010", "1030", "80.00", "70.00"));
        // MNIST: one seed only, no table.
        run(root.resolve("20261207-000004-dddddddd"), "1", "", result("140.0", "120", "130", "50.00", "50.00"));
        List<FinishedRuns.Run> runs = FinishedRuns.all(root, Map.of());
        String md = EnsembleDistillation.seedsTable("ensemble-distillation", runs);
        assertTrue(md.contains("### full, fashion-mnist, 10 members, average=both, T = 5.0, hard weight 0.5"), md);
        assertEquals(md.indexOf("### "), md.lastIndexOf("### "), "one table: MNIST has one seed\n" + md);
        List<String> rows = md.lines().filter(l -> l.startsWith("| ") && !l.startsWith("| seed")).toList();
        assertEquals(List.of(
                "| 1 | `20261207-000002-bbbbbbbb` | 1120.0 | 1020 | 1050 | 70.00 | 1020 | 1050 | 60.00 |",
                "| 2 | `20261207-000003-cccccccc` | 1110.0 | 1010 | 1030 | 80.00 | 1010 | 1030 | 70.00 |",
                "| 3 | `20261207-000001-aaaaaaaa` | 1130.0 | 1030 | 1070 | 60.00 | 1030 | 1070 | 50.00 |"), rows, md);
        // mean 70, sd 10, t(0.975, 2) = 4.303: ±24.8; ±10 at sd 10 needs t·10/√n ≤ 10, n = 7 (2.447/√7·10 = 9.2).
        assertTrue(md.contains("- probabilities: n = 3, 70.0 ± 10.0 (mean ± sd), 95% [45.2, 94.8] (±24.8); "
                + "±10 at this sd needs n = 7"), md);
        assertTrue(md.contains("- logits: n = 3, 60.0 ± 10.0"), md);

        assertNull(EnsembleDistillation.seedsTable("ensemble-distillation", runs.subList(3, 4)), "one seed: no table");

        // A configuration of one average names its interval after it (its share is under student.*).
        run(root.resolve("20261207-000005-eeeeeeee"), "1", "", result("140.0", "120", "130", "50.00", "–"));
        run(root.resolve("20261207-000006-ffffffff"), "2", "", result("140.0", "120", "128", "60.00", "–"));
        for (String id : List.of("20261207-000005-eeeeeeee", "20261207-000006-ffffffff")) {
            Path config = root.resolve(id).resolve(RunRecord.CONFIG);
            Files.writeString(config, Files.readString(config).replace("ensemble.average=both", "ensemble.average=logits"));
        }
        String logits = EnsembleDistillation.seedsTable("ensemble-distillation", FinishedRuns.all(root, Map.of()));
        assertTrue(logits.contains("- logits: n = 2, 55.0 ± 7.1"), logits);
    }

    @Test
    void theSeedsNeededFollowTheTDistribution() {
        assertEquals(7, EnsembleDistillation.seedsForHalfWidth(10, 10));
        assertEquals(2, EnsembleDistillation.seedsForHalfWidth(0, 10));
        // At the five Fashion seeds' sd of about 17: 14 seeds (t(13) = 2.160, 2.160 · 17 / √14 = 9.8).
        assertEquals(14, EnsembleDistillation.seedsForHalfWidth(17, 10));
    }
}
