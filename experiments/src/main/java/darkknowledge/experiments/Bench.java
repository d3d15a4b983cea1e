package darkknowledge.experiments;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Provenance;
import darkknowledge.core.Scale;
import darkknowledge.data.Dataset;
import darkknowledge.data.DatasetSource;
import darkknowledge.data.DataStore;
import darkknowledge.distill.DistillationLoss;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.Teacher;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.KlCombiner;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code ./dk bench}: ratios measured in one process on this machine, written to
 * {@code results/bench.csv}.
 * <ul>
 * <li>Training throughput of the 784-800-800-10 and 784-1200-1200-10 nets (Adam, batch 128, one
 *     epoch after a warm-up epoch) as examples/s and effective GFLOP/s (6 × weights × examples /
 *     seconds), divided by the fp32 GEMM rate measured here at the same shapes (the ceiling: an
 *     epoch that did nothing but its matrix products), and by the NumPy peer's epoch time, run right
 *     after ours on the same data.
 * <li>The same 784-800-800-10 net built from DL4J's stock parts (DenseLayer, ND4J's Adam) vs ours
 *     ({@code ReluDense}, {@code FusedAdam}), and one Adam step of each updater alone.
 * <li>Distillation overhead: a student epoch on cached soft targets (T = 20) vs a hard-label epoch.
 * <li>The §5.4 solver: examples/s with 10, 100 and 1,000 active specialist classes out of 1,000
 *     (examples solved in parallel, as {@code SpecialistEnsemble} does), vs the forward pass of a
 *     1,000-class generalist on the same examples (best of 5; its products use every core too).
 * <li>Specialists in parallel: wall time of 4 specialists with 2 workers vs 1.
 * <li>Clustering: streamed exact covariance + K-means for 500 and 1,000 synthetic classes (O(n·C²)
 *     time, O(C²) memory, K-means in C dimensions: 4,000 classes took minutes), and the sketched
 *     path ({@code SketchedCovariance}: sparsified rows, 64-dimensional random projection) for
 *     1,000, 4,000 and 15,000 classes (JFT's size): time, peak heap and ARI against the planted groups.
 * </ul>
 */
final class Bench {
    /** One measured figure and what it is compared with. */
    record Row(String measure, double value, String unit, double ratio, String ratioOf, String note) {
    }

    /** Thread settings dk exports for itself that the NumPy peer must not inherit. */
    static final List<String> PEER_UNSET_ENV = List.of("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "MKL_THREADING_LAYER");

    private final Scale scale;
    private final DataStore data;
    private final Path peer;
    private final List<Row> rows = new ArrayList<>();

    Bench(Scale scale, DataStore data, Path peer) {
        this.scale = scale;
        this.data = data;
        this.peer = peer;
    }

    List<Row> run() {
        Dataset train = data.load(DatasetSource.MNIST, true);
        int n = scale == Scale.FULL ? train.numExamples() : scale == Scale.SMALL ? 12000 : 1024;
        Dataset d = train.subset(IntStream.range(0, n).toArray());
        INDArray x = d.featuresMatrix();
        INDArray y = d.oneHot();
        double numpySeconds = scale == Scale.TINY ? Double.NaN : numpyPeerSecondsPerEpoch(n);
        for (List<Integer> hidden : List.of(List.of(800, 800), List.of(1200, 1200))) {
            String net = "784-" + hidden.get(0) + "-" + hidden.get(1) + "-10";
            MlpConfig cfg = MlpConfig.plain(hidden, 2);
            long weights = cfg.parameterCount(784, 10);
            double gemm = gemmGflops(hidden, 128, scale == Scale.TINY ? 3 : 40);
            Classifier model = Classifier.create(cfg, 784, 10, null, 1);
            double seconds = secondsPerEpoch(model, cfg, x, y);
            double gflops = 6.0 * weights * n / seconds / 1e9;
            rows.add(new Row(net + " GEMM ceiling", gemm, "GFLOP/s", Double.NaN, "",
                    "ND4J matrix products of one training step, DL4J's layouts, batch 128"));
            rows.add(new Row(net + " training", n / seconds, "examples/s", gflops / gemm, "of GEMM ceiling",
                    String.format(Locale.ROOT, "%.1f GFLOP/s effective, %.2f s/epoch of %d", gflops, seconds, n)));
            if (hidden.get(0) == 800) {
                double stock = secondsPerEpoch(Classifier.stockDl4j(cfg, 784, 10, 1), cfg, x, y);
                rows.add(new Row(net + " stock DL4J layers + Adam", n / stock, "examples/s", seconds / stock,
                        "our epoch time / stock's", String.format(Locale.ROOT,
                        "stock %.2f s/epoch: DenseLayer recomputes z in backprop, ND4J adam_updater op", stock)));
                adamStep(weights);
            }
            if (hidden.get(0) == 800 && Double.isFinite(numpySeconds)) {
                rows.add(new Row(net + " NumPy peer", n / numpySeconds, "examples/s", seconds / numpySeconds,
                        "our epoch time / peer's", String.format(Locale.ROOT, "peer %.2f s/epoch (scaled to %d examples), NumPy's default threads; ours: "
                                + blasThreads(),
                        numpySeconds, n)));
            }
            if (hidden.get(0) == 800) {
                distillationOverhead(cfg, x, y, seconds, model);
            }
        }
        solver(scale == Scale.TINY ? 200 : 5000);
        specialistsInParallel(scale == Scale.TINY ? 30 : 150);
        // 4,000 classes took minutes here (O(n·C²) covariance, K-means in C dimensions): see the class javadoc.
        for (int classes : scale == Scale.TINY ? List.of(200) : List.of(500, 1000)) {
            clustering(classes);
        }
        for (int classes : scale == Scale.TINY ? List.of(200) : scale == Scale.SMALL ? List.of(1000, 4000)
                : List.of(1000, 4000, 15000)) {
            sketchedClustering(classes);
        }
        return rows;
    }

    /** Wall time of training 4 specialists with 1 worker vs 2 (each specialist single-threaded). */
    private void specialistsInParallel(int perClass) {
        var g = darkknowledge.data.SyntheticClasses.generate(new darkknowledge.data.SyntheticClasses.Spec(40, 4, 100, 0.9,
                1.0, perClass, 10, 6));
        MlpConfig cfg = MlpConfig.plain(List.of(256, 256), 2);
        INDArray x = g.train().featuresMatrix();
        Classifier gen = Classifier.create(cfg, 100, 40, null, 1);
        List<int[]> subsets = g.groups().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        double[] seconds = new double[2];
        for (int workers = 1; workers <= 2; workers++) {
            var sc = new darkknowledge.specialists.SpecialistConfig(0.5,
                    darkknowledge.specialists.DustbinCorrection.PRIOR_SHIFT, 3, 1e-3, 1, 0, workers);
            long t0 = System.nanoTime();
            darkknowledge.specialists.Specialists.trainAll(gen, cfg, subsets, sc, x, g.train().labels(), x,
                    g.train().labels(), 0, 0, new darkknowledge.core.Seeds(3), r -> { });
            seconds[workers - 1] = (System.nanoTime() - t0) / 1e9;
        }
        rows.add(new Row("4 specialists, 2 workers vs 1", seconds[1], "s", seconds[1] / seconds[0], "of 1 worker",
                String.format(Locale.ROOT, "1 worker %.2f s; 100-256-256-11 nets, %d examples each, 3 epochs",
                        seconds[0], perClass * 20)));
    }

    /**
     * Covariance + K-means (k = classes / 20, 3 restarts) on the predictions of a synthetic
     * many-class problem: peaked rows whose mass sits on the true class's group. Time and the heap
     * the step needs.
     */
    private void clustering(int classes) {
        int groups = classes / 20;
        int n = classes * 5;
        SplittableRandom r = new SplittableRandom(8);
        int[] group = plantedGroups(classes, groups);
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        var cov = new darkknowledge.clustering.ClassCovariance(classes);
        double[][] chunk = new double[500][];
        for (int done = 0; done < n; done += chunk.length) {
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = predictionRow(r, group, groups);
            }
            cov.add(chunk);
        }
        double covSeconds = (System.nanoTime() - t0) / 1e9;
        var cfg = darkknowledge.clustering.ClusteringConfig.defaults().withK(groups);
        cfg = new darkknowledge.clustering.ClusteringConfig(groups, 3, 100, cfg.source(), cfg.statistic(), 0,
                cfg.maxSubsetSize(), cfg.minSubsetSize(), cfg.small(), cfg.diagonal(), 1);
        long t1 = System.nanoTime();
        var partition = darkknowledge.clustering.ClassClustering.cluster(cov.covariance(), cfg);
        double kmSeconds = (System.nanoTime() - t1) / 1e9;
        long after = rt.totalMemory() - rt.freeMemory();
        double ari = darkknowledge.clustering.AdjustedRandIndex.of(partition.clusterOf(), group);
        rows.add(new Row("clustering " + classes + " classes", covSeconds + kmSeconds, "s", Double.NaN, "",
                String.format(Locale.ROOT, "covariance of %d rows %.1f s, k-means k=%d x3 %.1f s, heap +%.0f MB, ARI %.3f",
                        n, covSeconds, groups, kmSeconds, (after - before) / 1e6, ari)));
    }

    /**
     * §5.3 at JFT's scale: prediction rows streamed in chunks into a {@link
     * darkknowledge.clustering.SketchedCovariance} (64 random directions, top 64 entries per row),
     * then K-means (k = classes / 20, one run). Time, peak heap of the step, ARI against the planted groups.
     */
    private void sketchedClustering(int classes) {
        int groups = classes / 20;
        int n = classes * 5;
        SplittableRandom r = new SplittableRandom(8);
        int[] group = plantedGroups(classes, groups);
        System.gc();
        var pools = java.lang.management.ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == java.lang.management.MemoryType.HEAP).toList();
        long before = pools.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
        pools.forEach(java.lang.management.MemoryPoolMXBean::resetPeakUsage);
        long t0 = System.nanoTime();
        var sketch = new darkknowledge.clustering.SketchedCovariance(classes, 64, 64, 1);
        double[][] chunk = new double[200][];
        double generate = 0;
        for (int done = 0; done < n; done += chunk.length) {
            long g0 = System.nanoTime();
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = predictionRow(r, group, groups);
            }
            generate += (System.nanoTime() - g0) / 1e9;
            sketch.add(chunk);
        }
        double sketchSeconds = (System.nanoTime() - t0) / 1e9 - generate;
        var cfg = new darkknowledge.clustering.ClusteringConfig(groups, 1, 50,
                darkknowledge.clustering.ClusteringConfig.Source.PROBABILITIES,
                darkknowledge.clustering.ClusteringConfig.Statistic.COVARIANCE, 0, 1_000_000, 2,
                darkknowledge.clustering.ClusteringConfig.Small.DROP,
                darkknowledge.clustering.ClusteringConfig.Diagonal.ROW_MAX, 1);
        long t1 = System.nanoTime();
        var partition = darkknowledge.clustering.ClassClustering.clusterSketch(sketch, cfg);
        double kmSeconds = (System.nanoTime() - t1) / 1e9;
        long peak = pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        double ari = darkknowledge.clustering.AdjustedRandIndex.of(partition.clusterOf(), group);
        rows.add(new Row("clustering " + classes + " classes, sketched", sketchSeconds + kmSeconds, "s", Double.NaN, "",
                String.format(Locale.ROOT, "%d rows streamed in chunks of %d: sketch %.1f s (+%.1f s generating rows), "
                        + "k-means k=%d x1 %.1f s, peak heap +%.0f MB, ARI %.3f, dropped mass %.1f%%", n, chunk.length,
                        sketchSeconds, generate, groups, kmSeconds, (peak - before) / 1e6, ari,
                        100 * sketch.droppedMass())));
    }

    /** Class c belongs to planted group c mod groups. */
    private static int[] plantedGroups(int classes, int groups) {
        return IntStream.range(0, classes).map(c -> c % groups).toArray();
    }

    private static double[] predictionRow(SplittableRandom r, int[] group, int groups) {
        int classes = group.length;
        int y = r.nextInt(classes);
        double[] p = new double[classes];
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            p[c] = group[c] == group[y] ? (c == y ? 2 : 0) + r.nextDouble() : 1e-3 * r.nextDouble();
            sum += p[c];
        }
        for (int c = 0; c < classes; c++) {
            p[c] /= sum;
        }
        return p;
    }

    private void distillationOverhead(MlpConfig cfg, INDArray x, INDArray y, double hardSeconds, Classifier teacher) {
        Teacher t = Teacher.single("bench-teacher", 10, teacher::logits);
        INDArray targets = SoftTargets.compute(t, x, 20).withHardLabels(y);
        Classifier student = Classifier.create(cfg, 784, 10, new DistillationLoss(20, 0.5), 2);
        Trainer.Outcome o = Trainer.fit("bench-student", student, new Trainer.TrainingData(x, targets, 28, 28), null,
                cfg, 2, r -> { });
        double s = o.history().get(1).seconds();
        rows.add(new Row("distillation epoch (T=20, soft+hard)", s, "s/epoch", s / hardSeconds,
                "of hard-label epoch", "teacher outputs cached once, not recomputed per batch"));
    }

    /** Seconds of the second epoch (the first warms up the JIT, the workspaces and the caches). */
    private static double secondsPerEpoch(Classifier model, MlpConfig cfg, INDArray x, INDArray y) {
        Trainer.Outcome o = Trainer.fit("bench", model, new Trainer.TrainingData(x, y, 28, 28), null, cfg, 1, r -> { });
        return o.history().get(1).seconds();
    }


    /** One Adam step over a net's parameters: {@code FusedAdam} vs ND4J's adam_updater op. */
    private void adamStep(long parameters) {
        INDArray g = Nd4j.rand(DataType.FLOAT, 1, parameters).muli(1e-3);
        INDArray work = g.dup();
        double[] ms = new double[2];
        var configs = List.of(new darkknowledge.generalist.FusedAdam(1e-3), new org.nd4j.linalg.learning.config.Adam(1e-3));
        int steps = scale == Scale.TINY ? 5 : 100;
        for (int u = 0; u < 2; u++) {
            var updater = configs.get(u).instantiate(Nd4j.zeros(DataType.FLOAT, 1, 2 * parameters), true);
            for (int it = -5; it < steps; it++) {  // 5 warm-up steps, then timed ones
                work.assign(g);  // a fresh gradient each step, as in training
                long t0 = System.nanoTime();
                updater.applyUpdater(work, Math.max(it, 0), 0);
                if (it >= 0) {
                    ms[u] += (System.nanoTime() - t0) / 1e6 / steps;
                }
            }
        }
        rows.add(new Row("Adam step, " + parameters + " parameters", ms[0], "ms", ms[0] / ms[1],
                "of ND4J's adam_updater op", String.format(Locale.ROOT, "ND4J op %.2f ms; FusedAdam: one pass over g, m, v",
                ms[1])));
    }

    private void solver(int examples) {
        int k = 1000;
        SplittableRandom r = new SplittableRandom(4);
        double[][] pg = new double[examples][];
        for (int i = 0; i < examples; i++) {
            pg[i] = peaked(r, k);
        }
        MlpConfig cfg = MlpConfig.plain(List.of(512), 1);
        Classifier generalist = Classifier.create(cfg, 784, k, null, 3);
        INDArray x = Nd4j.rand(DataType.FLOAT, examples, 784);
        double forward = Double.POSITIVE_INFINITY;  // best of 5 after a warm-up: one call is ~20 ms
        generalist.logits(x);
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            generalist.logits(x);
            forward = Math.min(forward, (System.nanoTime() - t0) / 1e9);
        }
        KlCombiner solver = KlCombiner.defaults();
        for (int active : List.of(10, 100, 1000)) {
            int specialists = Math.max(1, active / 50);
            int size = active / specialists;
            List<List<KlCombiner.View>> views = new ArrayList<>();
            for (int i = 0; i < examples; i++) {
                List<KlCombiner.View> v = new ArrayList<>();
                for (int m = 0; m < specialists; m++) {
                    int[] subset = IntStream.range(m * size, Math.min(k - 1, (m + 1) * size)).toArray();
                    v.add(new KlCombiner.View(subset, peaked(r, subset.length + 1)));
                }
                views.add(v);
            }
            // As SpecialistEnsemble solves them: examples in parallel on every core, as the forward
            // pass's matrix products are. Two warm-up passes let the JIT compile; best of 3.
            int[] iterations = new int[examples];
            double seconds = Double.POSITIVE_INFINITY;
            for (int rep = -2; rep < 3; rep++) {
                long s0 = System.nanoTime();
                IntStream.range(0, examples).parallel().forEach(i ->
                        iterations[i] = solver.combine(pg[i], views.get(i)).iterations());
                if (rep >= 0) {
                    seconds = Math.min(seconds, (System.nanoTime() - s0) / 1e9);
                }
            }
            rows.add(new Row("§5.4 solver, " + active + " active specialist classes of 1000", examples / seconds,
                    "examples/s", seconds / forward, "of generalist forward pass",
                    String.format(Locale.ROOT, "%d specialists of %d classes, %.1f iterations/example; forward 784-512-1000",
                            specialists, size, IntStream.of(iterations).average().orElse(0))));
        }
    }

    private static double[] peaked(SplittableRandom r, int n) {
        double[] p = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(3 * r.nextGaussian());
            s += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= s;
        }
        return p;
    }

    /**
     * fp32 GEMM rate of one training step's matrix products at these layer shapes, in the layouts
     * DL4J uses: weights 'f'-ordered; forward {@code z = x W} into a 'c' array; {@code dW = xᵀ δ} into
     * the 'f'-ordered gradient view; {@code εᵀ = W δᵀ} into an 'f' array. (A 'c'-ordered {@code dW}
     * target runs at a fifth of this rate here, which is why the layout matters.)
     */
    static double gemmGflops(List<Integer> hidden, int batch, int repeats) {
        List<Integer> sizes = new ArrayList<>(List.of(784));
        sizes.addAll(hidden);
        sizes.add(10);
        List<INDArray[]> layers = new ArrayList<>();
        for (int i = 0; i + 1 < sizes.size(); i++) {
            long in = sizes.get(i);
            long out = sizes.get(i + 1);
            layers.add(new INDArray[] {Nd4j.rand(DataType.FLOAT, batch, in), Nd4j.rand(DataType.FLOAT, in, out).dup('f'),
                Nd4j.rand(DataType.FLOAT, batch, out), Nd4j.create(DataType.FLOAT, batch, out),
                Nd4j.create(DataType.FLOAT, new long[] {in, out}, 'f'), Nd4j.create(DataType.FLOAT, new long[] {in, batch}, 'f')});
        }
        double flops = 0;
        long t0 = 0;
        for (int rep = -3; rep < repeats; rep++) {
            if (rep == 0) {
                t0 = System.nanoTime();
            }
            for (INDArray[] l : layers) {
                l[0].mmuli(l[1], l[3]);
                Nd4j.gemm(l[0], l[2], l[4], true, false, 1.0, 0.0);
                l[1].mmuli(l[2].transpose(), l[5]);
                if (rep >= 0) {
                    flops += 3.0 * 2 * l[0].rows() * l[0].columns() * l[1].columns();
                }
            }
        }
        return flops / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    /** Our thread settings as the environment gives them to ND4J (OpenMP) and to the BLAS. */
    static String blasThreads() {
        return String.format(Locale.ROOT, "%s, OMP_NUM_THREADS=%s, MKL_NUM_THREADS=%s, MKL_THREADING_LAYER=%s",
                Provenance.blas(), System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_THREADING_LAYER", "unset"));
    }

    /** Seconds per epoch of the NumPy peer's second epoch, scaled to {@code n} examples; NaN if unavailable. */
    private double numpyPeerSecondsPerEpoch(int n) {
        if (peer == null || !Files.isRegularFile(peer)) {
            rows.add(new Row("NumPy peer", Double.NaN, "", Double.NaN, "", "not found: " + peer + " (set DK_PEER)"));
            return Double.NaN;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder("python3", peer.toString(), data.ensure(DatasetSource.MNIST).toString())
                    .redirectErrorStream(true);
            // The peer runs as NumPy runs by default (its OpenBLAS on every core), not under dk's thread
            // settings: OpenBLAS reads OMP_NUM_THREADS too, and one thread would flatter us.
            for (String v : PEER_UNSET_ENV) {
                pb.environment().remove(v);
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            Matcher m = Pattern.compile("epoch=2 s/epoch=([0-9.]+) ex/s=([0-9]+)").matcher(out);
            if (!m.find()) {
                rows.add(new Row("NumPy peer", Double.NaN, "", Double.NaN, "", "no timing in its output: " + out.strip()));
                return Double.NaN;
            }
            return Double.parseDouble(m.group(1)) * n / 60000.0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the NumPy peer " + peer, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    static void write(List<Row> rows, Path csv, String command) {
        AtomicFiles.write(csv, out -> {
            var w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("# generated by: " + command + "\n");
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder()
                    .setHeader("measure", "value", "unit", "ratio", "ratio_of", "note").build())) {
                for (Row r : rows) {
                    p.printRecord(r.measure(), fmt(r.value()), r.unit(), fmt(r.ratio()), r.ratioOf(), r.note());
                }
            }
        });
    }

    /** {@code results/bench.csv} as a markdown table (for {@code ./dk tables}), with the command that made it. */
    static String markdown(Path csv) {
        try (var reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            String first = reader.readLine();
            String command = first != null && first.startsWith("# generated by: ") ? first.substring(16) : "./dk bench";
            var records = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(reader);
            StringBuilder b = new StringBuilder("<!-- generated by `./dk tables` from results/bench.csv; do not edit -->\n")
                    .append("**Benchmarks** (`").append(command).append("`, one process, this machine)\n\n")
                    .append("| measure | value | unit | ratio | ratio of | note |\n|---|---|---|---|---|---|\n");
            for (var r : records) {
                b.append("| ").append(r.get("measure")).append(" | ").append(r.get("value")).append(" | ")
                        .append(r.get("unit")).append(" | ").append(r.get("ratio")).append(" | ").append(r.get("ratio_of"))
                        .append(" | ").append(r.get("note").replace("|", "\\|")).append(" |\n");
            }
            return b.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + csv, e);
        }
    }

    static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-52s %12s %-11s %8s  %s%n", "measure", "value",
                "unit", "ratio", "ratio of / note"));
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%-52s %12s %-11s %8s  %s%s%n", r.measure(), fmt(r.value()), r.unit(),
                    fmt(r.ratio()), r.ratioOf(), r.note().isEmpty() ? "" : " — " + r.note()));
        }
        return b.toString();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.3g", v);
    }
}
