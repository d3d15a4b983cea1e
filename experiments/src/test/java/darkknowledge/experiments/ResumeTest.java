package darkknowledge.experiments;

import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.Store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ChildProcess;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run killed with SIGKILL part-way and resumed reaches the figures of an uninterrupted run. */
class ResumeTest {

    /** Killed half-way through the teacher's fourth epoch of 40 (three checkpointed): most of the schedule runs after the resume (over a minute). */
    @Test
    @Tag("slow")
    void killedRunResumesToTheSameFigures(@TempDir Path root) throws Exception {
        killAndResume(root, 40, 3);
    }

    /** The tiny twin of the above for the default suite: killed half-way through epoch 3 of 6 (two checkpointed). */
    @Test
    void killedRunResumesToTheSameFiguresTinyTwin(@TempDir Path root) throws Exception {
        killAndResume(root, 6, 2);
    }

    private static void killAndResume(Path root, int teacherEpochs, int killAfter) throws Exception {
        List<String> sets = List.of("teacher.epochs=" + teacherEpochs, "baseline.epochs=3", "student.epochs=3");
        var e = new MnistDistillation();
        var cfg = Runner.resolve(e, Scale.TINY, null, sets);
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Runner.Outcome straight = Runner.run(e, cfg, root.resolve("straight"), data, false);

        // The driver parks half-way through teacher epoch killAfter (0-based): epochs 1..killAfter are
        // trained and checkpointed, the next is half done. The test waits for it to say so, then kills.
        Path runs = root.resolve("killed");
        Path marker = root.resolve("kill-point");
        Path log = root.resolve("child.log");
        ChildProcess.Running child = KillPoint.start(e.name(), runs, marker, "epoch:teacher:" + killAfter, sets, log);
        try {
            KillPoint.awaitMarker(child, marker, log, 10);
        } finally {
            child.kill();  // SIGKILL
        }
        Path runDir = onlyRunDir(runs);
        assertEquals(killAfter, epochsDone(runDir.resolve("checkpoints/teacher.ckpt.properties")),
                "teacher epochs checkpointed at the kill");
        assertFalse(Files.exists(runDir.resolve(RunRecord.RESULT)), "killed before the end");

        Runner.Outcome resumed = Runner.resume(runDir, data, false);
        assertEquals(figures(straight.result()), figures(resumed.result()));
        var provenance = RunRecord.readProperties(runDir.resolve(RunRecord.PROVENANCE));
        assertTrue(provenance.containsKey("resumed.1.time"), provenance.toString());
        long teacherRows = Files.readAllLines(runDir.resolve(RunRecord.METRICS)).stream()
                .filter(l -> l.startsWith("teacher,")).count();
        assertEquals(teacherEpochs, teacherRows, "one metrics row per teacher epoch, none repeated");
    }

    @Test
    void aRunStartedOnAnotherSplitIsNotResumed(@TempDir Path root) throws Exception {
        var e = new MnistDistillation();
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Path runDir = Runner.run(e, Runner.resolve(e, Scale.TINY, null, List.of()), root, data, false).dir();
        Path prov = runDir.resolve(RunRecord.PROVENANCE);
        String text = Files.readString(prov);
        String key = RunData.TRAIN_INDICES_KEY + "=";
        int at = text.indexOf(key);
        assertTrue(at >= 0, text);
        // As if the code that drew the split had changed since the run started.
        Files.writeString(prov, text.substring(0, at + key.length()) + "x" + text.substring(at + key.length() + 1));
        var ex = assertThrows(darkknowledge.core.ConfigException.class,
                () -> Runner.resume(runDir, data, false));
        assertTrue(ex.getMessage().contains(RunData.TRAIN_INDICES_KEY) && ex.getMessage().contains("Start a new run"),
                ex.getMessage());
    }

    private static SortedMap<String, String> figures(SortedMap<String, String> result) {
        SortedMap<String, String> m = new TreeMap<>();
        result.forEach((k, v) -> {
            if (k.endsWith("errors") || k.endsWith("pct") || k.endsWith("best_epoch")) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static Path onlyRunDir(Path runs) throws Exception {
        Path dir = runs.resolve("mnist-distillation");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findFirst().orElse(null);
        }
    }

    private static int epochsDone(Path state) {
        return Integer.parseInt(RunRecord.readProperties(state).get("epochs_done"));
    }
}
