package darkknowledge.core.engine;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

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
    default <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks) {
        return runAll(stage, tasks, r -> { });
    }

    /**
     * As {@link #runAll(String, List)}, handing each result to {@code onEach} on the driver as soon as
     * its task finishes (one at a time, in the order they finish), so that the driver can write a
     * task's outputs into the run directory before the stage is over: a driver killed mid-stage keeps
     * every output written so far. An exception from {@code onEach} fails the stage.
     */
    <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks, Consumer<? super R> onEach);

    /**
     * Makes {@code bytes} available to the tasks of this engine's stages through the returned handle
     * (a task calls {@link SharedBytes#get()}): how a task's large inputs travel without shared
     * storage. In process the supplier may never be called (a task that finds its input already in
     * this JVM does not ask for the bytes); on a cluster it is called once, here.
     *
     * @param name what the bytes are, for logs, errors and provenance
     */
    SharedBytes share(String name, Supplier<byte[]> bytes);

    /**
     * Frees what this engine keeps for {@code shared} (on Spark the broadcast's blocks, on the driver
     * and on every executor that fetched them) once no task will ask for it again; a task that still
     * does fails. Closing the engine frees everything it shared: only an engine that outlives many
     * shipments (a bench's repeated runs) needs this. In process: nothing to free.
     */
    default void release(SharedBytes shared) {
    }

    /**
     * What ran the stages, for provenance: {@code kind}, {@code master}, the executors (id, host,
     * cores) and, per stage, which executors ran its tasks. Keys are flat and stable.
     */
    Map<String, String> describe();

    @Override
    void close();
}
