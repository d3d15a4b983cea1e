package darkknowledge.core.engine;

/**
 * A task's input or the shared run directory cannot be seen from the executor that runs the task:
 * usually storage that is not mounted on every machine of the cluster. The message names the path,
 * the executor and its host.
 */
public final class TaskInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TaskInputException(String message) {
        super(message);
    }
}
