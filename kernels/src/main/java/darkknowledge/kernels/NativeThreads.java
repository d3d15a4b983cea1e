package darkknowledge.kernels;

import darkknowledge.core.engine.WorkerThreads;

/**
 * Each engine worker's share of the native thread teams: on a worker thread, one of {@code w}, the
 * OpenMP teams it forks (oneDNN's convolutions, ND4J's loops, MKL's Intel threading layer) and MKL's
 * products get {@code max(1, T / w)} threads, {@code T} being the runtime's team size
 * ({@code OMP_NUM_THREADS}), so that {@code w} workers fork about {@code T} threads in all, not
 * {@code w·T}; while a stage runs on the workers, the process-wide pools (ND4J's loops, OpenBLAS)
 * take the same share ({@link #stage}). With {@code T = 1} nothing is touched.
 *
 * <p>Measured ({@code docs/performance.md}, "Engine workers and native threads"): the specialists of
 * {@code specialists-glyphs --scale small} on two workers of a 2-core AMD EPYC Zen 5 trained 2,275 and
 * 2,046 examples/s with full teams (four or more busy threads on two cores) and 3,720 and 4,186
 * shared, two rounds side by side; the generalist, trained on the main thread, keeps both cores.
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
        int total = sharedTeam(workers);
        if (total < 0) {
            return "";
        }
        int each = perWorker(total, workers);
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
        if (sharedTeam(workers) < 0) {
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

    /**
     * The OpenMP team size {@code T} that {@code workers} workers are to share, or -1 when there is
     * nothing to share: one worker, sharing turned off, no OpenMP runtime, or one thread asked for
     * ({@code OMP_NUM_THREADS=1}: the process stays as its user set it, and a one-thread run is
     * bit-identical to a one-core executor's).
     */
    private static int sharedTeam(int workers) {
        if (workers <= 1 || "false".equals(System.getProperty(PROPERTY))) {
            return -1;
        }
        int total = IntelOpenMp.maxThreads();
        return total < 0 || perWorker(total, workers) == total ? -1 : total;
    }

    /** {@code max(1, total / workers)}: a worker's team out of {@code total} threads. */
    static int perWorker(int total, int workers) {
        if (total < 1 || workers < 1) {
            throw new IllegalArgumentException("threads and workers must be >= 1, got " + total + " and " + workers);
        }
        return Math.max(1, total / workers);
    }
}
