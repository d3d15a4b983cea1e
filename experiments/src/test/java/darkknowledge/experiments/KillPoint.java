package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.fail;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.ChildProcess;
import darkknowledge.core.ResultTables;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.generalist.Trainer;
import darkknowledge.pipeline.RunContext;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A driver to be killed at a chosen point of its training, for the kill-and-resume tests: {@code dk run
 * <experiment> --scale tiny --runs-dir DIR --set ...} in a JVM of its own whose training listener, on
 * reaching the point, writes a marker file and then waits there until the test kills the JVM. The
 * test waits for the marker (bounded), so the kill lands in a known state however fast or slow the
 * machine is, instead of polling the run directory and hoping the driver has not moved on.
 *
 * <p>Points:
 * <ul>
 * <li>{@code epoch:<model>:<e>}: in the middle of epoch {@code e} (0-based) of {@code model}: its
 *     epochs before {@code e} are trained and checkpointed, epoch {@code e} is half done.
 * <li>{@code never}: nowhere; the test decides when to kill from the run directory alone.
 * <li>{@code unfinished-specialist}: in the training of a specialist that has no done record, once
 *     another specialist's done record is in the run directory: at the kill at least one specialist
 *     is finished and at least one is not. The specialists' progress must reach this JVM's listener
 *     (an in-process pool or Spark {@code local[n]}, not executor JVMs).
 * </ul>
 * The waiting listener holds the lock of the specialists' shared listener, so every other training
 * thread of the driver stops at its next minibatch too.
 */
final class KillPoint {
    /** The exit status of a driver that finished without reaching its point. */
    static final int NOT_REACHED = 3;
    /** The exit status of a driver parked at its point whose test ended without killing it. */
    static final int PARKED_TOO_LONG = 4;

    private KillPoint() {
    }

    /** {@code <experiment> <runs dir> <marker file> <point> <--set assignment>...} */
    public static void main(String[] args) throws Exception {
        darkknowledge.kernels.NativeLibraries.prepare();  // as Main does, before ND4J's first product
        Experiment<?> experiment = Experiments.byName(args[0]).orElseThrow();
        List<String> sets = Arrays.asList(args).subList(4, args.length);
        run(experiment, Path.of(args[1]), Path.of(args[2]), args[3], sets);
        System.exit(NOT_REACHED);
    }

    private static <C extends Record> void run(Experiment<C> e, Path runs, Path marker, String point, List<String> sets) {
        C cfg = Runner.resolve(e, Scale.TINY, null, sets);
        Runner.run(new Gated<>(e, marker, point), cfg, runs, new DataStore(DataStore.defaultCacheDir()), false);
    }

    /**
     * Starts the driver of {@code experiment} with this JVM's flags and BLAS (the figures must match a
     * run made here), its output to {@code log}.
     */
    static ChildProcess.Running start(String experiment, Path runs, Path marker, String point, List<String> sets, Path log)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-javaagent")).forEach(cmd::add);
        String blas = System.getProperty("org.bytedeco.openblas.load");
        if (blas != null) {
            cmd.add("-Dorg.bytedeco.openblas.load=" + blas);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "-Ddk.data.dir=" + DataStore.defaultCacheDir(),
                KillPoint.class.getName(), experiment, runs.toString(), marker.toString(), point));
        cmd.addAll(sets);
        return ChildProcess.of(cmd).mergeErrors().logTo(log).start();
    }

    /**
     * Waits until {@code driver} has written {@code marker} (it is then parked at its point); fails
     * with the driver's log if it ends first or the marker is not there within {@code minutes}.
     */
    static void awaitMarker(ChildProcess.Running driver, Path marker, Path log, int minutes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        while (!Files.exists(marker)) {
            if (!driver.isAlive()) {
                fail("the driver ended (status " + driver.exitValue() + ") before its kill point:\n" + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                fail("the driver did not reach its kill point within " + minutes + " minutes:\n" + Files.readString(log));
            }
            driver.waitFor(Duration.ofMillis(50));  // returns at once if the driver ends
        }
    }

    /** {@code experiment} with its training listener wrapped in a {@link Gate}; everything else is its own. */
    private record Gated<C extends Record>(Experiment<C> experiment, Path marker, String point) implements Experiment<C> {
        @Override
        public String name() {
            return experiment.name();
        }

        @Override
        public String card() {
            return experiment.card();
        }

        @Override
        public C defaults() {
            return experiment.defaults();
        }

        @Override
        public Map<String, String> preset(Scale scale) {
            return experiment.preset(scale);
        }

        @Override
        public ResultTables.Spec table() {
            return experiment.table();
        }

        @Override
        public String needsValidation() {
            return experiment.needsValidation();
        }

        @Override
        public SortedMap<String, String> run(C config, RunContext ctx) {
            Gate gate = new Gate(ctx.progress(), ctx.record().dir(), marker, point);
            return experiment.run(config, new RunContext(ctx.record(), ctx.seeds(), ctx.data(), ctx.provenance(), gate));
        }
    }

    /** Passes every report on; on reaching the point, writes the marker and parks the training thread. */
    private record Gate(Trainer.Listener inner, Path runDir, Path marker, String point) implements Trainer.Listener {
        Gate {
            if (!point.equals("never") && !point.equals("unfinished-specialist") && !point.matches("epoch:[^:]+:\\d+")) {
                throw new IllegalArgumentException("unknown kill point " + point);
            }
        }

        @Override
        public void onBatch(String model, int epoch, int batch, int batches) {
            if (reached(model, epoch, batch, batches)) {
                AtomicFiles.writeString(marker, model + " epoch " + epoch + " batch " + batch + " of " + batches + "\n");
                park();
            }
            inner.onBatch(model, epoch, batch, batches);
        }

        @Override
        public void onEpoch(Trainer.EpochReport report) {
            inner.onEpoch(report);
        }

        @Override
        public void onRestoredEpoch(Trainer.EpochReport report) {
            inner.onRestoredEpoch(report);
        }

        private boolean reached(String model, int epoch, int batch, int batches) {
            if (point.equals("unfinished-specialist")) {
                return model.matches("specialist\\d+") && !Files.exists(runDir.resolve(model + ".done.properties"))
                        && doneSpecialists(runDir) >= 1;
            }
            if (point.equals("never")) {
                return false;
            }
            String[] p = point.split(":");
            return model.equals(p[1]) && epoch == Integer.parseInt(p[2]) && batch == batches / 2;
        }

        /**
         * Waits to be killed. Should the test's JVM end without killing it, this JVM ends too (the
         * parent's exit, at most half an hour): no orphan is left training on a shared machine.
         */
        private static void park() {
            try {
                ProcessHandle.current().parent().orElseThrow().onExit().get(30, TimeUnit.MINUTES);
            } catch (InterruptedException | java.util.concurrent.ExecutionException
                     | java.util.concurrent.TimeoutException e) {
                // over either way: this JVM was to be killed long ago
            }
            Runtime.getRuntime().halt(PARKED_TOO_LONG);
        }
    }

    /** Specialists whose done record is in {@code runDir}. */
    static int doneSpecialists(Path runDir) {
        try (Stream<Path> s = Files.list(runDir)) {
            return (int) s.filter(f -> f.getFileName().toString().matches("specialist\\d+\\.done\\.properties")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
