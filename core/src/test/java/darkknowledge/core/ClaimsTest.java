package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClaimsTest {

    private static void run(Path runs, String id, Map<String, String> config, String errors) throws Exception {
        Path dir = runs.resolve("exp").resolve(id);
        java.nio.file.Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve(RunRecord.CONFIG), Configs.toText(new TreeMap<>(config)));
        AtomicFiles.writeString(dir.resolve(RunRecord.RESULT), Configs.toText(new TreeMap<>(Map.of("errors", errors))));
    }

    @Test
    void aRunOlderThanAKeyAnswersAClaimOnThatKeysDefaultAndANewerVariantDoesNot(@TempDir Path runs) throws Exception {
        // The old run predates transfer.half; the newer one sets it to another value and must not
        // replace the old one's figure.
        run(runs, "20260101-000000-aaaaaaaa", Map.of("run.scale", "full", "run.seed", "1"), "99");
        run(runs, "20260102-000000-bbbbbbbb", Map.of("run.scale", "full", "run.seed", "1", "transfer.half", "other"),
                "120");
        var claim = new Claims.Claim("student errors", "exp", Map.of("transfer.half", "all"), "errors", "74", 0,
                Claims.Target.atMost(85));
        String table = Claims.markdown(runs, List.of(claim), "test");
        assertTrue(table.contains("| 99 | 1 | missed | exp `20260101-000000`"), table);

        var other = new Claims.Claim("student errors", "exp", Map.of("transfer.half", "other"), "errors", "74", 0,
                Claims.Target.atMost(85));
        assertTrue(Claims.markdown(runs, List.of(other), "test").contains("| 120 | 1 |"), "the newest matching run");
    }

    @Test
    void anEverySeedClaimIsMetOnlyWhenEverySeedMeetsItsTarget(@TempDir Path runs) throws Exception {
        run(runs, "20260101-000000-aaaaaaaa", Map.of("run.scale", "full", "run.seed", "1"), "-0.01");
        run(runs, "20260101-000001-bbbbbbbb", Map.of("run.scale", "full", "run.seed", "2"), "-0.04");
        run(runs, "20260101-000002-cccccccc", Map.of("run.scale", "full", "run.seed", "3"), "0.17");
        var claim = new Claims.Claim("margin", "exp", Map.of(), "errors", "–", 2, Claims.Target.above(0))
                .inEverySeed(3);
        String table = Claims.markdown(runs, List.of(claim), "test");
        // the mean (+0.04) is above 0, two of the three seeds it needs are not: missed
        assertTrue(table.contains("| 0.04 ± 0.11, seeds [-0.04, 0.17] | 3 | missed (not in every seed) |"), table);
        run(runs, "20260101-000003-dddddddd", Map.of("run.scale", "full", "run.seed", "1"), "0.02");
        run(runs, "20260101-000004-eeeeeeee", Map.of("run.scale", "full", "run.seed", "2"), "0.05");
        assertTrue(Claims.markdown(runs, List.of(claim), "test").contains("seeds [0.02, 0.17] | 3 | **met** |"),
                "each seed's newest run, all above 0");
        run(runs, "20260101-000005-ffffffff", Map.of("run.scale", "full", "run.seed", "1"), "0.00");
        run(runs, "20260101-000006-gggggggg", Map.of("run.scale", "full", "run.seed", "2"), "-0.01");
        run(runs, "20260101-000007-hhhhhhhh", Map.of("run.scale", "full", "run.seed", "3"), "-0.2");
        assertTrue(Claims.markdown(runs, List.of(claim), "test").contains("| 3 | missed |"), "no seed wins");
    }

    @Test
    void anEverySeedClaimIsNotMetOnFewerSeedsThanItNeeds(@TempDir Path runs) throws Exception {
        // a new configuration (another key) with one winning seed replaces three seeds of the old one
        run(runs, "20260101-000000-aaaaaaaa", Map.of("run.scale", "full", "run.seed", "1"), "-0.01");
        run(runs, "20260101-000001-bbbbbbbb", Map.of("run.scale", "full", "run.seed", "2"), "-0.04");
        run(runs, "20260101-000002-cccccccc", Map.of("run.scale", "full", "run.seed", "3"), "0.17");
        run(runs, "20260102-000000-dddddddd", Map.of("run.scale", "full", "run.seed", "1", "k", "new"), "0.12");
        var claim = new Claims.Claim("margin", "exp", Map.of(), "errors", "–", 2, Claims.Target.above(0))
                .inEverySeed(3);
        String table = Claims.markdown(runs, List.of(claim), "test");
        assertTrue(table.contains("| 0.12, seeds [0.12, 0.12] | 1 | unresolved (1 of 3 seeds) |"), table);
        run(runs, "20260102-000001-eeeeeeee", Map.of("run.scale", "full", "run.seed", "2", "k", "new"), "-0.02");
        assertTrue(Claims.markdown(runs, List.of(claim), "test").contains("| 2 | unresolved |"),
                "a losing seed: unresolved by the seeds, not by their number");
        run(runs, "20260102-000002-ffffffff", Map.of("run.scale", "full", "run.seed", "2", "k", "new"), "0.03");
        run(runs, "20260102-000003-gggggggg", Map.of("run.scale", "full", "run.seed", "3", "k", "new"), "0.05");
        assertTrue(Claims.markdown(runs, List.of(claim), "test").contains("| 3 | **met** |"), "three winning seeds");
        assertThrows(IllegalArgumentException.class, () -> claim.withInterval(null).inEverySeed(0));
    }

    @Test
    void aboveIsStrictATieIsNoWin() {
        Claims.Target t = Claims.Target.above(0);
        assertEquals("> 0", t.text());
        assertEquals("missed", t.verdict(0.0));
        assertEquals("missed", t.verdict(-0.3));
        assertEquals("**met**", t.verdict(0.01));
    }
}
