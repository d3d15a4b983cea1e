package darkknowledge.core.engine;

import darkknowledge.core.Check;
import java.util.regex.Pattern;

/**
 * Which engine runs the independent tasks of a stage, under keys {@code engine.*}:
 * {@code --set engine.kind=spark --set engine.master=spark://127.0.0.1:7077}.
 *
 * @param kind            {@code local} (threads in this JVM) or {@code spark}
 * @param master          Spark master URL: {@code local[N]}, {@code spark://host:port}, {@code yarn},
 *                        {@code k8s://https://host:port}; ignored by {@code local}
 * @param workers         {@code local}: threads; a Spark cluster: executors to wait for before the
 *                        first stage (and {@code workers × executorCores} cores are asked for)
 * @param executorCores   cores of one executor, which are also its BLAS threads
 *                        ({@code OMP_NUM_THREADS}); 1 makes training bit-identical to one thread in process
 * @param executorMemory  heap of one executor JVM ({@code 1g}, {@code 512m})
 * @param taskRetries     reruns of a failed or lost task before the stage fails (Spark's
 *                        {@code spark.task.maxFailures} = retries + 1)
 * @param timeoutSeconds  how long to wait for a master to answer and for executors to register
 * @param checkpointSeconds a task's model (a specialist) is checkpointed after an epoch only once this
 *                        many seconds of its training have passed since its last checkpoint (0: after
 *                        every epoch). A checkpoint of a 3,755-class conv net is ~110 MB; a specialist's
 *                        epoch is often under a second, and a task rerun from its start reaches the
 *                        same parameters, so writing one per epoch cost more than the training did.
 */
public record EngineConfig(Kind kind, String master, int workers, int executorCores, String executorMemory,
                           int taskRetries, int timeoutSeconds, int checkpointSeconds) {

    /** The engines. */
    public enum Kind { LOCAL, SPARK }

    private static final Pattern LOCAL_MASTER = Pattern.compile("local(\\[(\\d+|\\*)(,\\d+)?])?");
    private static final Pattern STANDALONE = Pattern.compile("spark://[^/:,\\s]+:\\d{1,5}(,[^/:,\\s]+:\\d{1,5})*");
    private static final Pattern MEMORY = Pattern.compile("\\d+[kmgtKMGT]?");

    public EngineConfig {
        Check.that(kind != null, "kind", "must be local or spark");
        Check.notBlank("master", master);
        master = master.trim();
        Check.that(LOCAL_MASTER.matcher(master).matches() || STANDALONE.matcher(master).matches()
                        || master.equals("yarn") || master.startsWith("k8s://"), "master",
                "must be local[N], spark://host:port, yarn or k8s://https://host:port; got '" + master + "'");
        Check.inRange("workers", workers, 1, 4096);
        Check.inRange("executorCores", executorCores, 1, 1024);
        Check.that(executorMemory != null && MEMORY.matcher(executorMemory).matches(), "executorMemory",
                "must be a JVM size such as 1g or 512m; got '" + executorMemory + "'");
        Check.inRange("taskRetries", taskRetries, 0, 100);
        Check.inRange("timeoutSeconds", timeoutSeconds, 1, 3600);
        Check.inRange("checkpointSeconds", checkpointSeconds, 0, 86_400);
    }

    /** Seconds between a task's checkpoints: {@value #CHECKPOINT_SECONDS}. */
    public static final int CHECKPOINT_SECONDS = 30;

    public EngineConfig(Kind kind, String master, int workers, int executorCores, String executorMemory,
                        int taskRetries, int timeoutSeconds) {
        this(kind, master, workers, executorCores, executorMemory, taskRetries, timeoutSeconds, CHECKPOINT_SECONDS);
    }

    /** Two threads in this JVM; the other values are Spark's, kept so that switching kind is one key. */
    public static EngineConfig defaults() {
        return new EngineConfig(Kind.LOCAL, "local[2]", 2, 1, "1g", 3, 60);
    }

    public static EngineConfig local(int workers) {
        return new EngineConfig(Kind.LOCAL, "local[" + workers + "]", workers, 1, "1g", 3, 60);
    }

    public static EngineConfig spark(String master, int workers) {
        return new EngineConfig(Kind.SPARK, master, workers, 1, "1g", 3, 60);
    }

    public boolean localMaster() {
        return LOCAL_MASTER.matcher(master).matches();
    }

    public boolean standaloneMaster() {
        return STANDALONE.matcher(master).matches();
    }

    public EngineConfig withTimeoutSeconds(int seconds) {
        return new EngineConfig(kind, master, workers, executorCores, executorMemory, taskRetries, seconds,
                checkpointSeconds);
    }

    public EngineConfig withTaskRetries(int retries) {
        return new EngineConfig(kind, master, workers, executorCores, executorMemory, retries, timeoutSeconds,
                checkpointSeconds);
    }
}
