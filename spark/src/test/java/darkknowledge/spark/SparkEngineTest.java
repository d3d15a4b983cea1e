package darkknowledge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.Engines;
import darkknowledge.core.engine.LocalEngine;
import darkknowledge.core.engine.SharedBytes;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskFailedException;
import darkknowledge.core.engine.TaskInputException;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spark at local[2] in this JVM against the in-process pool, on real training tasks. */
class SparkEngineTest {
    static final SyntheticClasses.Spec SPEC = new SyntheticClasses.Spec(12, 3, 24, 0.6, 0.3, 60, 20, 7);

    record Failing(String why) implements Task<Integer> {
        @Override
        public Integer run(TaskContext ctx) {
            throw new IllegalArgumentException(why);
        }
    }

    @Test
    void sparkLocalTwoTrainsTheSameParametersAsTheInProcessPool(@TempDir Path dir) throws Exception {
        Path data = TrainTask.writeData(dir.resolve("data/synthetic.bin"), SPEC);
        List<TrainTask> tasks = TrainTask.sweep(data, 4, List.of(32), 3);
        Path localRun = Files.createDirectories(dir.resolve("run-local"));
        Path sparkRun = Files.createDirectories(dir.resolve("run-spark"));
        List<TrainTask.Trained> local;
        try (Engine e = new LocalEngine(2, localRun)) {
            local = e.runAll("sweep", tasks);
        }
        List<TrainTask.Trained> spark;
        Map<String, String> described;
        Settings set = Settings.empty().overlay(Map.of("engine.kind", "spark", "engine.master", "local[2]"), "--set");
        try (Engine e = Engines.open(Configs.read(set, "engine", EngineConfig.defaults()), sparkRun)) {
            spark = e.runAll("sweep", tasks);
            described = e.describe();
        }
        // One BLAS thread (OMP_NUM_THREADS=1), the same seeds and the same code: bit-identical, no tolerance.
        for (int i = 0; i < tasks.size(); i++) {
            assertEquals(local.get(i).name(), spark.get(i).name());
            assertEquals(local.get(i).parameterHash(), spark.get(i).parameterHash(), "task " + i);
            assertEquals(local.get(i).validationErrors(), spark.get(i).validationErrors());
            Classifier saved = Classifier.load(sparkRun.resolve("models/net" + i + ".zip"));
            assertEquals(spark.get(i).parameterHash(), saved.fingerprint());
        }
        // the seeds differ, so the nets do: the hashes are not all one value
        assertEquals(4, spark.stream().map(TrainTask.Trained::parameterHash).distinct().count());
        assertTrue(spark.get(0).validationErrors() < spark.get(0).validationExamples() / 2,
                "a trained net beats chance by far: " + spark.get(0));
        assertEquals("spark", described.get("kind"));
        assertEquals("local[2]", described.get("master"));
        assertEquals("4.2.0", described.get("spark.version"));
        assertEquals("2", described.get("executors"));
        assertTrue(described.get("stage.sweep.executors").startsWith("driver@"), described.toString());
        assertEquals("0", described.get("stage.sweep.reruns"));
    }

    record ReadShared(SharedBytes shared) implements Task<Integer> {
        @Override
        public Integer run(TaskContext ctx) {
            return shared.get().length;
        }
    }

    @Test
    void aReleasedShareIsDestroyedOnceAndNoTaskCanAskForItAgain(@TempDir Path run) {
        try (Engine e = new SparkEngine(EngineConfig.spark("local[1]", 1), run)) {
            SharedBytes shared = e.share("three bytes", () -> new byte[3]);
            assertEquals(List.of(3), e.runAll("read", List.of(new ReadShared(shared))));
            e.release(shared);
            e.release(shared);  // a second release is no error
            RuntimeException gone = assertThrows(RuntimeException.class,
                    () -> e.runAll("read again", List.of(new ReadShared(shared))));
            assertTrue(String.valueOf(gone.getMessage()).contains("destroyed"), String.valueOf(gone.getMessage()));
        }
    }

    @Test
    void aFailingTaskSurfacesItsOwnMessageThroughSpark(@TempDir Path run) {
        try (Engine e = new SparkEngine(EngineConfig.spark("local[2]", 2), run)) {
            TaskFailedException f = assertThrows(TaskFailedException.class,
                    () -> e.runAll("doomed", List.of(new Failing("subset 3 has no examples"), new Failing("other"))));
            assertTrue(f.getMessage().startsWith("stage doomed: task "), f.getMessage());
            assertTrue(f.getMessage().contains("on executor driver"), f.getMessage());
            assertTrue(f.getMessage().endsWith("subset 3 has no examples") || f.getMessage().endsWith("other"),
                    f.getMessage());
        }
    }

    @Test
    void aDataFileTheExecutorCannotSeeIsNamedWithTheExecutor(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("not-mounted/synthetic.bin");
        Path run = Files.createDirectories(dir.resolve("run"));
        try (Engine e = new SparkEngine(EngineConfig.spark("local[1]", 1), run)) {
            TaskFailedException f = assertThrows(TaskFailedException.class,
                    () -> e.runAll("sweep", List.of(new TrainTask("net0", missing.toString(), List.of(8), 1, 1))));
            assertTrue(f.getCause() instanceof org.apache.spark.SparkException, String.valueOf(f.getCause()));
            assertTrue(f.getSuppressed()[0].getCause() instanceof TaskInputException);
            assertTrue(f.getMessage().contains("cannot see its input " + missing), f.getMessage());
            assertTrue(f.getMessage().contains("executor driver ("), f.getMessage());
        }
    }

    /**
     * Behaviour only: the failure names the master, the timeout it waited for and why the connection
     * failed, and says what to do. How long it took is not asserted (a busy machine may take longer;
     * the bench measures time).
     */
    @Test
    void anUnreachableMasterFailsNamingItItsTimeoutAndTheReason(@TempDir Path run) throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String master = "spark://127.0.0.1:" + port;
        SparkEngineException e = assertThrows(SparkEngineException.class,
                () -> new SparkEngine(EngineConfig.spark(master, 2).withTimeoutSeconds(3), run));
        assertTrue(e.getMessage().startsWith("engine.master=" + master + ": no Spark master answers within 3 s ("
                + "127.0.0.1:" + port + ": "), e.getMessage());
        assertTrue(e.getMessage().endsWith("Start one (./dk cluster start) or fix the URL."), e.getMessage());
    }
}
