package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.engine.LocalCluster;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.SpecialistDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import darkknowledge.kernels.Gemm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny twin of {@link SubmitClusterTest}: a one-worker standalone cluster whose worker and
 * executor run as another, unprivileged user, with a home, work and temporary directories of their
 * own and a SPARK_HOME of copied jars, and which cannot see the driver's run directory, data cache
 * or home. The specialists it trains get the generalist and the data through Spark and send their
 * models back: they are the in-process ones, bit for bit (one thread each side: the module's surefire sets OMP_NUM_THREADS = MKL_NUM_THREADS = 1).
 */
class SharedNothingClusterTest {
    private static final SpecialistsExperiment SYNTHETIC = new SpecialistsExperiment(SpecialistDataset.SYNTHETIC);

    @Test
    void specialistsTrainedByAWorkerThatSeesNoneOfTheDriversFilesAreTheInProcessOnes(@TempDir Path root)
            throws Exception {
        String why = WorkerUser.unavailable();
        Assumptions.assumeTrue(why == null, () -> "not run: " + why);
        WorkerUser.ensure();
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        // a data cache of the test's own, inside the 0700 directory: whatever DK_DATA_DIR the driver's user set
        // (a directory under /tmp, say), the worker cannot read this one (the synthetic classes need no files)
        DataStore data = new DataStore(root.resolve("data"));
        // the cluster starts (JVMs, copied jars) while the in-process run trains
        CompletableFuture<LocalCluster> starting = CompletableFuture.supplyAsync(() -> LocalCluster.start(
                Provenance.repoDir(), WorkerUser.clusterDir("twin"), System.getProperty("java.class.path"), 1, 1, "1g",
                WorkerUser.NAME));
        // Both sides multiply with MKL (the driver passes its choice on as -Ddk.blas): on a 2-core AMD
        // EPYC Zen 5 where auto picks OpenBLAS 0.3.31, the executor's specialists differed from the
        // in-process ones in their last bits, at this test's commit of 2026-12-07 and before (not the
        // OPENBLAS_L2_SIZE or OPENBLAS_CORETYPE of the driver's environment; cause not isolated). MKL
        // with one thread is bit for bit the same in any process, which is what this test is about.
        Gemm.Decision blas = Gemm.use(Gemm.Choice.MKL);
        Runner.Outcome local;
        try {
            local = Runner.run(SYNTHETIC, Runner.resolve(SYNTHETIC, Scale.TINY, null, List.of()),
                    root.resolve("in-process"), data, false);
        } catch (RuntimeException e) {
            Gemm.restore(blas);
            starting.thenAccept(LocalCluster::close);
            throw e;
        }
        try (LocalCluster cluster = starting.join()) {
            for (Path p : List.of(root, data.cacheDir(), Path.of(System.getProperty("user.home")))) {
                assertFalse(WorkerUser.canSee(p.resolve(".")),
                        WorkerUser.NAME + " can see " + p + ": the test would not show that nothing is shared");
            }
            Runner.Outcome spark;
            try {
                spark = Runner.run(SYNTHETIC, Runner.resolve(SYNTHETIC, Scale.TINY, null, List.of("engine.kind=spark",
                        "engine.master=" + cluster.masterUrl(), "engine.workers=1", "engine.timeoutSeconds=180")),
                        root.resolve("cluster"), data, false);
            } catch (RuntimeException e) {
                throw new AssertionError("the run on the cluster failed; its executors' logs:"
                        + cluster.executorLogTails(40), e);
            }
            SortedMap<String, String> a = RunRecord.readProperties(local.dir().resolve(RunRecord.PROVENANCE));
            SortedMap<String, String> b = RunRecord.readProperties(spark.dir().resolve(RunRecord.PROVENANCE));
            assertEquals("spark", b.get("engine.kind"));
            assertFalse(b.get("model.specialist0.executor").startsWith("driver"), b.get("model.specialist0.executor"));
            assertTrue(b.keySet().stream().anyMatch(k -> k.startsWith("engine.shared.data") && k.endsWith(".bytes")),
                    "the data travelled as a broadcast: " + b.keySet());
            int specialists = Integer.parseInt(local.result().get("clustering.specialists"));
            assertTrue(specialists >= 2, "specialists: " + specialists);
            for (int m = 0; m < specialists; m++) {
                String key = "model.specialist" + m + ".sha256";
                assertEquals(a.get(key), b.get(key), key);
                assertTrue(Files.isRegularFile(spark.dir().resolve("specialist" + m + ".done.properties")),
                        "the driver wrote specialist " + m + "'s done record");
            }
            for (String k : List.of("ensemble.test_accuracy", "generalist.test_accuracy", "ensemble.relative_gain_pct")) {
                assertEquals(local.result().get(k), spark.result().get(k), k);
            }
        } finally {
            Gemm.restore(blas);
        }
    }
}
