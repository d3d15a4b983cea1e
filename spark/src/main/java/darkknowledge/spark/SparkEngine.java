package darkknowledge.spark;

import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.SharedBytes;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskFailedException;
import darkknowledge.core.engine.TaskOutcome;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.SimpleFutureAction;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkExecutorInfo;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stage's tasks on Apache Spark: the task list is parallelised with one partition per task,
 * each partition runs its task on some executor, and each result comes back to the driver as soon as
 * its task finishes (the stage's {@code onEach} writes its outputs into the run directory then).
 * Large inputs travel as broadcasts ({@link #share}); large outputs come back inside the results.
 * Nothing requires a file system shared by the driver and the executors. A task whose executor is
 * lost (a killed worker) is rerun elsewhere, up to {@code engine.taskRetries} times
 * ({@code spark.task.maxFailures}).
 *
 * <p>Executors get our JVM flags (Spark's {@code --add-opens}, ND4J's native access, headless),
 * {@code OMP_NUM_THREADS = MKL_NUM_THREADS = engine.executorCores}, the driver's MKL threading layer and
 * BLAS choice; their native libraries (Intel's OpenMP runtime, oneDNN, OpenBLAS) come from their own
 * class path ({@link darkknowledge.kernels.NativeLibraries#prepare}), never from a driver's path. So
 * a task computes what it computes in process: with one core per executor a trained model is
 * bit-identical to one trained by {@link darkknowledge.core.engine.LocalEngine}. Any {@code spark.*}
 * system property of the driver overrides the defaults set here: {@code spark-submit}'s
 * {@code --master} and {@code --jars} (then {@code engine.master} is ignored and the application's
 * jars are Spark's business), or {@code -Dspark.driver.host=10.0.0.5} on a real cluster.
 */
public final class SparkEngine implements Engine {
    private static final Logger LOG = LoggerFactory.getLogger(SparkEngine.class);

    /** Spark's own flags on Java 17+ plus ours (see the parent pom's surefire argLine and ./dk). */
    static final List<String> JVM_FLAGS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "--add-modules=jdk.incubator.vector",
            "-Djava.awt.headless=true");

    /** Driver system properties that change what a task computes: passed on to executors (never a path). */
    private static final List<String> PASSED_PROPERTIES = List.of("org.bytedeco.openblas.load",
            darkknowledge.kernels.Gemm.PROPERTY);

    private final EngineConfig config;
    private final Path runDir;
    private final JavaSparkContext sc;
    private final Path shipDir;
    private final SortedMap<String, String> stages = new TreeMap<>();
    /** The ids of the broadcasts {@link #share} made and {@link #release} has not destroyed. */
    private final java.util.Set<Long> live = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Connects to {@code config.master()} and, on a cluster, waits until {@code config.workers()}
     * executors have registered. An unreachable master or a cluster without executors is an error
     * naming the master after {@code config.timeoutSeconds()}, never a hang.
     */
    public SparkEngine(EngineConfig config, Path runDir) {
        String submitted = System.getProperty("spark.master");
        if (submitted != null && !submitted.isBlank() && !submitted.equals(config.master())) {
            LOG.info("spark.master={} (spark-submit's --master) overrides engine.master={}", submitted, config.master());
            config = new EngineConfig(config.kind(), submitted, config.workers(), config.executorCores(),
                    config.executorMemory(), config.taskRetries(), config.timeoutSeconds(), config.checkpointSeconds());
        }
        this.config = config;
        this.runDir = runDir.toAbsolutePath().normalize();
        requireOpenedPackages();
        if (config.standaloneMaster()) {
            requireReachable(config.master(), config.timeoutSeconds());
        }
        SparkConf conf = new SparkConf(true)
                .setMaster(config.master())
                .setAppName("dark-knowledge " + this.runDir.getFileName());
        String flags = String.join(" ", JVM_FLAGS) + passedProperties();
        conf.setIfMissing("spark.executor.extraJavaOptions", flags);
        conf.setIfMissing("spark.executor.cores", String.valueOf(config.executorCores()));
        conf.setIfMissing("spark.executor.memory", config.executorMemory());
        conf.setIfMissing("spark.cores.max", String.valueOf(config.workers() * config.executorCores()));
        conf.setIfMissing("spark.task.maxFailures", String.valueOf(config.taskRetries() + 1));
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", String.valueOf(config.executorCores()));
        conf.setIfMissing("spark.executorEnv.MKL_NUM_THREADS", String.valueOf(config.executorCores()));
        // MKL 2025 needs Intel's OpenMP runtime global in every JVM that multiplies (IntelOpenMp): each
        // executor loads it from its own class path before its first task (RunPartition), no driver path
        String layer = System.getenv("MKL_THREADING_LAYER");
        conf.setIfMissing("spark.executorEnv.MKL_THREADING_LAYER", layer != null ? layer : "INTEL");
        // A task has no preferred place (its inputs are broadcast): start it on any free slot.
        conf.setIfMissing("spark.locality.wait", "0s");
        conf.setIfMissing("spark.ui.enabled", "false");
        if (config.localMaster() || loopbackMaster(config.master())) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        try {
            this.shipDir = Files.createTempDirectory("dk-spark-jars-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the application's jars", e);
        }
        if (conf.contains("spark.jars") && !conf.get("spark.jars").isBlank()) {
            LOG.info("the application's jars are spark-submit's: {}", conf.get("spark.jars"));
        } else if (!config.localMaster()) {
            List<String> jars = ApplicationJars.of(System.getProperty("java.class.path", ""), shipDir);
            LOG.info("shipping {} application jar(s) to the executors: {}", jars.size(), jars);
            conf.setJars(jars.toArray(new String[0]));
        }
        this.sc = new JavaSparkContext(conf);
        if (!config.localMaster()) {
            try {
                awaitExecutors();
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    /**
     * Spark reflects into java.base; without the {@code --add-opens} flags it fails deep inside its
     * start-up. Say which flags this JVM lacks instead.
     */
    static void requireOpenedPackages() {
        Module base = Object.class.getModule();
        Module us = SparkEngine.class.getModule();
        List<String> missing = new ArrayList<>();
        for (String flag : JVM_FLAGS) {
            if (flag.startsWith("--add-opens=java.base/")) {
                String pkg = flag.substring("--add-opens=java.base/".length(), flag.lastIndexOf('='));
                if (!base.isOpen(pkg, us)) {
                    missing.add(flag);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new SparkEngineException("engine.kind=spark needs this JVM started with " + String.join(" ", missing)
                    + " (Spark reflects into java.base; ./dk and the tests pass these flags)");
        }
    }

    private static String passedProperties() {
        StringBuilder sb = new StringBuilder();
        // the library our kernels' products run on, as decided here: an executor must not probe again
        String blas = darkknowledge.kernels.Gemm.decidedChoice();
        if (blas != null && System.getProperty(darkknowledge.kernels.Gemm.PROPERTY) == null) {
            sb.append(" -D").append(darkknowledge.kernels.Gemm.PROPERTY).append('=').append(blas);
        }
        for (String key : PASSED_PROPERTIES) {
            String v = System.getProperty(key);
            if (v != null && !v.isBlank() && !v.contains(" ")) {
                sb.append(" -D").append(key).append('=').append(v);
            }
        }
        return sb.toString();
    }

    static boolean loopbackMaster(String master) {
        if (!master.startsWith("spark://")) {
            return false;
        }
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
            if (!host.equals("localhost") && !host.startsWith("127.")) {
                return false;
            }
        }
        return true;
    }

    /** Fails naming the master URL unless one of its addresses accepts a connection within the timeout. */
    static void requireReachable(String master, int timeoutSeconds) {
        List<String> why = new ArrayList<>();
        for (String hostPort : master.substring("spark://".length()).split(",")) {
            URI u = URI.create("spark://" + hostPort);
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(u.getHost(), u.getPort()), timeoutSeconds * 1000);
                return;
            } catch (IOException e) {
                why.add(hostPort + ": " + e.getMessage());
            }
        }
        throw new SparkEngineException("engine.master=" + master + ": no Spark master answers within "
                + timeoutSeconds + " s (" + String.join("; ", why) + "). Start one (./dk cluster start) or fix the URL.");
    }

    private void awaitExecutors() {
        long deadline = System.nanoTime() + config.timeoutSeconds() * 1_000_000_000L;
        int seen = 0;
        while (System.nanoTime() < deadline) {
            if (sc.sc().isStopped()) {
                throw new SparkEngineException("engine.master=" + config.master()
                        + ": the Spark application was stopped while waiting for executors (see the log above)");
            }
            seen = executors().size();
            if (seen >= config.workers()) {
                return;
            }
            sleep(200);
        }
        if (seen == 0) {
            throw new SparkEngineException("engine.master=" + config.master() + ": no executor registered within "
                    + config.timeoutSeconds() + " s. Are workers running, with engine.executorCores="
                    + config.executorCores() + " free cores and engine.executorMemory=" + config.executorMemory()
                    + " free memory each?");
        }
        LOG.warn("{}: {} of engine.workers={} executors registered within {} s; running on those",
                config.master(), seen, config.workers(), config.timeoutSeconds());
    }

    /** The executors (not the driver) as host:port of their block managers. */
    private List<String> executors() {
        var driver = SparkEnv.get().blockManager().blockManagerId();
        String self = driver.host() + ":" + driver.port();
        List<String> out = new ArrayList<>();
        for (SparkExecutorInfo e : sc.statusTracker().getExecutorInfos()) {
            String id = e.host() + ":" + e.port();
            if (!id.equals(self)) {
                out.add(id);
            }
        }
        out.sort(null);
        return out;
    }

    /** A task and its index, as one partition's only element. */
    record Indexed<R extends Serializable>(int index, Task<R> task) implements Serializable {
    }

    /**
     * Runs a partition's one task on an executor; what Spark serialises is this small object and the
     * task record (whose large inputs are broadcast handles).
     */
    static final class RunPartition<R extends Serializable>
            extends scala.runtime.AbstractFunction1<scala.collection.Iterator<Indexed<R>>, TaskOutcome<R>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String stage;
        private final String runDir;
        private final int cores;

        RunPartition(String stage, String runDir, int cores) {
            this.stage = stage;
            this.runDir = runDir;
            this.cores = cores;
        }

        @Override
        public TaskOutcome<R> apply(scala.collection.Iterator<Indexed<R>> partition) {
            Indexed<R> t = partition.next();
            SparkEnv env = SparkEnv.get();
            String executor = env.executorId();
            String host = env.blockManager().blockManagerId().host();
            int attempt = org.apache.spark.TaskContext.get().attemptNumber();
            Path scratch;
            try {
                scratch = Files.createDirectories(Path.of(SparkFiles.getRootDirectory(), "dk-scratch", "task-" + t.index()));
            } catch (IOException e) {
                throw new UncheckedIOException("executor " + executor + " (" + host + "): cannot create its scratch directory", e);
            }
            TaskContext ctx = new TaskContext(stage, t.index(), attempt, executor, host, cores, scratch, Path.of(runDir));
            // the executor's own copy of Intel's OpenMP runtime (MKL's threading layer needs it global)
            darkknowledge.kernels.NativeLibraries.prepare();
            return TaskOutcome.run(t.task(), ctx);
        }
    }

    /** Hands each finished task's outcome to the driver thread that waits in {@link #runAll}. */
    private static final class Collect<R extends Serializable>
            extends scala.runtime.AbstractFunction2<Object, TaskOutcome<R>, scala.runtime.BoxedUnit> {
        private final BlockingQueue<TaskOutcome<R>> done;

        Collect(BlockingQueue<TaskOutcome<R>> done) {
            this.done = done;
        }

        @Override
        public scala.runtime.BoxedUnit apply(Object partition, TaskOutcome<R> outcome) {
            done.add(outcome);
            return scala.runtime.BoxedUnit.UNIT;
        }
    }

    /** The job's own result: none (the outcomes come through {@link Collect}). */
    private static final class NoResult extends scala.runtime.AbstractFunction0<Object> {
        @Override
        public Object apply() {
            return null;
        }
    }

    @Override
    public <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks,
                                                   Consumer<? super R> onEach) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        List<Indexed<R>> indexed = new ArrayList<>();
        List<Object> partitions = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            indexed.add(new Indexed<>(i, tasks.get(i)));
            partitions.add(i);
        }
        int cores = config.localMaster() ? 1 : config.executorCores();
        BlockingQueue<TaskOutcome<R>> queue = new LinkedBlockingQueue<>();
        List<TaskOutcome<R>> outcomes = new ArrayList<>();
        sc.setJobGroup("dk-" + stage, "stage " + stage + " (" + tasks.size() + " tasks)", true);
        SimpleFutureAction<Object> job = null;
        try {
            job = sc.sc().submitJob(sc.parallelize(indexed, indexed.size()).rdd(),
                    new RunPartition<R>(stage, runDir.toString(), cores),
                    scala.jdk.javaapi.CollectionConverters.asScala(partitions).toSeq(), new Collect<R>(queue),
                    new NoResult());
            while (outcomes.size() < tasks.size()) {
                TaskOutcome<R> o = queue.poll(200, TimeUnit.MILLISECONDS);
                if (o != null) {
                    outcomes.add(o);
                    onEach.accept(o.result());
                } else if (job.isCompleted() && queue.isEmpty()) {
                    break;  // failed: Await below throws Spark's reason
                }
            }
            scala.concurrent.Await.result(job, scala.concurrent.duration.Duration.Inf());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (job != null) {
                job.cancel();
            }
            throw new SparkEngineException("interrupted while running stage " + stage, e);
        } catch (RuntimeException e) {
            // onEach failed, or Spark's own failure
            if (job != null && !job.isCompleted()) {
                job.cancel();
            }
            throw e instanceof TaskFailedException || e instanceof SparkEngineException ? e : failure(stage, e);
        } catch (Exception e) {
            // Await.result throws Scala's SparkException, checked in Java's eyes but undeclared
            throw failure(stage, e);
        } finally {
            sc.clearJobGroup();
        }
        outcomes.sort(Comparator.comparingInt(TaskOutcome::taskIndex));
        recordPlacement(stage, outcomes);
        List<R> results = new ArrayList<>();
        outcomes.forEach(o -> results.add(o.result()));
        return results;
    }

    /**
     * Broadcasts {@code bytes} (made now, once): each executor fetches them on its first task that
     * asks, from the driver or from executors that have them (Spark's torrent broadcast), and keeps
     * them until {@link #release} or the application's end. Their size and the time to make and broadcast them go into
     * {@link #describe()} ({@code shared.<name>.bytes}, {@code .seconds}).
     */
    @Override
    public SharedBytes share(String name, Supplier<byte[]> bytes) {
        long t0 = System.nanoTime();
        byte[] b = bytes.get();
        Broadcast<byte[]> broadcast = sc.broadcast(b);
        live.add(broadcast.id());
        double seconds = (System.nanoTime() - t0) / 1e9;
        String key = "shared." + name.replaceAll("[^A-Za-z0-9_.-]+", "_");
        synchronized (stages) {
            stages.put(key + ".bytes", String.valueOf(b.length));
            stages.put(key + ".seconds", String.format(java.util.Locale.ROOT, "%.3f", seconds));
        }
        LOG.info("broadcast {}: {} bytes in {} s", name, b.length, String.format(java.util.Locale.ROOT, "%.2f", seconds));
        return new Broadcasted(name, broadcast);
    }

    /** Destroys the broadcast behind {@code shared} (once; a handle of another engine is left alone). */
    @Override
    public void release(SharedBytes shared) {
        if (shared instanceof Broadcasted b && live.remove(b.broadcast().id())) {
            b.broadcast().destroy();
        }
    }

    /** A broadcast's handle, as the tasks carry it. */
    record Broadcasted(String name, Broadcast<byte[]> broadcast) implements SharedBytes {
        @Override
        public byte[] get() {
            return broadcast.value();
        }
    }

    /** The task's own failure when Spark brought it back; otherwise Spark's reason (executors lost). */
    private RuntimeException failure(String stage, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TaskFailedException tf) {
                return new TaskFailedException(tf, e);
            }
        }
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return new SparkEngineException("stage " + stage + " failed on " + config.master() + ": "
                + (nl > 0 ? m.substring(0, nl) : m), e);
    }

    private void recordPlacement(String stage, List<? extends TaskOutcome<?>> outcomes) {
        SortedMap<String, Integer> count = new TreeMap<>();
        int reruns = 0;
        for (TaskOutcome<?> o : outcomes) {
            count.merge(o.executorId() + "@" + o.host(), 1, Integer::sum);
            reruns += o.attempt() > 0 ? 1 : 0;
        }
        StringBuilder sb = new StringBuilder();
        count.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ",").append(k).append(':').append(v));
        synchronized (stages) {
            stages.put("stage." + stage + ".executors", sb.toString());
            stages.put("stage." + stage + ".reruns", String.valueOf(reruns));
        }
    }

    @Override
    public Map<String, String> describe() {
        SortedMap<String, String> d = new TreeMap<>();
        d.put("kind", "spark");
        d.put("master", config.master());
        d.put("spark.version", sc.version());
        d.put("app.id", sc.sc().applicationId());
        List<String> executors = config.localMaster() ? List.of("driver") : executors();
        d.put("executors", String.valueOf(config.localMaster() ? localThreads() : executors.size()));
        d.put("executor.hosts", String.join(",", executors));
        d.put("executor.cores", String.valueOf(config.localMaster() ? 1 : config.executorCores()));
        d.put("executor.memory", config.localMaster() ? "driver" : config.executorMemory());
        d.put("task.maxFailures", sc.getConf().get("spark.task.maxFailures", "?"));
        synchronized (stages) {
            d.putAll(stages);
        }
        return d;
    }

    /** N of local[N] (the default parallelism Spark derived from it). */
    private int localThreads() {
        return sc.defaultParallelism();
    }

    @Override
    public void close() {
        try {
            sc.close();
        } finally {
            try {
                darkknowledge.core.AtomicFiles.deleteTree(shipDir);
            } catch (IOException e) {
                LOG.debug("could not delete {}", shipDir, e);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SparkEngineException("interrupted while waiting for executors", e);
        }
    }
}
