package darkknowledge.core.engine;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Runs the independent tasks of a stage and returns their results in task order. Implementations:
 * {@link LocalEngine} (a thread pool in this JVM) and the Spark engine of module {@code spark}; a
 * stage never knows which one it has.
 */
public interface Engine extends AutoCloseable {
    /**
     * Runs every task and returns its result at the task's index. A task that fails (after the
     * engine's retries) fails the whole call with a {@link TaskFailedException} naming the stage, the
     * task, the executor and the task's own message; the other tasks' outputs already written stay.
     *
     * @param stage a short name for logs, errors and provenance ({@code specialists})
     */
    <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks);

    /**
     * What ran the stages, for provenance: {@code kind}, {@code master}, the executors (id, host,
     * cores) and, per stage, which executors ran its tasks. Keys are flat and stable.
     */
    Map<String, String> describe();

    @Override
    void close();
}
