package darkknowledge.kernels;

import darkknowledge.core.engine.WorkerThreads;

/**
 * Each engine worker's share of the native thread teams: on a worker thread, one of {@code w}, the
 * OpenMP teams it forks (oneDNN's convolutions, ND4J's loops, MKL's Intel threading layer) and MKL's
 * products get {@code max(1, T / w)} threads, {@code T} being the runtime's team size
 * ({@code OMP_NUM_THREADS}), so that {@code w} workers fork about {@code T} threads in all, not
 * {@code w·T}. OpenBLAS keeps its one pool (its thread count is process-wide): callers take turns on it.
 *
 * <p>Measured ({@code docs/performance.md}, "Engine workers and native threads"): the specialists of
 * {@code specialists-glyphs --scale small} on two workers of a 2-core AMD EPYC Zen 5 trained 2,961
 * examples/s with a team of 2 per worker (four spinning threads on two cores) and 4,401 with the
 * environment's {@code OMP_NUM_THREADS=1}, which this class reaches per worker without starving
 * the rest of the process (the generalist, trained on the main thread, keeps both cores).
 * {@code -D}{@value #PROPERTY}{@code =false} keeps the full teams, for side-by-side measurements.
 */
public final class NativeThreads implements WorkerThreads {
    /** The system property that turns the sharing off ({@code false}): every worker then forks full teams, as before. */
    public static final String PROPERTY = "dk.workerThreads.share";

    /** For {@link java.util.ServiceLoader}. */
    public NativeThreads() {
    }

    @Override
    public String share(int workers) {
        if (workers <= 1 || "false".equals(System.getProperty(PROPERTY))) {
            return "";
        }
        int total = IntelOpenMp.maxThreads();
        if (total < 0) {
            return "";  // no OpenMP runtime in this process: nothing forks teams
        }
        int each = perWorker(total, workers);
        if (each == total) {
            return "";
        }
        IntelOpenMp.setMaxThreads(each);
        boolean mkl = Mkl.setThreadsLocal(each);
        return "OpenMP" + (mkl ? " and MKL" : "") + " teams of " + each + " per worker (" + total
                + " threads / " + workers + " workers)";
    }

    /**
     * For a stage on {@code workers} threads: the libraries whose thread count is one for the whole
     * process get a worker's share too, ND4J's own loops (its {@code Environment}'s master
     * threads, the team its parallel loops fork by default) and OpenBLAS's pool when it is loaded; put back as they were when the stage ends.
     */
    @Override
    public Runnable stage(int workers) {
        if (workers <= 1 || "false".equals(System.getProperty(PROPERTY))) {
            return () -> { };
        }
        int total = IntelOpenMp.maxThreads();
        if (total < 0 || perWorker(total, workers) == total) {
            // one OpenMP thread asked for (OMP_NUM_THREADS=1): nothing forks teams to share, and the
            // process stays as its user set it (a one-thread run is bit-identical to a one-core executor's)
            return () -> { };
        }
        org.nd4j.linalg.factory.Environment env = org.nd4j.linalg.factory.Nd4j.getEnvironment();
        int master = env.maxMasterThreads();  // its loops' default team; setMaxThreads is a no-op in 1.0.0-M2.1
        env.setMaxMasterThreads(perWorker(Math.max(1, master), workers));
        int openblas = OpenBlas.loadedThreads();
        if (openblas > 0) {
            OpenBlas.setThreads(perWorker(openblas, workers));
        }
        return () -> {
            env.setMaxMasterThreads(master);
            if (openblas > 0) {
                OpenBlas.setThreads(openblas);
            }
        };
    }

    /** {@code max(1, total / workers)}: a worker's team out of {@code total} threads. */
    static int perWorker(int total, int workers) {
        if (total < 1 || workers < 1) {
            throw new IllegalArgumentException("threads and workers must be >= 1, got " + total + " and " + workers);
        }
        return Math.max(1, total / workers);
    }
}
