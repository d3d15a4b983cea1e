package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real child processes (sh, sleep, cat). The timeouts asserted are the helper's own; the generous
 * bounds below only keep a broken helper from hanging the build, and no test asserts elapsed time.
 */
class ChildProcessTest {
    /** Far above anything these children need; only reached if the helper is broken. */
    private static final Duration GENEROUS = Duration.ofMinutes(2);

    @Test
    void outputAndErrorsAreCapturedApartOrMerged() {
        ChildProcess.Result apart = ChildProcess.of("sh", "-c", "echo out; echo err >&2").timeout(GENEROUS).run();
        assertEquals(0, apart.exitCode());
        assertEquals("out\n", apart.output());
        assertEquals("err\n", apart.errors());

        ChildProcess.Result merged = ChildProcess.of("sh", "-c", "echo out; echo err >&2").mergeErrors()
                .timeout(GENEROUS).run();
        assertEquals("out\nerr\n", merged.output());
        assertEquals("", merged.errors());
    }

    @Test
    void theWorkingDirectoryAndEnvironmentAreTheOnesGiven(@TempDir Path dir) throws Exception {
        ChildProcess.Result r = ChildProcess.of("sh", "-c", "pwd; echo \"${DK_CHILD_TEST:-unset} ${HOME:-unset}\"")
                .directory(dir).env("DK_CHILD_TEST", "given").unsetEnv(List.of("HOME")).timeout(GENEROUS).run();
        List<String> lines = r.output().lines().toList();
        assertEquals(dir.toRealPath(), Path.of(lines.get(0)).toRealPath());
        assertEquals("given unset", lines.get(1));
    }

    @Test
    void aChildPastItsTimeoutIsKilledAndTheErrorNamesItAndTheTimeout() {
        ChildProcess.TimedOut e = assertThrows(ChildProcess.TimedOut.class,
                () -> ChildProcess.of("sleep", "60").timeout(Duration.ofSeconds(1)).run());
        assertTrue(e.getMessage().contains("sleep 60"), e.getMessage());
        assertTrue(e.getMessage().contains("1 s"), e.getMessage());
        assertEquals(Duration.ofSeconds(1), e.timeout());
    }

    @Test
    void aTimeoutKillsTheChildsDescendantsToo() throws Exception {
        try (ChildProcess.Running shell = ChildProcess.of("sh", "-c", "sleep 60 & sleep 60 & wait").start()) {
            List<ProcessHandle> sleeps = List.of();
            for (int i = 0; i < 12_000 && sleeps.size() < 2; i++) {  // until sh has started both (bounded)
                Thread.sleep(10);
                sleeps = ProcessHandle.of(shell.pid()).orElseThrow().children().toList();
            }
            assertEquals(2, sleeps.size(), "sh started its two sleeps");
            assertThrows(ChildProcess.TimedOut.class, () -> shell.await(Duration.ofSeconds(1)));
            assertFalse(shell.isAlive());
            for (ProcessHandle s : sleeps) {
                s.onExit().get(GENEROUS.toSeconds(), TimeUnit.SECONDS);  // throws if it outlives the bound
                assertFalse(s.isAlive(), "grandchild " + s.pid());
            }
        }
    }

    @Test
    void aChildWritingMegabytesToBothStreamsDoesNotBlock() {
        // 8 MB to each stream, output first: code that reads one stream to its end while the other
        // fills its 64 KB pipe waits forever
        String script = "head -c 8000000 /dev/zero | tr '\\0' o; head -c 8000000 /dev/zero | tr '\\0' e >&2; "
                + "head -c 8000000 /dev/zero | tr '\\0' o";
        ChildProcess.Result r = ChildProcess.of("sh", "-c", script).timeout(GENEROUS).run();
        assertEquals(0, r.exitCode());
        assertEquals(16_000_000, r.output().length());
        assertEquals(8_000_000, r.errors().length());
        assertTrue(r.output().chars().allMatch(c -> c == 'o') && r.errors().chars().allMatch(c -> c == 'e'));
    }

    @Test
    void aNonZeroExitIsReportedWithTheCommandTheCodeAndTheEndOfTheOutput() {
        ChildProcess.Result r = ChildProcess.of("sh", "-c", "echo first; echo last words >&2; exit 3")
                .timeout(GENEROUS).run();
        assertEquals(3, r.exitCode());
        ChildProcess.NonZeroExit e = assertThrows(ChildProcess.NonZeroExit.class, r::requireSuccess);
        assertEquals(3, e.exitCode());
        assertTrue(e.getMessage().contains("sh -c 'echo first; echo last words >&2; exit 3'"), e.getMessage());
        assertTrue(e.getMessage().contains("exit code 3"), e.getMessage());
        assertTrue(e.getMessage().contains("last words"), e.getMessage());
    }

    @Test
    void aProgramThatIsNotThereIsAStartFailureNamingIt() {
        ChildProcess.StartFailure e = assertThrows(ChildProcess.StartFailure.class,
                () -> ChildProcess.of("dk-no-such-program", "x").timeout(GENEROUS).run());
        assertTrue(e.getMessage().contains("dk-no-such-program"), e.getMessage());
    }

    @Test
    void outputCanGoToALogThatIsKept(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("child.log");
        ChildProcess.Result r = ChildProcess.of("sh", "-c", "echo out; echo err >&2").logTo(log).timeout(GENEROUS).run();
        assertEquals("out\nerr\n", r.output());
        assertEquals("out\nerr\n", Files.readString(log));
    }

    @Test
    void aLongLivedChildTalksOverPipesAndAReplyThatNeverComesTimesOut() {
        try (ChildProcess.Running cat = ChildProcess.of("cat").start()) {
            cat.input().println("hello");
            assertEquals("hello", cat.readLine(GENEROUS));
            cat.input().close();
            assertNull(cat.readLine(GENEROUS), "the end of its output");
            assertEquals(0, cat.await(GENEROUS));
        }
        try (ChildProcess.Running silent = ChildProcess.of("sleep", "60").start()) {
            ChildProcess.TimedOut e = assertThrows(ChildProcess.TimedOut.class, () -> silent.readLine(Duration.ofSeconds(1)));
            assertTrue(e.getMessage().contains("sleep 60") && e.getMessage().contains("1 s"), e.getMessage());
            assertFalse(silent.isAlive());
        }
    }

    @Test
    void veryLongArgumentsAreShortenedInMessages() {
        String classpath = "x".repeat(5000);
        String shown = ChildProcess.describe(List.of("java", "-cp", classpath, "Main"));
        assertTrue(shown.startsWith("java -cp xxx") && shown.endsWith("[5000 chars] Main"), shown);
        assertTrue(shown.length() < 200, shown);
    }
}
