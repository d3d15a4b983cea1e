package darkknowledge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Provenance;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.LocalCluster;
import darkknowledge.core.engine.LocalEngine;
import darkknowledge.core.engine.TaskFailedException;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone cluster: a master and two one-core workers as separate JVMs started by
 * scripts/cluster.sh, executors in further JVMs, the tiny training sweep as the job. Slow (the JVMs
 * and the training take one to three minutes on two shared cores); its quick twin is SparkEngineTest.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {
    /** Big enough that a task trains for seconds; the kill lands in the middle of one by the hold (TrainTask.HOLD). */
    static final SyntheticClasses.Spec SPEC = new SyntheticClasses.Spec(12, 3, 64, 0.6, 0.3, 300, 20, 11);

    Path dir;
    LocalCluster cluster;
    SparkEngine engine;
    Path data;
    Path run;

    @BeforeAll
    void startClusterAndEngine(@TempDir Path tmp) throws Exception {
        dir = tmp;
        data = TrainTask.writeData(dir.resolve("shared/data/synthetic.bin"), SPEC);
        run = Files.createDirectories(dir.resolve("shared/run"));
        cluster = LocalCluster.start(Provenance.repoDir(), dir.resolve("cluster"),
                System.getProperty("java.class.path"), 2, 1, "1g");
        engine = new SparkEngine(EngineConfig.spark(cluster.masterUrl(), 2).withTimeoutSeconds(180), run);
    }

    @AfterAll
    void stop() {
        try {
            if (engine != null) {
                engine.close();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    @Test
    @Order(1)
    void twoExecutorJvmsRegisterAndAreDescribed() {
        Map<String, String> d = engine.describe();
        assertEquals("spark", d.get("kind"));
        assertEquals(cluster.masterUrl(), d.get("master"));
        assertEquals("2", d.get("executors"), d.toString());
        assertTrue(d.get("executor.hosts").startsWith("127.0.0.1:"), d.toString());
    }

    @Test
    @Order(2)
    void aDataFileNoExecutorCanSeeFailsNamingThePathAndTheExecutor() {
        Path missing = dir.resolve("unmounted/synthetic.bin");
        TaskFailedException f = assertThrows(TaskFailedException.class,
                () -> engine.runAll("sweep", List.of(new TrainTask("net0", missing.toString(), List.of(8), 1, 1))));
        assertTrue(f.getMessage().contains("cannot see its input " + missing), f.getMessage());
        assertTrue(f.getMessage().matches("(?s).*on executor \\d+ \\(127\\.0\\.0\\.1\\).*"), f.getMessage());
    }

    @Test
    @Order(3)
    void aWorkerKilledMidTrainingIsRerunElsewhereWithTheSameModelsAndNoHalfWrittenOneIsRead() throws Exception {
        List<TrainTask> tasks = TrainTask.sweep(data, 4, List.of(128, 128), 4);
        Map<String, String> reference = new HashMap<>();
        Path localRun = Files.createDirectories(dir.resolve("local-run"));
        try (LocalEngine local = new LocalEngine(2, localRun)) {
            local.runAll("sweep", tasks).forEach(t -> reference.put(t.name(), t.parameterHash()));
        }
        Set<String> referenceHashes = Set.copyOf(reference.values());

        // A reader that loads every model as soon as it appears, as a resumed run or the next stage would.
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, String> badReads = new ConcurrentHashMap<>();
        Map<String, Integer> reads = new ConcurrentHashMap<>();
        Path models = run.resolve("models");
        // own threads: the common pool has a single thread on two cores, and the reader never yields it
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            while (!stop.get()) {
                if (Files.isDirectory(models)) {
                    try (Stream<Path> files = Files.list(models)) {
                        for (Path m : files.filter(p -> p.getFileName().toString().endsWith(".zip")).toList()) {
                            try {
                                String h = Classifier.load(m).fingerprint();
                                reads.merge(m.getFileName().toString(), 1, Integer::sum);
                                if (!referenceHashes.contains(h)) {
                                    badReads.put(m.toString(), "unknown parameters " + h);
                                }
                            } catch (RuntimeException e) {
                                badReads.put(m.toString(), String.valueOf(e.getMessage()));
                            }
                        }
                    } catch (java.io.IOException e) {
                        badReads.put(models.toString(), e.toString());
                    }
                }
                sleepQuietly(50);
            }
        }, threads);

        // Every first attempt waits after marking its start while the hold file exists: worker 2 is killed
        // while its task is surely unfinished, and released only then (its task is rerun on worker 1).
        Path hold = Files.writeString(run.resolve(TrainTask.HOLD), "");
        CompletableFuture<List<TrainTask.Trained>> job = CompletableFuture.supplyAsync(() -> engine.runAll("sweep", tasks), threads);
        Path started = run.resolve("started");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (executorsTraining(started) < 2 && System.nanoTime() < deadline && !job.isDone()) {
            sleepQuietly(100);  // a poll of the markers, not a clock
        }
        assertEquals(2, executorsTraining(started), () -> "both executors should be holding a task before the kill; job "
                + (job.isDone() ? "done" : "running") + ", started: " + list(started) + cluster.executorLogTails(30));
        assertFalse(job.isDone(), "no task can finish while held");
        cluster.killWorker(2);
        Files.delete(hold);

        List<TrainTask.Trained> got = job.get(6, TimeUnit.MINUTES);
        stop.set(true);
        reader.get(1, TimeUnit.MINUTES);
        threads.shutdown();

        for (TrainTask.Trained t : got) {
            assertEquals(reference.get(t.name()), t.parameterHash(), t.name() + " differs from the in-process run");
            assertEquals(t.parameterHash(), Classifier.load(run.resolve("models/" + t.name() + ".zip")).fingerprint());
        }
        assertTrue(badReads.isEmpty(), "a reader saw a broken or foreign model: " + badReads);
        assertFalse(reads.isEmpty(), "the reader never read a model");
        Map<String, String> d = engine.describe();
        assertTrue(Integer.parseInt(d.get("stage.sweep.reruns")) >= 1, "no task was rerun: " + d);
    }

    private static List<String> list(Path d) {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (java.io.IOException e) {
            return List.of(e.toString());
        }
    }

    /** Distinct executors that have marked an attempt as started. */
    private static long executorsTraining(Path started) {
        if (!Files.isDirectory(started)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(started)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .map(n -> n.substring(n.lastIndexOf('-') + 1)).distinct().count();
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
