package darkknowledge.core.engine;

import java.io.Serializable;

/**
 * One independent piece of a stage: a small serialisable record that says what to do and where its
 * inputs are (paths on storage every executor sees, seeds, config values), never a captured object
 * graph. It may run in another JVM on another machine, more than once (a lost executor's task is
 * rerun elsewhere), so running it twice must give the same result and the same output files.
 *
 * @param <R> its small result (a path, a hash, a few metrics), sent back to the driver
 */
@FunctionalInterface
public interface Task<R extends Serializable> extends Serializable {
    R run(TaskContext ctx) throws Exception;

    /** A short name for logs and errors; records print their components, which is usually enough. */
    default String label() {
        return toString();
    }
}
