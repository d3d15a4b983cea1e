package darkknowledge.core.engine;

import java.io.Serializable;

/**
 * One independent piece of a stage: a small serialisable record that says what to do (seeds, config
 * values) with its large inputs as {@link SharedBytes} handles the engine ships, never a captured
 * object graph and never a path that only the driver's machine has. It may run in another JVM on
 * another machine, more than once (a lost executor's task is rerun elsewhere), so running it twice
 * must give the same result. Its outputs (a model's bytes, a slice of soft targets) come back in its
 * result, and the driver writes them into the run directory.
 *
 * @param <R> its result (figures, hashes, the bytes of its outputs), sent back to the driver
 */
@FunctionalInterface
public interface Task<R extends Serializable> extends Serializable {
    R run(TaskContext ctx) throws Exception;

    /** A short name for logs and errors; records print their components, which is usually enough. */
    default String label() {
        return toString();
    }
}
