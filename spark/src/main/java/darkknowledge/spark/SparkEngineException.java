package darkknowledge.spark;

/** The Spark engine cannot start or run a stage for a reason that is not a task's own (master, executors). */
public final class SparkEngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SparkEngineException(String message) {
        super(message);
    }

    public SparkEngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
