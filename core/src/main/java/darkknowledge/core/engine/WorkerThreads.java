package darkknowledge.core.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * What a worker thread of an in-process engine does before its first task so that the engine's
 * {@code workers} threads share the process's cores instead of each forking a full team of native
 * threads. Implementations are found with {@link ServiceLoader} ({@code core} cannot see the native
 * libraries: the {@code kernels} module's {@code NativeThreads} limits each worker's OpenMP and MKL
 * teams to {@code OMP_NUM_THREADS / workers}).
 *
 * <p>Why: two engine threads each calling oneDNN with a team of {@code OMP_NUM_THREADS = 2} put four
 * spinning OpenMP threads on two cores. Measured on a 2-core AMD EPYC Zen 5, the specialists of
 * {@code specialists-glyphs --scale small} trained 2,275 and 2,046 examples/s so, 3,720 and 4,186 with
 * the workers sharing ({@code docs/performance.md}, "Engine workers and native threads").
 */
public interface WorkerThreads {
    /**
     * Called on a new worker thread, one of {@code workers} threads of one engine in this process;
     * returns what it set, in words for provenance, or "" when it left the thread as it was.
     */
    String share(int workers);

    /**
     * Called on the thread that runs a stage of tasks on {@code workers} worker threads, before they
     * start: the process-wide settings of the stage (a library whose thread count is one for the whole
     * process). Returns what puts them back, run when the stage ends.
     */
    default Runnable stage(int workers) {
        return () -> { };
    }

    /** {@link #stage} of every {@link WorkerThreads} on the classpath; the returned action puts all back, in reverse order. */
    static Runnable stageAll(int workers) {
        List<Runnable> restore = new ArrayList<>();
        for (WorkerThreads w : ServiceLoader.load(WorkerThreads.class)) {
            restore.add(0, w.stage(workers));
        }
        return () -> restore.forEach(Runnable::run);
    }

    /**
     * Runs every {@link WorkerThreads} on the classpath on the calling thread; what they set, joined
     * with "; " ("" when none set anything). A provider that fails names itself in the exception.
     */
    static String shareAll(int workers) {
        List<String> set = new ArrayList<>();
        for (WorkerThreads w : ServiceLoader.load(WorkerThreads.class)) {
            String s;
            try {
                s = w.share(workers);
            } catch (RuntimeException e) {
                throw new IllegalStateException("engine worker set-up " + w.getClass().getName() + " failed for "
                        + workers + " workers: " + e.getMessage(), e);
            }
            if (!s.isEmpty()) {
                set.add(s);
            }
        }
        return String.join("; ", set);
    }
}
