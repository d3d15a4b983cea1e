package darkknowledge.core.engine;

/**
 * A task failed (after the engine's retries). The message names the stage, the task, the executor
 * and its host, and carries the task's own message, so the user does not have to dig through an
 * engine's log to learn what went wrong.
 */
public final class TaskFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String stage;
    private final int taskIndex;
    private final String executor;

    public TaskFailedException(String stage, int taskIndex, String task, String executor, String host,
                               Throwable cause) {
        super("stage " + stage + ": task " + taskIndex + " (" + task + ") failed on executor " + executor + " ("
                + host + "): " + describe(cause), cause);
        this.stage = stage;
        this.taskIndex = taskIndex;
        this.executor = executor;
    }

    /** The same failure seen from the driver, whose engine adds its own exception as the cause. */
    public TaskFailedException(TaskFailedException onExecutor, Throwable engineError) {
        super(onExecutor.getMessage(), engineError);
        this.stage = onExecutor.stage;
        this.taskIndex = onExecutor.taskIndex;
        this.executor = onExecutor.executor;
        addSuppressed(onExecutor);
    }

    public String stage() {
        return stage;
    }

    public int taskIndex() {
        return taskIndex;
    }

    public String executor() {
        return executor;
    }

    /** The exception's own message; its class name only when it has none (a bare NPE says little). */
    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }
}
