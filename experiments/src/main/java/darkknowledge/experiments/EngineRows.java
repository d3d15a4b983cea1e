package darkknowledge.experiments;

import darkknowledge.bench.Bench;
import darkknowledge.bench.EngineBench;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.EnsembleTargetsTask;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.SpecialistDataset;
import darkknowledge.pipeline.Shipped;
import darkknowledge.pipeline.SpecialistTask;
import darkknowledge.core.Configs;
import darkknowledge.core.engine.LocalEngine;
import darkknowledge.specialists.Specialists;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The engine rows of {@code ./dk bench}: the glyphs specialists and the
 * ensemble's soft targets over a transfer set, each as the engine tasks the experiments run
 * ({@link SpecialistTask}, {@link EnsembleTargetsTask}), timed on the in-process pool of two threads,
 * on Spark {@code local[2]}, and on a standalone cluster of two one-core workers on this machine with
 * one executor and with two ({@link EngineBench}).
 *
 * <p>The workload is real: glyph images rendered from the typefaces, a conv generalist trained on
 * them, specialists initialised from it and trained on their subset plus a dustbin, the §5.4
 * combination on every transfer example. Its size is the bench's: a 500-class generalist trained for
 * one epoch, four specialists of 50 classes (disjoint blocks of a seeded permutation, so that the
 * tasks are of one size and the ratio measures the engine, not a lopsided partition), 4,000 transfer
 * rows in 8 slices. The tiny scale (CI) times the pool and {@code local[2]} only, on 100 classes.
 */
final class EngineRows {
    private EngineRows() {
    }

    /** The four glyphs workload sizes by scale. */
    private record Size(List<String> sets, int specialists, int subsetSize, int transferRows, int slices, int repeats,
                        boolean cluster) {
    }

    private static Size size(Scale scale) {
        return switch (scale) {
            case TINY -> new Size(List.of("specialists.epochs=1"), 2, 10, 400, 4, 1, false);
            // Fixed training images: the data a shared-nothing cluster is shipped (fresh ones are rendered
            // from fonts the executors do not have), whatever the small preset feeds its nets.
            case SMALL -> new Size(List.of("glyphs.classes=300", "glyphs.trainImagesPerFace=2", "conv.epochs=1",
                    "specialists.epochs=1", "data.validationSize=1000", "glyphs.freshEachEpoch=false"), 4, 40, 2000, 8,
                    2, true);
            case FULL -> new Size(List.of("glyphs.classes=500", "glyphs.trainImagesPerFace=2", "conv.epochs=1",
                    "specialists.epochs=1", "data.validationSize=1000", "glyphs.freshEachEpoch=false"), 4, 50, 4000, 8,
                    3, true);
        };
    }

    /**
     * Measures the engines and returns the bench rows; what was measured goes into {@code provenance}
     * under {@code engines.}. {@code workDir} holds the workload's run, the models and the cluster, and is
     * removed afterwards.
     */
    static List<Bench.Row> measure(Scale scale, DataStore data, Path workDir, Provenance provenance) {
        Size size = size(scale);
        SpecialistsExperiment experiment = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        SpecialistsExperiment.Config c = Runner.resolve(experiment, scale == Scale.TINY ? Scale.TINY : Scale.SMALL,
                null, size.sets());
        try {
            Files.createDirectories(workDir);
            RunRecord record = RunRecord.create(workDir.resolve("runs"), "engine-bench", Configs.write("", c));
            RunContext ctx = new RunContext(record, new Seeds(c.run().seed()), data, Provenance.empty(), report -> { });
            RunData s = SpecialistDataset.GLYPHS.load(c.data(), c.synthetic(), c.glyphs(), ctx).data();
            Models.Trained generalist = Models.trainOnLabels(ctx, "generalist", c.generalistNet(), s);
            Path generalistFile = ctx.modelPath("generalist").toAbsolutePath();
            String generalistSha = generalist.model().fingerprint();
            int[][] subsets = blocks(s.train().numClasses(), size.specialists(), size.subsetSize(),
                    ctx.seeds().derive("engine-bench-subsets"));
            long seed = ctx.seeds().derive("specialists");
            var schedule = Specialists.schedule(c.generalistNet(), c.specialists());
            AtomicInteger runs = new AtomicInteger();
            // Each run ships its inputs anew, as a stage does (a stage opens its own engine): the generalist's
            // bytes and the run's data, broadcast on Spark; timed apart as the shipping cost.
            EngineBench.Tasks<SpecialistTask.Output> specialistTasks = (engine, run) -> {
                Path out = fresh(workDir.resolve("specialists/" + runs.incrementAndGet()));
                SpecialistTask.forgetValidationPredictions();  // each run computes the generalist's predictions anew
                Shipped.Model g = Shipped.model(engine, generalistFile, generalistSha);
                Shipped.Data d = Shipped.data(engine, s);
                return IntStream.range(0, subsets.length).mapToObj(m -> new SpecialistTask(m, subsets[m], g, d,
                        schedule, c.specialists(), seed, out.toString(), c.engine().checkpointSeconds())).toList();
            };
            // The ensemble whose soft targets are timed: these specialists, trained once in process.
            List<EnsembleTargetsTask.SpecialistModel> members = new ArrayList<>();
            try (LocalEngine engine = new LocalEngine(2, record.dir())) {
                List<? extends SpecialistTask> first = specialistTasks.make(engine, 0).stream()
                        .map(SpecialistTask.class::cast).toList();
                engine.runAll("specialists", first, o -> {
                    SpecialistTask t = first.get(o.done().index());
                    SpecialistTask.Done d = t.save(o);
                    Path file = Path.of(t.outputDir(), SpecialistTask.name(d.index()) + ".zip");
                    members.add(new EnsembleTargetsTask.SpecialistModel(
                            new EnsembleTargetsTask.Model(file.toString(), d.sha256()), subsets[d.index()], d.dustbinShift(),
                            d.head()));
                });
            }
            members.sort(java.util.Comparator.comparingInt(m -> java.util.Arrays.asList(subsets).indexOf(m.subset())));
            int rows = Math.min(size.transferRows(), s.train().numExamples());
            EngineBench.Tasks<EnsembleTargetsTask.Slice> targetTasks = (engine, run) -> EnsembleTargetsTask.slices(engine,
                    new EnsembleTargetsTask.Model(generalistFile.toString(), generalistSha), members, c.ensemble(),
                    Shipped.data(engine, s), rows, size.slices());
            int slice = (rows + size.slices() - 1) / size.slices();
            EngineBench.Workload<SpecialistTask.Output> specialists =
                    new EngineBench.Workload<>("specialists", specialistTasks, o -> o.done().sha256());
            EngineBench.Workload<EnsembleTargetsTask.Slice> targets =
                    new EngineBench.Workload<>("targets", targetTasks, EnsembleTargetsTask.Slice::sha256);
            EngineBench.Comparison cmp = EngineBench.measure(List.of(specialists, targets),
                    List.of(EngineBench.pool(2), EngineBench.sparkLocal(2)), workDir.resolve("engines"),
                    Provenance.repoDir(), size.cluster() ? workDir.resolve("cluster") : null,
                    System.getProperty("java.class.path"), size.repeats());
            if (!cmp.sameResults()) {
                // the pool and local[2] share this JVM's BLAS threads, the executors have one each: each
                // pair must agree bit for bit (between the pairs, rounding may differ with the threads)
                throw new IllegalStateException("the engines disagree: " + cmp.disagreements());
            }
            String what = String.format(Locale.ROOT, "%d specialists of %d glyph classes (of %d), conv generalist, "
                    + "%d train images, %d epoch(s)", subsets.length, size.subsetSize(), s.train().numClasses(),
                    s.train().numExamples(), schedule.epochs());
            String targetsWhat = String.format(Locale.ROOT, "§5.4 soft targets of the generalist + %d specialists on %d "
                    + "transfer rows in %d slices", members.size(), rows, (rows + slice - 1) / slice);
            provenance.put("engines.workload.specialists", what).put("engines.workload.targets", targetsWhat)
                    .put("engines.repeats", String.valueOf(size.repeats()))
                    .put("engines.same_results", String.valueOf(cmp.sameResults()))
                    .put("engines.same_in_process_and_on_cluster",
                            cmp.sameAcross() == null ? "not measured" : String.valueOf(cmp.sameAcross()));
            cmp.engines().forEach((e, d) -> provenance.putAll("engines." + e + ".", d));
            cmp.timings().forEach((w, byEngine) -> byEngine.forEach((e, t) ->
                    provenance.put("engines." + w + "." + e + ".seconds", t.seconds().toString())
                            .put("engines." + w + "." + e + ".task_seconds", t.taskSeconds().toString())
                            .put("engines." + w + "." + e + ".ship_seconds", t.shipSeconds().toString())
                            .put("engines." + w + "." + e + ".returned_bytes", t.returnedBytes().toString())));
            List<Bench.Row> out = new ArrayList<>();
            for (var w : List.of(new String[] {"specialists", "glyphs specialists", what},
                    new String[] {"targets", "glyphs soft targets", targetsWhat})) {
                out.add(overhead(cmp, w[0], w[1], w[2]));
                if (size.cluster()) {
                    out.add(speedup(cmp, w[0], w[1]));
                }
                out.add(shipping(cmp, w[0], w[1], size.cluster() ? "standalone-2x1" : "spark-local-2"));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the engine bench under " + workDir, e);
        } finally {
            delete(workDir);
        }
    }

    /** Spark local[2] against the in-process pool of two threads (goal: at most 1.15). */
    private static Bench.Row overhead(EngineBench.Comparison c, String workload, String label, String what) {
        EngineBench.Timing spark = c.get(workload, "spark-local-2");
        EngineBench.Timing pool = c.get(workload, "pool-2");
        return new Bench.Row(label + ", Spark local[2] vs in-process pool of 2", spark.median(), "s",
                spark.median() / pool.median(), "of pool's time (goal <= 1.15)",
                String.format(Locale.ROOT, "%s; medians of %d runs: pool %.2f s (%s), local[2] %.2f s (%s)", what,
                        pool.seconds().size(), pool.median(), pool.wall().range(), spark.median(), spark.wall().range()));
    }

    /**
     * One one-core executor against two: the speed-up (goal at least 1.7), with what explains it: the
     * executors' use (tasks' own time / (wall × executors)) and how much slower a task runs while the
     * other core is busy too.
     */
    private static Bench.Row speedup(EngineBench.Comparison c, String workload, String label) {
        EngineBench.Timing one = c.get(workload, "standalone-1x1");
        EngineBench.Timing two = c.get(workload, "standalone-2x1");
        double use = two.medianTaskSeconds() / (2 * two.median());
        double perTask = two.medianTaskSeconds() / one.medianTaskSeconds();
        return new Bench.Row(label + ", 2 one-core executors vs 1", two.median(), "s", one.median() / two.median(),
                "speed-up: 1 executor's time / 2's (goal >= 1.7)",
                String.format(Locale.ROOT, "medians of %d runs: 1 executor %.2f s (%s), 2 executors %.2f s (%s); with 2, "
                        + "tasks' own time / (wall x 2) = %.2f, and the tasks' summed time is %.2fx what it is with 1 "
                        + "(both cores busy)", one.seconds().size(), one.median(), one.wall().range(), two.median(),
                        two.wall().range(), use, perTask));
    }

    /**
     * What moving the inputs and outputs through the engine costs on {@code engine} (no shared file
     * system): the time to read, encode and broadcast the run's data and the models, as a share of the
     * stage's wall time, with the bytes broadcast and the bytes of the results that came back.
     */
    private static Bench.Row shipping(EngineBench.Comparison c, String workload, String label, String engine) {
        EngineBench.Timing t = c.get(workload, engine);
        long broadcast = 0;
        for (var e : c.engines().get(engine).entrySet()) {
            if (e.getKey().startsWith("shared.") && e.getKey().endsWith(".bytes")) {
                broadcast += Long.parseLong(e.getValue());
            }
        }
        long returned = t.returnedBytes().isEmpty() ? 0 : t.returnedBytes().get(0);
        return new Bench.Row(label + ", shipping inputs and outputs on " + engine, t.medianShipSeconds(), "s",
                t.medianShipSeconds() / t.median(), "of the stage's wall time (reported)",
                String.format(Locale.ROOT, "medians of %d runs: %.3f s to read, encode and broadcast %.1f MB "
                        + "(data and models) against %.2f s for the stage; %.1f MB of results came back "
                        + "(models, soft targets) inside it", t.seconds().size(), t.medianShipSeconds(),
                        broadcast / 1e6, t.median(), returned / 1e6));
    }

    /** {@code count} disjoint blocks of {@code size} classes from a seeded permutation of {@code classes}. */
    static int[][] blocks(int classes, int count, int size, long seed) {
        if (count * size > classes) {
            throw new IllegalArgumentException(count + " blocks of " + size + " classes need " + count * size
                    + " classes, the data set has " + classes);
        }
        List<Integer> perm = new ArrayList<>(IntStream.range(0, classes).boxed().toList());
        java.util.Collections.shuffle(perm, new java.util.Random(seed));
        int[][] out = new int[count][];
        for (int m = 0; m < count; m++) {
            out[m] = perm.subList(m * size, (m + 1) * size).stream().mapToInt(Integer::intValue).sorted().toArray();
        }
        return out;
    }

    /** A new, empty directory for one run's outputs (tasks skip what a finished task left in theirs). */
    private static Path fresh(Path dir) {
        try {
            Files.createDirectories(dir.getParent());
            return Files.createDirectory(dir).toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private static void delete(Path dir) {
        try {
            darkknowledge.core.AtomicFiles.deleteTree(dir);
        } catch (IOException e) {
            // scratch only, and called from finally: a leftover costs disk, never the measured rows
            System.err.println("warning: could not remove the engine bench's scratch " + dir + ": " + e);
        }
    }
}
