package darkknowledge.core.engine;

import java.io.Serializable;

/**
 * A task's result with where and how it ran: what an engine brings back to the driver.
 *
 * @param seconds wall time of the task's {@code run} on the executor
 */
public record TaskOutcome<R extends Serializable>(int taskIndex, R result, String executorId, String host, int attempt,
                                                  double seconds) implements Serializable {

    /**
     * Runs {@code task} in {@code ctx}: any failure becomes a
     * {@link TaskFailedException} naming stage, task, executor and the task's own message. Both engines
     * run tasks through here, so a task fails the same way in process and on a cluster.
     */
    public static <R extends Serializable> TaskOutcome<R> run(Task<R> task, TaskContext ctx) {
        long t0 = System.nanoTime();
        try {
            R r = task.run(ctx);
            return new TaskOutcome<>(ctx.taskIndex(), r, ctx.executorId(), ctx.host(), ctx.attempt(),
                    (System.nanoTime() - t0) / 1e9);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskFailedException(ctx.stage(), ctx.taskIndex(), task.label(), ctx.executorId(), ctx.host(), e);
        } catch (Exception | LinkageError e) {
            // LinkageError: a class missing on the executor (a jar not shipped) must name the task too.
            if (e instanceof TaskFailedException tf) {
                throw tf;
            }
            throw new TaskFailedException(ctx.stage(), ctx.taskIndex(), task.label(), ctx.executorId(), ctx.host(), e);
        }
    }
}
