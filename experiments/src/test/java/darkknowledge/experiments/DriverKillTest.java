package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ChildProcess;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.SpecialistDataset;
import darkknowledge.core.engine.LocalCluster;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver killed for real (SIGKILL of its JVM) while its specialists train on Spark; {@code ./dk run
 * --resume} then reuses every specialist whose done record was written, trains only the others, and
 * reaches the figures and model hashes of an undisturbed in-process run. On a standalone cluster the
 * specialists train in executor JVMs, so their epochs reach the run's metrics.csv only through the
 * driver: one row per epoch each, none missing, none repeated, is checked too.
 */
class DriverKillTest {
    private static final SpecialistsExperiment SYNTHETIC = new SpecialistsExperiment(SpecialistDataset.SYNTHETIC);
    /** Long enough that the driver can be killed between the first specialist's end and the last one's. */
    private static final List<String> LONGER = List.of("specialists.epochs=8");

    @Test
    void aKilledDriverOnSparkLocalResumesWithTheSpecialistsThatFinished(@TempDir Path root) throws Exception {
        killDriverAndResume(root, "local[2]");
    }

    /** The same with the driver's specialists in two executor JVMs of a real standalone cluster (about two minutes). */
    @Test
    @Tag("slow")
    void aKilledDriverOnAStandaloneClusterResumesWithTheSpecialistsThatFinished(@TempDir Path root) throws Exception {
        try (LocalCluster cluster = LocalCluster.start(Provenance.repoDir(), root.resolve("cluster"),
                System.getProperty("java.class.path"), 2, 1, "1g")) {
            killDriverAndResume(root, cluster.masterUrl());
        }
    }

    private static void killDriverAndResume(Path root, String master) throws Exception {
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Runner.Outcome straight = Runner.run(SYNTHETIC, Runner.resolve(SYNTHETIC, Scale.TINY, null, LONGER),
                root.resolve("straight"), data, false);
        int specialists = Integer.parseInt(straight.result().get("clustering.specialists"));
        assertTrue(specialists >= 3, "specialists: " + specialists);

        List<String> sets = new ArrayList<>(LONGER);
        sets.addAll(List.of("engine.kind=spark", "engine.master=" + master, "engine.workers=2",
                "engine.timeoutSeconds=180"));
        Path runs = root.resolve("killed");
        Path runDir = null;
        try (ChildProcess.Running driver = startDriver(sets, runs, root.resolve("driver.log"))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (System.nanoTime() < deadline && driver.isAlive()) {
                runDir = onlyRunDir(runs);
                if (runDir != null && doneRecords(runDir) >= 1) {
                    break;
                }
                Thread.sleep(5);
            }
            assertTrue(driver.isAlive(), "the driver ended before it could be killed:\n"
                    + Files.readString(root.resolve("driver.log")));
            driver.kill();  // SIGKILL: no shutdown hook, no cleanup
        }
        int finished = doneRecords(runDir);
        assertTrue(finished >= 1 && finished < specialists, finished + " of " + specialists + " specialists done at the kill");
        assertFalse(Files.exists(runDir.resolve(RunRecord.RESULT)), "killed before the end");

        Runner.Outcome resumed = Runner.resume(runDir, data, false);
        SortedMap<String, String> p = RunRecord.readProperties(runDir.resolve(RunRecord.PROVENANCE));
        assertEquals(Integer.toString(finished), p.get("specialists.reused"), "the finished specialists are reused");
        assertTrue(p.containsKey("model.generalist.reused"), "the generalist is loaded, not trained again");
        SortedMap<String, String> q = RunRecord.readProperties(straight.dir().resolve(RunRecord.PROVENANCE));
        for (int m = 0; m < specialists; m++) {
            String key = "model.specialist" + m + ".sha256";
            assertEquals(q.get(key), p.get(key), key);
        }
        for (String k : List.of("ensemble.test_accuracy", "generalist.test_accuracy", "ensemble.relative_gain_pct",
                "control.test_accuracy")) {
            assertEquals(straight.result().get(k), resumed.result().get(k), k);
        }
        List<String> rows = Files.readAllLines(runDir.resolve(RunRecord.METRICS));
        for (int m = 0; m < specialists; m++) {
            String name = "specialist" + m;
            int epochs = Integer.parseInt(RunRecord.readProperties(runDir.resolve(name + ".done.properties"))
                    .get("epochs_run"));
            long seen = rows.stream().filter(l -> l.startsWith(name + ",")).count();
            assertEquals(epochs, seen, name + ": one metrics row per epoch trained, wherever it trained");
        }
    }

    /** {@code dk run specialists-synthetic --scale tiny} in a JVM of its own, with this JVM's flags. */
    private static ChildProcess.Running startDriver(List<String> sets, Path runs, Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-javaagent")).forEach(cmd::add);
        String blas = System.getProperty("org.bytedeco.openblas.load");
        if (blas != null) {
            cmd.add("-Dorg.bytedeco.openblas.load=" + blas);  // the same BLAS as the undisturbed run
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Ddk.data.dir=" + DataStore.defaultCacheDir(),
                "darkknowledge.experiments.Main", "run", "specialists-synthetic", "--scale", "tiny", "--runs-dir",
                runs.toString()));
        for (String s : sets) {
            cmd.add("--set");
            cmd.add(s);
        }
        return ChildProcess.of(cmd).logTo(log).start();
    }

    private static Path onlyRunDir(Path runs) throws Exception {
        Path dir = runs.resolve("specialists-synthetic");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findFirst().orElse(null);
        }
    }

    private static int doneRecords(Path runDir) throws Exception {
        try (Stream<Path> s = Files.list(runDir)) {
            return (int) s.filter(f -> f.getFileName().toString().matches("specialist\\d+\\.done\\.properties")).count();
        }
    }
}
