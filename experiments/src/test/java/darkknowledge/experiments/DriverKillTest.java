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
 *
 * <p>On Spark local[2] the driver ({@link KillPoint}) parks a specialist that has no done record as
 * soon as another one has one and says so in a marker file; the test waits for the marker and kills:
 * at least one specialist finished and at least one did not, by construction, however busy the
 * machine. On a standalone cluster the specialists train in executor JVMs the driver's hook does not
 * reach: the test waits for the first done record and kills, and asserts only what holds wherever the
 * kill lands (the resume reuses exactly the finished specialists and reaches the same figures).
 */
class DriverKillTest {
    private static final SpecialistsExperiment SYNTHETIC = new SpecialistsExperiment(SpecialistDataset.SYNTHETIC);
    /**
     * On a standalone cluster: long enough that the kill is likely (not certain) to land between the first
     * specialist's end and the last one's. The parked driver needs no such margin.
     */
    private static final List<String> LONGER = List.of("specialists.epochs=8");
    /** Bounded waits for the driver to reach its kill point: generous, for a machine busy with other builds. */
    private static final int MINUTES = 10;

    @Test
    void aKilledDriverOnSparkLocalResumesWithTheSpecialistsThatFinished(@TempDir Path root) throws Exception {
        killDriverAndResume(root, "local[2]", true);
    }

    /** The same with the driver's specialists in two executor JVMs of a real standalone cluster (about two minutes). */
    @Test
    @Tag("slow")
    void aKilledDriverOnAStandaloneClusterResumesWithTheSpecialistsThatFinished(@TempDir Path root) throws Exception {
        try (LocalCluster cluster = LocalCluster.start(Provenance.repoDir(), root.resolve("cluster"),
                System.getProperty("java.class.path"), 2, 1, "1g")) {
            killDriverAndResume(root, cluster.masterUrl(), false);
        }
    }

    /**
     * @param parkInDriver the specialists train in the driver's JVM (Spark local), where {@link KillPoint}
     *                     can park one that has not finished
     */
    private static void killDriverAndResume(Path root, String master, boolean parkInDriver) throws Exception {
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        List<String> schedule = parkInDriver ? List.of() : LONGER;
        Runner.Outcome straight = Runner.run(SYNTHETIC, Runner.resolve(SYNTHETIC, Scale.TINY, null, schedule),
                root.resolve("straight"), data, false);
        int specialists = Integer.parseInt(straight.result().get("clustering.specialists"));
        assertTrue(specialists >= 3, "specialists: " + specialists);

        List<String> sets = new ArrayList<>(schedule);
        sets.addAll(List.of("engine.kind=spark", "engine.master=" + master, "engine.workers=2",
                "engine.timeoutSeconds=180"));
        Path runs = root.resolve("killed");
        Path marker = root.resolve("kill-point");
        Path log = root.resolve("driver.log");
        ChildProcess.Running driver = KillPoint.start(SYNTHETIC.name(), runs, marker,
                parkInDriver ? "unfinished-specialist" : "never", sets, log);
        Path runDir;
        try {
            if (parkInDriver) {
                KillPoint.awaitMarker(driver, marker, log, MINUTES);
                runDir = onlyRunDir(runs);
            } else {
                runDir = awaitFirstDoneRecord(driver, runs, log);
            }
        } finally {
            driver.kill();  // SIGKILL: no shutdown hook, no cleanup
        }
        int finished = KillPoint.doneSpecialists(runDir);
        assertTrue(finished >= 1, finished + " specialists done at the kill");
        if (parkInDriver) {
            assertTrue(finished < specialists, finished + " of " + specialists + " specialists done at the kill, "
                    + "parked at " + Files.readString(marker));
        }
        // On the cluster the one timing-dependent precondition: the driver must not have finished the
        // whole run in the moment between the first done record and the kill.
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

    /** The run directory once a specialist's done record is in it; fails with the driver's log otherwise. */
    private static Path awaitFirstDoneRecord(ChildProcess.Running driver, Path runs, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(MINUTES);
        while (true) {
            boolean alive = driver.isAlive();  // before the look: a driver that ended had written its records
            Path runDir = onlyRunDir(runs);
            if (runDir != null && KillPoint.doneSpecialists(runDir) >= 1) {
                return runDir;
            }
            assertTrue(alive, "the driver ended before a specialist finished:\n" + Files.readString(log));
            assertTrue(System.nanoTime() < deadline, "no specialist finished within " + MINUTES + " minutes:\n"
                    + Files.readString(log));
            driver.waitFor(java.time.Duration.ofMillis(50));  // returns at once if the driver ends
        }
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
}
