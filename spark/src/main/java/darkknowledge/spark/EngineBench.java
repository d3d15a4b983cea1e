package darkknowledge.spark;

import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.LocalEngine;
import darkknowledge.core.engine.Task;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The engines side by side on one list of tasks: the in-process pool with 1 and 2 threads, Spark at
 * {@code local[2]}, and a standalone cluster of two one-core workers on this machine used with one
 * executor and with two. Each engine gets a warm-up run (JIT, ND4J's and Spark's start-up) and then
 * {@code repeats} timed runs; one SparkContext at a time is all a JVM may hold, so engines are measured
 * one after another, each block right after the previous. Every engine must return the same results.
 * For the bench ({@code ./dk bench}) and for {@code EngineBenchTest}.
 */
public final class EngineBench {
    private EngineBench() {
    }

    /** Wall times of one engine's timed runs. */
    public record Timing(String engine, List<Double> seconds) {
        public double median() {
            List<Double> s = new ArrayList<>(seconds);
            s.sort(null);
            int n = s.size();
            return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
        }

        public double min() {
            return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        }

        public double max() {
            return seconds.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        }
    }

    /**
     * The timings and the ratios (of medians).
     *
     * @param poolSpeedup         in-process pool: 1 thread / 2 threads
     * @param sparkLocalOverhead  Spark {@code local[2]} / in-process pool of 2 (goal: at most 1.15)
     * @param executorSpeedup     standalone: one one-core executor / two (goal: at least 1.7)
     * @param sameResults         every engine returned results equal to the 1-thread pool's
     */
    public record Comparison(List<Timing> timings, double poolSpeedup, double sparkLocalOverhead,
                             double executorSpeedup, boolean sameResults) {
    }

    /**
     * Measures {@code tasks} on the four engines. The cluster is started with scripts/cluster.sh under
     * {@code clusterDir} from {@code classpath} (the executors' jars) and stopped afterwards.
     *
     * @param runDir   a directory for each engine's outputs ({@code runDir/<engine>/})
     * @param identity what must agree between engines (a parameter hash), as results also say where they ran
     */
    public static <R extends Serializable> Comparison measure(List<? extends Task<R>> tasks,
                                                              Function<? super R, ?> identity, Path runDir, Path repo,
                                                              Path clusterDir, String classpath, int repeats) {
        List<Timing> timings = new ArrayList<>();
        List<List<R>> results = new ArrayList<>();
        timings.add(time("pool-1", tasks, repeats, results, dir -> new LocalEngine(1, dir), runDir));
        timings.add(time("pool-2", tasks, repeats, results, dir -> new LocalEngine(2, dir), runDir));
        timings.add(time("spark-local-2", tasks, repeats, results,
                dir -> new SparkEngine(EngineConfig.spark("local[2]", 2), dir), runDir));
        try (LocalCluster cluster = LocalCluster.start(repo, clusterDir, classpath, 2, 1, "1g")) {
            timings.add(time("standalone-1x1", tasks, repeats, results,
                    dir -> new SparkEngine(EngineConfig.spark(cluster.masterUrl(), 1).withTimeoutSeconds(180), dir),
                    runDir));
            timings.add(time("standalone-2x1", tasks, repeats, results,
                    dir -> new SparkEngine(EngineConfig.spark(cluster.masterUrl(), 2).withTimeoutSeconds(180), dir),
                    runDir));
        }
        List<List<Object>> ids = results.stream().map(r -> r.stream().map(x -> (Object) identity.apply(x)).toList()).toList();
        boolean same = ids.stream().allMatch(r -> r.equals(ids.get(0)));
        return new Comparison(timings, timings.get(0).median() / timings.get(1).median(),
                timings.get(2).median() / timings.get(1).median(), timings.get(3).median() / timings.get(4).median(),
                same);
    }

    private static <R extends Serializable> Timing time(String name, List<? extends Task<R>> tasks, int repeats,
                                                        List<List<R>> results, Function<Path, Engine> open, Path runDir) {
        Path dir;
        try {
            dir = Files.createDirectories(runDir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + runDir.resolve(name), e);
        }
        List<Double> seconds = new ArrayList<>();
        try (Engine engine = open.apply(dir)) {
            results.add(engine.runAll("warm-up", tasks));
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                engine.runAll("timed", tasks);
                seconds.add((System.nanoTime() - t0) / 1e9);
            }
        }
        return new Timing(name, List.copyOf(seconds));
    }
}
