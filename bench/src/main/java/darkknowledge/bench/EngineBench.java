package darkknowledge.bench;

import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.Engines;
import darkknowledge.core.engine.LocalCluster;
import darkknowledge.core.engine.SharedBytes;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The engines side by side on the same workloads: the in-process pool, Spark at {@code local[2]}, and
 * a standalone cluster of two one-core workers on this machine used with one executor and with two.
 * Each engine is opened once (its executors' start-up is not timed), runs every workload once to warm
 * up (JIT, ND4J's and Spark's start-up) and then {@code repeats} timed times; one SparkContext at a time
 * is all a JVM may hold, so engines are measured one after another. Every run must return what the
 * warm-up returned, and the in-process engines must agree with each other bit for bit, as must the
 * cluster's (in process a task's matrix products use this JVM's BLAS threads, on an executor one: between
 * the two groups the rounding may differ, and whether it does is recorded). Tasks are never retried
 * (a retried task would time two attempts), and each engine's own description (executors, where each
 * stage ran) is kept. For {@code ./dk bench} and {@code EngineBenchTest}.
 */
public final class EngineBench {
    private EngineBench() {
    }

    /** The tasks of one run of a workload, their large inputs shipped through {@code engine} ({@link Engine#share}). */
    @FunctionalInterface
    public interface Tasks<R extends Serializable> {
        List<? extends Task<R>> make(Engine engine, int run);
    }

    /**
     * Independent tasks to time. {@code tasks.make(engine, run)} gives the tasks of one run, shipping their
     * inputs through the engine (timed apart: the shipping cost), ({@code run} is 0 for
     * the warm-up, then 1..repeats, and starts again at 0 on the next engine): a workload whose tasks skip
     * what an earlier run finished (done records) must give every call a directory of its own, e.g. from
     * a counter, never one derived from {@code run} alone.
     *
     * @param identity what must agree between engines (a parameter or output hash), as results also say
     *                 where they ran
     */
    public record Workload<R extends Serializable>(String name, Tasks<R> tasks,
                                                   Function<? super R, ?> identity) {
    }

    /** An engine to measure: the name its rows use and the config that opens it. */
    public record Target(String name, EngineConfig config) {
    }

    /**
     * Wall times of one workload's timed runs on one engine, and the sum of its tasks' own run times
     * (on whichever executor) per run: busy / (wall × executors) is how well the executors were used.
     * Apart from the wall time: the time to ship the run's inputs ({@link Tasks#make}: reading, encoding
     * and broadcasting them), and the bytes of the results that came back (their Java serialisation:
     * models, soft targets).
     */
    public record Timing(String engine, String workload, List<Double> seconds, List<Double> taskSeconds,
                         List<Double> shipSeconds, List<Long> returnedBytes) {
        public Spread wall() {
            return Spread.of(seconds.stream().mapToDouble(Double::doubleValue).toArray());
        }

        public double median() {
            return wall().median();
        }

        /** Median over runs of the summed task times. */
        public double medianTaskSeconds() {
            return Spread.of(taskSeconds.stream().mapToDouble(Double::doubleValue).toArray()).median();
        }

        /** Median over runs of the time to ship the inputs. */
        public double medianShipSeconds() {
            return Spread.of(shipSeconds.stream().mapToDouble(Double::doubleValue).toArray()).median();
        }
    }

    /**
     * Every timing, by workload then engine in the order measured.
     *
     * @param sameResults    every run returned what its warm-up did, the in-process engines agreed bit for
     *                       bit, and so did the cluster's
     * @param disagreements  what differed
     * @param sameAcross     the in-process results also equal the cluster's (expected only when this JVM's
     *                       BLAS uses one thread, as an executor's does); {@code null} without a cluster
     * @param engines        each engine's own description ({@link Engine#describe()}), by engine name
     */
    public record Comparison(Map<String, Map<String, Timing>> timings, boolean sameResults, List<String> disagreements,
                             Boolean sameAcross, Map<String, Map<String, String>> engines) {
        public Timing get(String workload, String engine) {
            Timing t = timings.getOrDefault(workload, Map.of()).get(engine);
            if (t == null) {
                throw new IllegalArgumentException("no timing of " + workload + " on " + engine + " in " + timings.keySet());
            }
            return t;
        }

        /** Median wall time on {@code a} / on {@code b}. */
        public double ratio(String workload, String a, String b) {
            return get(workload, a).median() / get(workload, b).median();
        }
    }

    /** The in-process pool with {@code threads} threads. */
    public static Target pool(int threads) {
        return new Target("pool-" + threads, EngineConfig.local(threads).withTaskRetries(0));
    }

    /** Spark in this JVM with {@code threads} task slots. */
    public static Target sparkLocal(int threads) {
        return new Target("spark-local-" + threads,
                EngineConfig.spark("local[" + threads + "]", threads).withTaskRetries(0));
    }

    /** {@code executors} of {@code cluster}'s one-core workers. */
    public static Target standalone(LocalCluster cluster, int executors) {
        return new Target("standalone-" + executors + "x1",
                EngineConfig.spark(cluster.masterUrl(), executors).withTimeoutSeconds(180).withTaskRetries(0));
    }

    /**
     * Times {@code workloads} on the in-process targets, then on a two-worker one-core standalone cluster
     * started under {@code clusterDir} with {@code classpath}'s jars (scripts/cluster.sh in {@code repo})
     * with one executor and with two; the cluster is stopped afterwards.
     */
    public static Comparison measure(List<Workload<?>> workloads, List<Target> inProcess, Path runDir, Path repo,
                                     Path clusterDir, String classpath, int repeats) {
        Map<String, Map<String, Timing>> timings = new LinkedHashMap<>();
        Map<String, Map<String, List<Object>>> ids = new LinkedHashMap<>();
        Map<String, Map<String, String>> engines = new LinkedHashMap<>();
        List<String> disagreements = new ArrayList<>();
        for (Target t : inProcess) {
            engines.put(t.name(), time(t, workloads, runDir, repeats, timings, ids, disagreements));
        }
        if (clusterDir != null) {
            try (LocalCluster cluster = LocalCluster.start(repo, clusterDir, classpath, 2, 1, "2g")) {
                for (int executors = 1; executors <= 2; executors++) {
                    Target t = standalone(cluster, executors);
                    Map<String, String> d = time(t, workloads, runDir, repeats, timings, ids, disagreements);
                    if (!String.valueOf(executors).equals(d.get("executors"))) {
                        throw new IllegalStateException(t.name() + " ran on " + d.get("executors") + " executor(s), not "
                                + executors + ": its timings would not be what they are called (" + d + ")");
                    }
                    engines.put(t.name(), d);
                }
            }
        }
        List<String> names = inProcess.stream().map(Target::name).toList();
        List<String> across = new ArrayList<>();
        ids.forEach((workload, byEngine) -> {
            // In process a task's products use this JVM's BLAS threads, on the cluster one per executor:
            // results must agree bit for bit within each group; between them they may differ in rounding.
            Map<String, List<Object>> local = new LinkedHashMap<>();
            Map<String, List<Object>> cluster = new LinkedHashMap<>();
            byEngine.forEach((engine, id) -> (names.contains(engine) ? local : cluster).put(engine, id));
            disagreements.addAll(differences(workload, local));
            disagreements.addAll(differences(workload, cluster));
            if (!local.isEmpty() && !cluster.isEmpty()) {
                Map<String, List<Object>> firsts = new LinkedHashMap<>();
                firsts.put(local.keySet().iterator().next(), local.values().iterator().next());
                firsts.put(cluster.keySet().iterator().next(), cluster.values().iterator().next());
                across.addAll(differences(workload, firsts));
            }
        });
        return new Comparison(timings, disagreements.isEmpty(), disagreements,
                clusterDir == null || inProcess.isEmpty() ? null : across.isEmpty(), engines);
    }

    private static List<String> differences(String workload, Map<String, List<Object>> byEngine) {
        List<String> out = new ArrayList<>();
        if (byEngine.isEmpty()) {
            return out;
        }
        Map.Entry<String, List<Object>> first = byEngine.entrySet().iterator().next();
        byEngine.forEach((engine, id) -> {
            if (!id.equals(first.getValue())) {
                out.add(workload + ": " + engine + " returned " + id + ", " + first.getKey() + " " + first.getValue());
            }
        });
        return out;
    }

    /** Times every workload on {@code target}, opened once; returns the engine's description. */
    private static Map<String, String> time(Target target, List<Workload<?>> workloads, Path runDir, int repeats,
                                            Map<String, Map<String, Timing>> timings,
                                            Map<String, Map<String, List<Object>>> ids, List<String> disagreements) {
        Path dir;
        try {
            dir = Files.createDirectories(runDir.resolve(target.name()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + runDir.resolve(target.name()), e);
        }
        try (Engine engine = Engines.open(target.config(), dir)) {
            for (Workload<?> w : workloads) {
                Timing t = time(engine, target.name(), w, repeats, ids, disagreements);
                timings.computeIfAbsent(w.name(), k -> new LinkedHashMap<>()).put(target.name(), t);
            }
            return engine.describe();
        }
    }

    private static <R extends Serializable> Timing time(Engine engine, String name, Workload<R> w, int repeats,
                                                        Map<String, Map<String, List<Object>>> ids,
                                                        List<String> disagreements) {
        List<Double> seconds = new ArrayList<>();
        List<Double> busy = new ArrayList<>();
        List<Double> ship = new ArrayList<>();
        List<Long> returned = new ArrayList<>();
        for (int run = 0; run <= repeats; run++) {
            List<Timed.Result<R>> results;
            double shipped;
            double wall;
            try (Shipments shipments = new Shipments(engine)) {
                long s0 = System.nanoTime();
                List<Timed<R>> tasks = w.tasks().make(shipments, run).stream().map(t -> new Timed<R>(t)).toList();
                shipped = (System.nanoTime() - s0) / 1e9;
                long t0 = System.nanoTime();
                results = engine.runAll(w.name(), tasks);
                wall = (System.nanoTime() - t0) / 1e9;
            }
            List<Object> id = results.stream().map(r -> (Object) w.identity().apply(r.result())).toList();
            if (run == 0) {
                ids.computeIfAbsent(w.name(), k -> new LinkedHashMap<>()).put(name, id);
            } else {
                if (!id.equals(ids.get(w.name()).get(name))) {
                    disagreements.add(w.name() + ": " + name + " run " + run + " returned " + id + ", its warm-up "
                            + ids.get(w.name()).get(name));
                }
                seconds.add(wall);
                busy.add(results.stream().mapToDouble(Timed.Result::seconds).sum());
                ship.add(shipped);
                returned.add(results.stream().mapToLong(Timed.Result::bytes).sum());
            }
        }
        return new Timing(name, w.name(), List.copyOf(seconds), List.copyOf(busy), List.copyOf(ship),
                List.copyOf(returned));
    }

    /**
     * The engine as one run's tasks are made with: what they share is released when the run is over
     * ({@link Engine#release}), since one engine serves every run and would otherwise keep every
     * run's broadcasts to its end.
     */
    private static final class Shipments implements Engine {
        private final Engine engine;
        private final List<SharedBytes> shared = new ArrayList<>();

        Shipments(Engine engine) {
            this.engine = engine;
        }

        @Override
        public <R extends Serializable> List<R> runAll(String stage, List<? extends Task<R>> tasks,
                                                       Consumer<? super R> onEach) {
            return engine.runAll(stage, tasks, onEach);
        }

        @Override
        public SharedBytes share(String name, Supplier<byte[]> bytes) {
            SharedBytes s = engine.share(name, bytes);
            shared.add(s);
            return s;
        }

        @Override
        public Map<String, String> describe() {
            return engine.describe();
        }

        @Override
        public void close() {
            shared.forEach(engine::release);
            shared.clear();
        }
    }

    /** A task that also reports how long it ran where it ran, and the size of its result. */
    record Timed<R extends Serializable>(Task<R> task) implements Task<Timed.Result<R>> {
        record Result<R extends Serializable>(R result, double seconds, long bytes) implements Serializable {
        }

        @Override
        public String label() {
            return task.label();
        }

        @Override
        public Result<R> run(TaskContext ctx) throws Exception {
            long t0 = System.nanoTime();
            R r = task.run(ctx);
            double seconds = (System.nanoTime() - t0) / 1e9;
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(r);
            }
            return new Result<>(r, seconds, bytes.size());
        }
    }
}
