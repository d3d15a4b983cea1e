package darkknowledge.core.engine;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The in-process engine: a fixed pool of {@code workers} threads in this JVM, each an "executor"
 * ({@code local-1} ... {@code local-N}). A task runs once (no retries: an exception here is the
 * task's own, not a lost machine), and the first failure fails the stage. Each worker thread first
 * runs the {@link WorkerThreads} on the classpath, so that the workers share the cores' native thread
 * teams rather than multiply them ({@link #describe} records what they set as {@code worker.threads}).
 */
public final class LocalEngine implements Engine {
    private final int workers;
    private final Path runDir;
    private final ExecutorService pool;
    private final Path scratch;
    private final String host;
    private final ThreadLocal<String> executorId;
    private final SortedMap<String, String> stages = new TreeMap<>();
    /** The number of workers of the engine whose worker thread this is; 0 on any other thread. */
    private static final ThreadLocal<Integer> WORKERS_OF_THIS_THREAD = ThreadLocal.withInitial(() -> 0);
    /** What the first worker thread's {@link WorkerThreads} set ("" = nothing); null before one started. */
    private final AtomicReference<String> workerThreads = new AtomicReference<>();

    public LocalEngine(int workers, Path runDir) {
        if (workers < 1) {
            throw new IllegalArgumentException("engine.workers: must be >= 1, got " + workers);
        }
        this.workers = workers;
        this.runDir = runDir.toAbsolutePath().normalize();
        AtomicInteger next = new AtomicInteger();
        this.executorId = ThreadLocal.withInitial(() -> "local-" + next.incrementAndGet());
        AtomicInteger threads = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(() -> {
                String set;
                try {
                    set = WorkerThreads.shareAll(workers);
                } catch (RuntimeException e) {  // slower, not wrong: the tasks still run, and provenance says so
                    set = "not shared (" + e.getMessage() + ")";
                }
                workerThreads.compareAndSet(null, set);
                WORKERS_OF_THIS_THREAD.set(workers);
                r.run();
            }, "dk-engine-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            this.scratch = Files.createTempDirectory("dk-engine-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the engine's scratch directory", e);
        }
        this.host = hostName();
    }

    /**
     * Whether the calling thread may spread its own work over the cores (a parallel stream): false on
     * a worker of an engine whose workers already take every core (its tasks run side by side, and
     * another thread each would only contend with them), true elsewhere.
     */
    public static boolean mayFork() {
        return WORKERS_OF_THIS_THREAD.get() < Runtime.getRuntime().availableProcessors();
    }

    @Override
    public <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks,
                                                   Consumer<? super R> onEach) {
        Runnable restore = WorkerThreads.stageAll(workers);
        try {
            return runAll(stage, tasks, onEach, new ExecutorCompletionService<>(pool));
        } finally {
            restore.run();
        }
    }

    private <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks,
                                                    Consumer<? super R> onEach,
                                                    ExecutorCompletionService<TaskOutcome<R>> done) {
        List<Future<TaskOutcome<R>>> futures = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            int index = i;
            Task<R> task = tasks.get(i);
            futures.add(done.submit(() -> {
                String id = executorId.get();
                Path dir = Files.createDirectories(scratch.resolve(id));
                return TaskOutcome.run(task, new TaskContext(stage, index, 0, id, host, 1, dir, runDir));
            }));
        }
        List<TaskOutcome<R>> outcomes = new ArrayList<>();
        try {
            for (int i = 0; i < tasks.size(); i++) {
                TaskOutcome<R> o = done.take().get();
                outcomes.add(o);
                onEach.accept(o.result());
            }
        } catch (RuntimeException e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running stage " + stage, e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("stage " + stage + " failed: " + e.getCause(), e.getCause());
        }
        outcomes.sort(Comparator.comparingInt(TaskOutcome::taskIndex));
        synchronized (stages) {
            stages.put("stage." + stage + ".executors", placement(outcomes));
        }
        List<R> results = new ArrayList<>();
        outcomes.forEach(o -> results.add(o.result()));
        return results;
    }

    /** In this JVM the handle holds the supplier: a task that never asks for the bytes never makes them. */
    @Override
    public SharedBytes share(String name, Supplier<byte[]> bytes) {
        return new InProcess(name, bytes);
    }

    /** Bytes made on first use, once; serialised (never by this engine) as the bytes themselves. */
    static final class InProcess implements SharedBytes {
        private static final long serialVersionUID = 1L;
        private final String name;
        private transient Supplier<byte[]> supplier;
        private byte[] bytes;

        InProcess(String name, Supplier<byte[]> supplier) {
            this.name = name;
            this.supplier = supplier;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public synchronized byte[] get() {
            if (bytes == null) {
                bytes = supplier.get();
                supplier = null;
            }
            return bytes;
        }

        private Object writeReplace() {
            get();
            return this;
        }
    }

    /** "local-1:3,local-2:2": how many of a stage's tasks each executor ran. */
    static String placement(List<? extends TaskOutcome<?>> outcomes) {
        SortedMap<String, Integer> count = new TreeMap<>();
        outcomes.forEach(o -> count.merge(o.executorId() + "@" + o.host(), 1, Integer::sum));
        StringBuilder sb = new StringBuilder();
        count.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ",").append(k).append(':').append(v));
        return sb.toString();
    }

    @Override
    public Map<String, String> describe() {
        SortedMap<String, String> d = new TreeMap<>();
        d.put("kind", "local");
        d.put("master", "threads[" + workers + "]");
        d.put("executors", String.valueOf(workers));
        d.put("executor.cores", "1");
        d.put("executor.hosts", host);
        String threads = workerThreads.get();
        if (threads != null) {
            d.put("worker.threads", threads.isEmpty() ? "as the process's" : threads);
        }
        synchronized (stages) {
            d.putAll(stages);
        }
        return d;
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            darkknowledge.core.AtomicFiles.deleteTree(scratch);
        } catch (IOException e) {
            // scratch space only: leaving it behind costs disk, not correctness
        }
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
