package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.SimpleFileServer;
import darkknowledge.core.ChildProcess;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.engine.LocalCluster;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.SpecialistDataset;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spark-submit} of the application jar ({@code ./dk package}) to a standalone cluster we did
 * not start from the project: two workers with only a stand-in for a stock Spark 4 install (Spark's
 * own jars from Maven Central, copied into a SPARK_HOME of their own) and a JDK, run as another,
 * unprivileged user with homes, work and temporary directories of their own, who cannot see the
 * driver's run directory, data cache or home. The driver is {@code org.apache.spark.deploy.SparkSubmit}
 * on Spark's class path with the jar: in client mode here, in cluster mode on a worker (the jar
 * fetched over HTTP from 127.0.0.1). The specialists and the pipeline's soft targets give the figures
 * of the same runs in process, and a worker SIGKILLed while its executor trains is survived.
 * Needs root (the worker user) and {@code ./dk package} first; says so rather than skipping.
 */
@Tag("slow")
class SubmitClusterTest {
    private static final SpecialistsExperiment SYNTHETIC = new SpecialistsExperiment(SpecialistDataset.SYNTHETIC);
    private static final Duration RUN = Duration.ofMinutes(15);
    private static final List<String> JVM = List.of("--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "--add-modules=jdk.incubator.vector", "-Djava.awt.headless=true",
            "-Dorg.bytedeco.openblas.load=mkl_rt",
            // ND4J's arrays live off the heap: JavaCPP's caps force collections before the kernel has to kill the
            // driver (unset, the resident cap is four heaps); SparkSubmit started here takes no --driver-* flags
            "-Dorg.bytedeco.javacpp.maxbytes=4G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=8G");

    private static Path jar() {
        Path jar = Provenance.repoDir().resolve("submit/target/dark-knowledge-submit.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build it with ./dk package before this test");
        }
        return jar;
    }

    private static String stockSpark() throws Exception {
        Path cp = Provenance.repoDir().resolve("stock-spark/target/classpath.txt");
        if (!Files.isRegularFile(cp)) {
            throw new IllegalStateException(cp + " is missing: build it with ./dk package before this test");
        }
        return Files.readString(cp).strip();
    }

    @Test
    void specialistsAndSoftTargetsSubmittedToAStockClusterGiveTheInProcessFiguresAndSurviveALostWorker(
            @TempDir Path root) throws Exception {
        String why = WorkerUser.unavailable();
        if (why != null) {
            throw new IllegalStateException("cannot isolate the workers: " + why);
        }
        WorkerUser.ensure();
        String spark = stockSpark();
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        // submitted from a directory the workers cannot read: they get the jar from the driver (or over HTTP)
        Path jar = Files.copy(jar(), Files.createDirectories(root.resolve("app")).resolve("dark-knowledge-submit.jar"));
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Path clusterDir = WorkerUser.clusterDir("submit");
        try (LocalCluster cluster = LocalCluster.start(Provenance.repoDir(), clusterDir, spark, 2, 1, "2g",
                WorkerUser.NAME)) {
            for (Path p : List.of(root, data.cacheDir(), Path.of(System.getProperty("user.home")))) {
                assertFalse(WorkerUser.canSee(p.resolve(".")), WorkerUser.NAME + " can see " + p);
            }
            try {
                // client mode: specialists, then the pipeline's soft targets (§5.4 ensemble targets as tasks)
                compare(run(SYNTHETIC, root.resolve("a"), data, List.of()),
                        submitClient(cluster, spark, jar, root.resolve("submit-a"), "specialists-synthetic", List.of()),
                        List.of("ensemble.test_accuracy", "generalist.test_accuracy", "ensemble.relative_gain_pct"), true);
                Pipeline p = new Pipeline();
                Runner.Outcome pipeline = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of()),
                        root.resolve("b"), data, false);
                compare(pipeline, submitClient(cluster, spark, jar, root.resolve("submit-b"), "pipeline", List.of()),
                        List.of("ensemble.test_accuracy", "student_ensemble.test_accuracy",
                                "student_generalist.test_accuracy"), false);

                // cluster mode: the driver too runs on a worker, as the worker user, from the jar fetched over HTTP
                compare(run(SYNTHETIC, root.resolve("c"), data, List.of()), submitCluster(cluster, spark, jar, clusterDir),
                        List.of("ensemble.test_accuracy", "generalist.test_accuracy", "ensemble.relative_gain_pct"), true);

                // a worker SIGKILLed while its executor trains: its task reruns on the other worker
                List<String> longer = List.of("specialists.epochs=8");
                Runner.Outcome straight = run(SYNTHETIC, root.resolve("d"), data, longer);
                Path killed = submitClientKillingAWorker(cluster, spark, jar, root.resolve("submit-d"), clusterDir, longer);
                compare(straight, killed,
                        List.of("ensemble.test_accuracy", "generalist.test_accuracy", "ensemble.relative_gain_pct"), true);
                String reruns = RunRecord.readProperties(killed.resolve(RunRecord.PROVENANCE))
                        .get("engine.stage.specialists.reruns");
                assertTrue(reruns != null && Integer.parseInt(reruns) >= 1,
                        "the task lost with worker 1 was not rerun: engine.stage.specialists.reruns=" + reruns);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError(e.getMessage() + "\nexecutors' logs:" + cluster.executorLogTails(30), e);
            }
        }
    }

    private static Runner.Outcome run(SpecialistsExperiment e, Path runs, DataStore data, List<String> sets) {
        return Runner.run(e, Runner.resolve(e, Scale.TINY, null, sets), runs, data, false);
    }

    /** The figures and the specialists' model hashes of an in-process run and of a submitted one. */
    private static void compare(Runner.Outcome local, Path submitted, List<String> figures, boolean specialists) {
        SortedMap<String, String> result = RunRecord.readProperties(submitted.resolve(RunRecord.RESULT));
        SortedMap<String, String> p = RunRecord.readProperties(submitted.resolve(RunRecord.PROVENANCE));
        SortedMap<String, String> q = RunRecord.readProperties(local.dir().resolve(RunRecord.PROVENANCE));
        assertEquals("spark", p.get("engine.kind"), submitted.toString());
        for (String k : figures) {
            assertEquals(local.result().get(k), result.get(k), k + " of " + submitted);
        }
        if (specialists) {
            int n = Integer.parseInt(local.result().get("clustering.specialists"));
            for (int m = 0; m < n; m++) {
                String key = "model.specialist" + m + ".sha256";
                assertEquals(q.get(key), p.get(key), key + " of " + submitted);
            }
        }
    }

    /** SparkSubmit's command line on the stock Spark class path, with our JVM flags and the BLAS threads of the test JVM. */
    private static ChildProcess submit(String spark, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM);
        cmd.addAll(List.of("-Xmx2g", "-cp", spark.replace(':', File.pathSeparatorChar),
                "org.apache.spark.deploy.SparkSubmit"));
        cmd.addAll(args);
        return ChildProcess.of(cmd).mergeErrors().environment(env -> {
            env.put("OMP_NUM_THREADS", "1");
            env.put("MKL_NUM_THREADS", "1");
            env.put("MKL_THREADING_LAYER", "INTEL");
            env.put("SPARK_LOCAL_IP", "127.0.0.1");
            env.remove("LD_PRELOAD");  // the driver loads Intel's OpenMP runtime from the jar, as a worker does
        });
    }

    private static List<String> runArgs(String master, String mode, String jar, String experiment, String runsDir,
                                        List<String> sets) {
        List<String> a = new ArrayList<>(List.of("--master", master, "--deploy-mode", mode, "--class",
                "darkknowledge.experiments.Main", "--conf", "spark.driver.host=127.0.0.1", jar, "run", experiment,
                "--scale", "tiny", "--runs-dir", runsDir, "--set", "engine.kind=spark", "--set", "engine.workers=2",
                "--set", "engine.timeoutSeconds=180",
                // every epoch checkpointed: the worker kill below waits for a specialist's first checkpoint
                "--set", "engine.checkpointSeconds=0"));
        for (String s : sets) {
            a.addAll(List.of("--set", s));
        }
        return a;
    }

    private static Path submitClient(LocalCluster cluster, String spark, Path jar, Path runs, String experiment,
                                     List<String> sets) {
        ChildProcess.Result r = submit(spark, runArgs(cluster.masterUrl(), "client", jar.toString(), experiment,
                runs.toString(), sets)).env("DK_DATA_DIR", DataStore.defaultCacheDir().toString()).timeout(RUN).run();
        assertEquals(0, r.exitCode(), "spark-submit --deploy-mode client failed:\n" + ChildProcess.tail(r.output()));
        return onlyRun(runs);
    }

    /**
     * Submits a run and SIGKILLs worker 1 (and its executor) while that executor is training a
     * specialist: once that specialist's first-epoch checkpoint is in the executor's scratch space
     * and its done record is not in the run yet, so the task is certainly lost and must be rerun on
     * the other worker (a kill at an arbitrary moment, such as when the first done record appears,
     * could fall between two of that executor's tasks).
     */
    private static Path submitClientKillingAWorker(LocalCluster cluster, String spark, Path jar, Path runs,
                                                   Path clusterDir, List<String> sets) throws Exception {
        Path log = runs.resolveSibling("submit-d.log");
        Path work = clusterDir.resolve("workers/worker-1/work");
        List<Path> earlierApps = applications(work);
        try (ChildProcess.Running driver = submit(spark, runArgs(cluster.masterUrl(), "client", jar.toString(),
                "specialists-synthetic", runs.toString(), sets)).logTo(log).start()) {
            long deadline = System.nanoTime() + RUN.toNanos();
            while (specialistInFirstEpochs(work, earlierApps, runs) == null) {
                assertTrue(driver.isAlive(), "the driver ended before worker 1 trained a specialist:\n" + Files.readString(log));
                assertTrue(System.nanoTime() < deadline, "worker 1 trained no specialist within " + RUN);
                Thread.sleep(10);
            }
            cluster.killWorker(1);
            assertEquals(0, driver.await(RUN), "the run did not survive the lost worker:\n" + Files.readString(log));
        }
        return onlyRun(runs);
    }

    /** The worker's application directories (its executors' working directories are inside). */
    private static List<Path> applications(Path work) throws Exception {
        if (!Files.isDirectory(work)) {
            return List.of();
        }
        try (Stream<Path> apps = Files.list(work)) {
            return apps.filter(a -> a.getFileName().toString().startsWith("app-")).toList();
        }
    }

    /**
     * A specialist that an executor of a new application under {@code work} has trained one epoch of
     * (its checkpoint in the executor's scratch space; at least one more epoch follows) and whose done
     * record is not in the run under {@code runs} yet; null if none. Files come and go while we look:
     * a vanished one is none.
     */
    private static String specialistInFirstEpochs(Path work, List<Path> earlierApps, Path runs) throws Exception {
        for (Path app : applications(work)) {
            if (earlierApps.contains(app)) {
                continue;
            }
            List<Path> states;
            try (Stream<Path> files = Files.walk(app)) {
                states = files.filter(f -> f.getFileName().toString().endsWith(".ckpt.properties")).toList();
            } catch (java.io.UncheckedIOException | java.io.IOException e) {
                continue;
            }
            for (Path state : states) {
                String model = state.getFileName().toString().replace(".ckpt.properties", "");
                java.util.Properties p = new java.util.Properties();
                try (var in = Files.newInputStream(state)) {
                    p.load(in);
                } catch (java.io.IOException e) {
                    continue;
                }
                if ("1".equals(p.getProperty("epochs_done")) && !done(runs, model)) {
                    return model;
                }
            }
        }
        return null;
    }

    private static boolean done(Path runs, String model) throws Exception {
        if (!Files.isDirectory(runs)) {
            return false;
        }
        try (Stream<Path> files = Files.walk(runs)) {
            return files.anyMatch(f -> f.getFileName().toString().equals(model + ".done.properties"));
        } catch (java.io.UncheckedIOException e) {
            return true;  // a file vanished while we walked: look again rather than kill now
        }
    }

    /**
     * Cluster mode: the jar served on 127.0.0.1 (the workers see no file of ours), the run's record in
     * the driver's work directory. The cluster's directory is reused between test runs, so only a
     * driver directory that is new counts; and the driver holds a worker's core until it exits, so
     * this returns once the worker says it has (the next submission would find no free core).
     */
    private static Path submitCluster(LocalCluster cluster, String spark, Path jar, Path clusterDir) throws Exception {
        Path workers = clusterDir.resolve("workers");
        List<Path> earlier = drivers(workers);
        HttpServer server = SimpleFileServer.createFileServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                jar.getParent().toAbsolutePath(), SimpleFileServer.OutputLevel.NONE);
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/" + jar.getFileName();
            List<String> args = new ArrayList<>(List.of("--conf", "spark.driver.extraJavaOptions=" + String.join(" ", JVM),
                    "--conf", "spark.driver.memory=1g", "--conf", "spark.driver.cores=1"));
            args.addAll(runArgs(cluster.masterUrl(), "cluster", url, "specialists-synthetic", "runs",
                    List.of("engine.workers=1")));
            ChildProcess.Result r = submit(spark, args).environment(env -> {
                // what the driver's JVM on the worker gets (the legacy client passes its environment): no path of ours
                env.keySet().retainAll(List.of("PATH", "JAVA_HOME", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "MKL_THREADING_LAYER", "SPARK_LOCAL_IP"));
            }).timeout(Duration.ofMinutes(2)).run();
            assertEquals(0, r.exitCode(), "spark-submit --deploy-mode cluster failed:\n" + ChildProcess.tail(r.output()));
            long deadline = System.nanoTime() + RUN.toNanos();
            Path result;
            while ((result = find(workers, earlier, RunRecord.RESULT)) == null) {
                assertTrue(System.nanoTime() < deadline, "no result.properties from the cluster-mode driver within " + RUN
                        + "; its log: " + driverLog(workers, earlier));
                TimeUnit.SECONDS.sleep(1);
            }
            Path driver = result;
            while (!driver.getFileName().toString().startsWith("driver-")) {
                driver = driver.getParent();
            }
            // the worker's "Driver <id> exited successfully" (or "exited with failure", "was killed by user")
            String exited = "Driver " + driver.getFileName() + " ";
            while (!workerLogsSay(clusterDir, exited)) {
                assertTrue(System.nanoTime() < deadline, "the cluster-mode driver " + driver.getFileName()
                        + " wrote its result but did not exit within " + RUN + "; its log: " + driverLog(workers, earlier));
                TimeUnit.SECONDS.sleep(1);
            }
            return result.getParent();
        } finally {
            server.stop(0);
        }
    }

    /** The drivers' directories ({@code workers/worker-N/work/driver-...}) there are now. */
    private static List<Path> drivers(Path workers) throws Exception {
        if (!Files.isDirectory(workers)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.walk(workers, 3)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("driver-")).toList();
        }
    }

    /** A file {@code name} inside a driver's directory that is not one of {@code earlier}; null if none yet. */
    private static Path find(Path workers, List<Path> earlier, String name) throws Exception {
        for (Path driver : drivers(workers)) {
            if (earlier.contains(driver)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(driver)) {
                Path found = files.filter(f -> f.getFileName().toString().equals(name)).findFirst().orElse(null);
                if (found != null) {
                    return found;
                }
            } catch (java.io.UncheckedIOException e) {
                // a file vanished while we walked: look again later
            }
        }
        return null;
    }

    private static boolean workerLogsSay(Path clusterDir, String text) throws Exception {
        try (Stream<Path> logs = Files.list(clusterDir.resolve("logs"))) {
            for (Path log : logs.filter(l -> l.getFileName().toString().startsWith("worker-")).toList()) {
                if (new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.ISO_8859_1).contains(text)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String driverLog(Path workers, List<Path> earlier) throws Exception {
        Path log = find(workers, earlier, "stderr");
        return log == null ? "(none)" : ChildProcess.tail(Files.readString(log));
    }

    private static Path onlyRun(Path runs) {
        try (Stream<Path> dirs = Files.list(runs)) {
            Path experiment = dirs.findFirst().orElseThrow(() -> new AssertionError("no run under " + runs));
            try (Stream<Path> ids = Files.list(experiment)) {
                // a run's directory has its config (the pipeline's cached stages sit beside the runs)
                List<Path> all = ids.filter(d -> Files.isRegularFile(d.resolve(RunRecord.CONFIG))).toList();
                assertEquals(1, all.size(), "runs: " + all);
                return all.get(0);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

}
