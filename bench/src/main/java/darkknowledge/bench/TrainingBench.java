package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.kernels.Bf16;
import darkknowledge.kernels.Precision;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.distill.DistillationLoss;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.Teacher;
import darkknowledge.generalist.Classifier;
import darkknowledge.kernels.FusedAdam;
import darkknowledge.kernels.Gemm;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The MLP's training step at the paper's MNIST sizes (§3: 784-800-800-10 and 784-1200-1200-10,
 * Adam, batch 128), in {@link Bench#ROUNDS} rounds that alternate ours with each reference, so that
 * every ratio is taken side by side and reported as its median with its range ({@link Spread}).
 * A round is: the raw library rates ({@link GemmCeiling}), ND4J's matrix-product rate, one epoch of
 * ours, one of DL4J's stock parts (800-800), one of the NumPy peer (800-800). Rows:
 * <ul>
 * <li>the ceiling: fp32 GFLOP/s of the step's matrix products called directly ({@code cblas_sgemm})
 *     on the faster of MKL (ND4J's build) and OpenBLAS that round, each library's rate beside it; MKL's
 *     bf16 rate where the CPU has bf16 units; ND4J's own mmul rate in DL4J's layouts;
 * <li>examples/s and effective GFLOP/s (6 × weights × examples / seconds) of our epoch, as a
 *     fraction of the fp32 ceiling (the faster of MKL and OpenBLAS; and of ND4J's rate, in the note);
 * <li>the 800-800 net built from DL4J's stock parts (DenseLayer, ND4J's Adam) vs ours
 *     ({@code ReluDense}, {@code FusedAdam}), and one Adam step of each updater alone;
 * <li>the 800-800 epoch vs the NumPy peer's on the same data;
 * <li>distillation overhead (§2): a student epoch on cached soft targets at T = 20 (soft + hard,
 *     {@code T² · CE(p_T, q_T) + w · CE(y, q_1)}) vs a hard-label epoch, alternated in rounds of their own.
 * </ul>
 * Each net trains one warm-up epoch (JIT, workspaces, caches) before the rounds.
 */
final class TrainingBench {
    private static final int BATCH = 128;

    private final Scale scale;
    private final Seeds seeds;
    private final GemmCeiling ceiling;
    private final List<Row> rows = new ArrayList<>();

    private TrainingBench(Scale scale, Seeds seeds, GemmCeiling ceiling) {
        this.scale = scale;
        this.seeds = seeds;
        this.ceiling = ceiling;
    }

    /**
     * @param x, y the first n MNIST training images (rows) and their one-hot labels
     * @param peerEpoch runs the NumPy peer once and gives its seconds per epoch scaled to n (NaN when
     *     it did not run); null: no peer
     */
    static List<Row> measure(Scale scale, Seeds seeds, INDArray x, INDArray y, GemmCeiling ceiling,
                             DoubleSupplier peerEpoch) {
        TrainingBench b = new TrainingBench(scale, seeds, ceiling);
        for (List<Integer> hidden : List.of(List.of(800, 800), List.of(1200, 1200))) {
            b.net(hidden, x, y, peerEpoch);
        }
        return b.rows;
    }

    private void net(List<Integer> hidden, INDArray x, INDArray y, DoubleSupplier peerEpoch) {
        long n = x.rows();
        int width = hidden.get(0);
        boolean references = width == 800;
        String net = "784-" + width + "-" + hidden.get(1) + "-10";
        MlpConfig cfg = MlpConfig.plain(hidden, 1);
        long weights = cfg.parameterCount(784, 10);
        List<Integer> sizes = new ArrayList<>(List.of(784));
        sizes.addAll(hidden);
        sizes.add(10);
        List<GemmCeiling.Product> step = GemmCeiling.trainingStep(sizes, BATCH);
        Classifier model = Classifier.create(cfg, 784, 10, null, seeds.derive("net", width));
        Classifier stockModel = references ? Classifier.stockDl4j(cfg, 784, 10, seeds.derive("net", width)) : null;
        // the same net updated by DL4J's three passes (division, Adam, subtraction) instead of FusedStep's one
        Classifier threePassModel = references ? Classifier.create(cfg, 784, 10, null, seeds.derive("net", width)) : null;
        epochSeconds(model, cfg, x, y, seeds.derive("minibatches", width));
        if (threePassModel != null) {
            withoutFusedStep(() -> epochSeconds(threePassModel, cfg, x, y, seeds.derive("minibatches", width)));
        }
        String bf16Unsupported = Bf16.unsupported();
        MlpConfig cfg16 = bf16Unsupported == null ? cfg.withPrecision(Precision.BF16) : null;
        Classifier model16 = cfg16 == null ? null : Classifier.create(cfg16, 784, 10, null, seeds.derive("net", width));
        if (model16 != null) {
            epochSeconds(model16, cfg16, x, y, seeds.derive("minibatches", width));
        }
        if (stockModel != null) {
            epochSeconds(stockModel, cfg, x, y, seeds.derive("minibatches", width));
        }
        int rounds = Bench.ROUNDS;
        double[] fp32 = new double[rounds];
        double[] bf16 = new double[rounds];
        double[] openblas = new double[rounds];
        List<String> fastest = new java.util.ArrayList<>();
        double[] nd4j = new double[rounds];
        double[] ours = new double[rounds];
        double[] ours16 = new double[rounds];
        double[] stock = new double[rounds];
        double[] otherBlas = new double[rounds];
        double[] threePass = new double[rounds];
        double[] peer = new double[rounds];
        Arrays.fill(bf16, Double.NaN);
        Arrays.fill(stock, Double.NaN);
        Arrays.fill(peer, Double.NaN);
        Map<GemmCeiling.Product, double[]> perProduct32 = new LinkedHashMap<>();
        Map<GemmCeiling.Product, double[]> perProduct16 = new LinkedHashMap<>();
        Map<GemmCeiling.Product, double[]> perProductMkl = new LinkedHashMap<>();
        double[] mklRate = new double[rounds];
        // our kernels' products run on the library Gemm chose for this CPU: their ratio is to that library's rate
        String kernelsBlas = Gemm.name();
        boolean kernelsOnOpenblas = kernelsBlas.startsWith("OpenBLAS");
        Map<GemmCeiling.Product, double[]> perProductOpenblas = new LinkedHashMap<>();
        for (int r = 0; r < rounds; r++) {
            GemmCeiling.Round raw = ceiling.measure(step);
            fp32[r] = GemmCeiling.gflops(raw.best());
            openblas[r] = GemmCeiling.gflops(raw.openblas());
            mklRate[r] = GemmCeiling.gflops(raw.mkl());
            fastest.add(raw.bestName(ceiling));
            collect(raw.best(), perProduct32, r, rounds);
            collect(raw.mkl(), perProductMkl, r, rounds);
            collect(raw.openblas(), perProductOpenblas, r, rounds);
            if (raw.bf16() != null) {
                bf16[r] = GemmCeiling.gflops(raw.bf16());
                collect(raw.bf16(), perProduct16, r, rounds);
            }
            nd4j[r] = gemmGflops(hidden, BATCH, scale == Scale.TINY ? 3 : 20, seeds.derive("gemm", width, r));
            ours[r] = epochSeconds(model, cfg, x, y, seeds.derive("minibatches", width, r));
            ours16[r] = model16 == null ? Double.NaN : epochSeconds(model16, cfg16, x, y, seeds.derive("minibatches", width, r));
            if (stockModel != null) {
                stock[r] = epochSeconds(stockModel, cfg, x, y, seeds.derive("minibatches", width, r));
            }
            if (threePassModel != null) {
                long minibatches = seeds.derive("minibatches", width, r);
                threePass[r] = withoutFusedStep(() -> epochSeconds(threePassModel, cfg, x, y, minibatches));
            }
            if (references) {
                Gemm.Decision chosen = Gemm.use(kernelsOnOpenblas ? Gemm.Choice.MKL : Gemm.Choice.OPENBLAS);
                try {
                    otherBlas[r] = epochSeconds(model, cfg, x, y, seeds.derive("minibatches", width, r));
                } finally {
                    Gemm.restore(chosen);
                }
            }
            if (references && peerEpoch != null) {
                peer[r] = peerEpoch.getAsDouble();
                if (Double.isNaN(peer[r])) {
                    peerEpoch = null;  // it said why in its row; no point asking again
                }
            }
        }
        double[] effective = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            effective[r] = 6.0 * weights * n / ours[r] / 1e9;
        }
        String rawMkl = ceiling.mkl().library().name();
        String rawOpenblas = ceiling.openblas().library().name();
        String rawTraining = kernelsOnOpenblas ? rawOpenblas : rawMkl;
        String raw32 = rawMkl;  // the bf16 products exist only in MKL
        String how = String.format(Locale.ROOT, "called directly on the %d products of one training step at batch %d "
                + "(child JVM, %d threads)", step.size(), BATCH, ceiling.mkl().threads());
        Spread ceiling32 = Spread.of(fp32);
        Map<String, Long> wins = new java.util.TreeMap<>();
        fastest.forEach(name -> wins.merge(name, 1L, Long::sum));
        rows.add(new Row(net + " fp32 ceiling (best BLAS: " + rawMkl + " or " + rawOpenblas + " sgemm)",
                ceiling32.median(), "GFLOP/s", Double.NaN, "", "the faster library each round, rounds won " + wins
                + "; cblas_sgemm " + how + "; " + ceiling32.range() + "; per product: " + medians(perProduct32)));
        if (ceiling.bf16Unsupported() == null) {
            Spread ratio = Spread.ofRatios(bf16, fp32);
            rows.add(new Row(net + " bf16 ceiling (" + raw32 + " gemm_bf16bf16f32)", Spread.of(bf16).median(), "GFLOP/s",
                    ratio.median(), "of fp32 ceiling", "bfloat16 operands, fp32 accumulation, the same products and threads; ratio " + ratio.range() + "; per product: " + medians(perProduct16)));
        } else {
            rows.add(new Row(net + " bf16 ceiling (" + raw32 + " gemm_bf16bf16f32)", Double.NaN, "", Double.NaN, "",
                    ceiling.bf16Unsupported()));
        }
        String kernelsNote = "; our kernels multiply with " + kernelsBlas + " here (" + Gemm.describe() + ")";
        Spread mklRatio = Spread.ofRatios(mklRate, fp32);
        rows.add(new Row(net + " " + rawMkl + " sgemm (ND4J's BLAS)", Spread.of(mklRate).median(), "GFLOP/s",
                mklRatio.median(), "of fp32 ceiling", "the build ND4J multiplies with, called the same way; ratio "
                + mklRatio.range() + "; per product: " + medians(perProductMkl) + (kernelsOnOpenblas ? "" : kernelsNote)));
        Spread openblasRatio = Spread.ofRatios(openblas, fp32);
        rows.add(new Row(net + " " + rawOpenblas + " sgemm", Spread.of(openblas).median(), "GFLOP/s",
                openblasRatio.median(), "of fp32 ceiling", "OpenBLAS as JavaCPP ships it (DYNAMIC_ARCH), called the same "
                + "way; ratio " + openblasRatio.range() + "; per product: " + medians(perProductOpenblas)
                + (kernelsOnOpenblas ? kernelsNote : "")));
        Spread nd4jRatio = Spread.ofRatios(nd4j, fp32);
        rows.add(new Row(net + " ND4J mmul", Spread.of(nd4j).median(), "GFLOP/s", nd4jRatio.median(), "of fp32 ceiling",
                "ND4J matrix products of one training step, DL4J's layouts, batch 128; ratio " + nd4jRatio.range()));
        Spread seconds = Spread.of(ours);
        Spread ofCeiling = Spread.ofRatios(effective, fp32);
        rows.add(new Row(net + " training", n / seconds.median(), "examples/s", ofCeiling.median(), "of fp32 ceiling",
                String.format(Locale.ROOT, "%.1f GFLOP/s effective, %.2f s/epoch of %d (medians); ratio %s; "
                        + "of ND4J mmul %s; of %s sgemm %s", Spread.of(effective).median(), seconds.median(), n,
                        ofCeiling.range(), Spread.ofRatios(effective, nd4j).describe(), rawTraining,
                        Spread.ofRatios(effective, kernelsOnOpenblas ? openblas : mklRate).describe())));
        if (model16 != null) {
            Spread seconds16 = Spread.of(ours16);
            Spread vsFp32 = Spread.ofRatios(ours16, ours);
            double[] effective16 = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                effective16[r] = 6.0 * weights * n / ours16[r] / 1e9;
            }
            rows.add(new Row(net + " training in bf16", n / seconds16.median(), "examples/s", vsFp32.median(),
                    "our bf16 epoch time / our fp32's", String.format(Locale.ROOT, "hidden layers' products in bfloat16 "
                    + "(fp32 accumulation and master weights, MKL gemm_bf16bf16f32), %.2f s/epoch (median); ratio %s; "
                    + "%.1f GFLOP/s effective, of the bf16 ceiling %s", seconds16.median(), vsFp32.range(),
                    Spread.of(effective16).median(), ceiling.bf16Unsupported() == null
                            ? Spread.ofRatios(effective16, bf16).describe() : "not measured")));
        } else {
            rows.add(new Row(net + " training in bf16", Double.NaN, "", Double.NaN, "", "not measured: " + bf16Unsupported));
        }
        if (!references) {
            return;
        }
        Spread blasRatio = Spread.ofRatios(ours, otherBlas);
        String other = kernelsOnOpenblas ? rawMkl : rawOpenblas;
        rows.add(new Row(net + " training with " + other + " products", n / Spread.of(otherBlas).median(), "examples/s",
                blasRatio.median(), "our epoch time / with " + other + "'s", String.format(Locale.ROOT, "the same net "
                + "and minibatches, its products on the library Gemm did not choose here (%s chose %s); ratio %s",
                Gemm.describe().contains("auto") ? "auto" : "configured", rawTraining, blasRatio.range())));
        Spread fusedRatio = Spread.ofRatios(ours, threePass);
        rows.add(new Row(net + " Adam's update in one pass vs DL4J's three", n / Spread.of(threePass).median(),
                "examples/s", fusedRatio.median(), "our epoch time / with DL4J's passes", String.format(Locale.ROOT,
                "FusedStep: Adam's pass also divides by the minibatch and subtracts the update, bit-identical; "
                + "against the same net with -D%s=false (ND4J divi, FusedAdam, ND4J subi), %.2f s/epoch (median); "
                + "ratio %s", darkknowledge.kernels.FusedStep.DISABLE_PROPERTY, Spread.of(threePass).median(),
                fusedRatio.range())));
        Spread stockRatio = Spread.ofRatios(ours, stock);
        rows.add(new Row(net + " stock DL4J layers + Adam", n / Spread.of(stock).median(), "examples/s",
                stockRatio.median(), "our epoch time / stock's", String.format(Locale.ROOT,
                "stock %.2f s/epoch (median): DenseLayer recomputes z in backprop, ND4J adam_updater op; ratio %s",
                Spread.of(stock).median(), stockRatio.range())));
        adamStep(weights);
        adamStepOnALateState(weights);
        Spread peerSeconds = Spread.of(peer);
        if (peerSeconds.rounds() > 0) {
            Spread peerRatio = Spread.ofRatios(ours, peer);
            rows.add(new Row(net + " NumPy peer", n / peerSeconds.median(), "examples/s", peerRatio.median(),
                    "our epoch time / peer's", String.format(Locale.ROOT,
                    "peer %.2f s/epoch (median, scaled to %d examples), NumPy's default threads, " + NumpyPeer.peerKernels()
                    + "; ratio %s; ours: "
                    + NumpyPeer.blasThreads(), peerSeconds.median(), n, peerRatio.range())));
            if (model16 != null) {
                Spread peerRatio16 = Spread.ofRatios(ours16, peer);
                rows.add(new Row(net + " NumPy peer vs our bf16", n / peerSeconds.median(), "examples/s",
                        peerRatio16.median(), "our bf16 epoch time / peer's", "the same peer rounds; ratio "
                        + peerRatio16.range()));
            }
        }
        distillationOverhead(cfg, x, y, model, seeds.derive("minibatches", width));
        longTraining(cfg, x, y, seeds.derive("long", width));
    }

    /**
     * Does an epoch cost more late in a long training than early, in one process? One
     * fresh 800-800 net trains {@code E} epochs of (at most) 12,000 images, 94 steps each: epochs 2–4
     * end before Adam's idle moments can reach float's subnormal range (m from ~600 steps on, see
     * {@code Subnormals}), the last ones are thousands of steps later. Late / early is the median of
     * the last three epochs over that of epochs 2–4; the note counts the subnormal values left in the
     * net's optimiser state at the end (0 with the guard). Then, to tell the net's state from the
     * process's, the long net's next epochs alternate with those of a second fresh net (after one
     * warm-up epoch): the ratio of each pair, median and range.
     */
    private void longTraining(MlpConfig cfg, INDArray allX, INDArray allY, long seed) {
        int epochs = scale == Scale.TINY ? 7 : scale == Scale.SMALL ? 30 : 60;
        long n = Math.min(allX.rows(), 12_000);
        INDArray x = allX.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        INDArray y = allY.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup();
        Classifier longNet = Classifier.create(cfg, 784, 10, null, seed);
        double[] s = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            s[e] = epochSeconds(longNet, cfg, x, y, seed + e);
        }
        Spread early = Spread.of(Arrays.copyOfRange(s, 1, 4));
        Spread late = Spread.of(Arrays.copyOfRange(s, epochs - 3, epochs));
        long steps = (long) epochs * ((x.rows() + BATCH - 1) / BATCH);
        long[] subnormal = darkknowledge.kernels.Subnormals.countInState(longNet.network());
        rows.add(new Row("784-800-800-10 long training, late / early epoch", late.median() / early.median(),
                "ratio", Double.NaN, "", String.format(Locale.ROOT, "one net, one process, %d epochs (%d steps) of "
                + "%d examples: epochs 2-4 %.3f s (%s), last 3 %.3f s (%s); subnormal values in its Adam state at "
                + "the end: %d of %d; not side by side (the machine may drift over the hour): the goal reads the "
                + "next row", epochs, steps, x.rows(), early.median(), early.range(),
                late.median(), late.range(), subnormal[0], subnormal[1])));
        Classifier fresh = Classifier.create(cfg, 784, 10, null, seed + 1);
        epochSeconds(fresh, cfg, x, y, seed);
        int rounds = 3;
        double[] old = new double[rounds];
        double[] young = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            old[r] = epochSeconds(longNet, cfg, x, y, seed + epochs + r);
            young[r] = epochSeconds(fresh, cfg, x, y, seed + epochs + r);
        }
        Spread pair = Spread.ofRatios(old, young);
        rows.add(new Row("784-800-800-10 long training, late epoch / a fresh net's", pair.median(), "ratio",
                Double.NaN, "", String.format(Locale.ROOT, "the long net's epochs %d-%d alternated with a second net's "
                + "epochs 2-4, same minibatches; ratio %s; goal <= 1.05", epochs + 1, epochs + rounds, pair.range())));
    }

    /**
     * What {@link darkknowledge.kernels.Subnormals}' guard is worth: one Adam step on a state that
     * looks like a long training's, a tenth of the parameters idle (zero gradient) with moments spread
     * log-uniformly over 10⁻⁴⁵–10⁻³⁰ (the tail of their geometric decay), against the same step on a
     * state without them. FusedAdam flushes such moments at once; ND4J's op keeps computing on them.
     */
    private void adamStepOnALateState(long parameters) {
        int steps = scale == Scale.TINY ? 5 : 50;
        long idle = parameters / 10;
        INDArray g = Nd4j.rand(Nd4j.create(DataType.FLOAT, 1, parameters), seeds.derive("adam-gradient")).muli(1e-3);
        g.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, idle)).assign(0);
        INDArray tail = Nd4j.rand(Nd4j.create(DataType.FLOAT, 1, idle), seeds.derive("adam-tail")).muli(-15 * Math.log(10))
                .addi(-30 * Math.log(10));
        org.nd4j.linalg.ops.transforms.Transforms.exp(tail, false);
        INDArray work = g.dup();
        var configs = List.of(new FusedAdam(1e-3), new Adam(1e-3));
        double[][] ms = new double[2][2];
        for (int u = 0; u < 2; u++) {
            for (int late = 0; late < 2; late++) {
                INDArray state = Nd4j.zeros(DataType.FLOAT, 1, 2 * parameters);
                var updater = configs.get(u).instantiate(state, true);
                for (int it = -5; it < steps; it++) {  // 5 warm-up steps, then the state is set and steps timed
                    if (it == 0 && late == 1) {
                        state.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, idle)).assign(tail);
                        state.get(NDArrayIndex.point(0), NDArrayIndex.interval(parameters, parameters + idle))
                                .assign(tail);
                    }
                    work.assign(g);
                    long t0 = System.nanoTime();
                    updater.applyUpdater(work, Math.max(it, 0) + 1000, 0);
                    if (it >= 0) {
                        ms[u][late] += (System.nanoTime() - t0) / 1e6 / steps;
                    }
                }
            }
        }
        rows.add(new Row("Adam step on a long training's state", ms[0][1], "ms", ms[0][1] / ms[0][0],
                "of the step on a fresh state", String.format(Locale.ROOT, "%d parameters, a tenth idle with moments "
                + "in 1e-45..1e-30 (subnormal below 1.2e-38); FusedAdam flushes them (Subnormals); ND4J's adam_updater "
                + "op: %.2f ms, %.2f x its fresh-state step", parameters, ms[1][1], ms[1][1] / ms[1][0])));
    }

    /** Per product, its median GFLOP/s over the rounds ({@link GemmCeiling#perProduct}). */
    private static String medians(Map<GemmCeiling.Product, double[]> gflops) {
        Map<GemmCeiling.Product, Double> m = new LinkedHashMap<>();
        gflops.forEach((p, v) -> m.put(p, Spread.of(v).median()));
        return GemmCeiling.perProduct(m);
    }

    private static void collect(Map<GemmCeiling.Product, Double> seconds, Map<GemmCeiling.Product, double[]> gflops,
                                int round, int rounds) {
        seconds.forEach((p, s) -> gflops.computeIfAbsent(p, k -> new double[rounds])[round] = p.flop() / s / 1e9);
    }

    /**
     * Distillation overhead (§2): a student of the same shape learns from {@code hard}'s soft targets at
     * T = 20 (cached once) plus the labels, hard weight 0.5 ({@link DistillationLoss}); after a warm-up
     * epoch, its epochs alternate with epochs of {@code hard} on the labels, in {@link Bench#ROUNDS}
     * rounds, each pair on the same minibatches so that only the targets and the loss differ. The row is
     * the student's median epoch and the median and range of the per-round ratios.
     */
    private void distillationOverhead(MlpConfig cfg, INDArray x, INDArray y, Classifier hard, long minibatchSeed) {
        Teacher t = Teacher.single("bench-teacher", 10, hard::logits);
        INDArray targets = SoftTargets.compute(t, x, 20).withHardLabels(y);
        Classifier student = Classifier.create(cfg, 784, 10, new DistillationLoss(20, 0.5), seeds.derive("student"));
        epochSeconds(student, cfg, x, targets, minibatchSeed);  // warm-up
        int rounds = Bench.ROUNDS;
        double[] soft = new double[rounds];
        double[] plain = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long seed = seeds.derive("distillation-minibatches", r);
            if (r % 2 == 0) {
                plain[r] = epochSeconds(hard, cfg, x, y, seed);
                soft[r] = epochSeconds(student, cfg, x, targets, seed);
            } else {
                soft[r] = epochSeconds(student, cfg, x, targets, seed);
                plain[r] = epochSeconds(hard, cfg, x, y, seed);
            }
        }
        Spread ratio = Spread.ofRatios(soft, plain);
        rows.add(new Row("distillation epoch (T=20, soft+hard)", Spread.of(soft).median(), "s/epoch", ratio.median(),
                "of hard-label epoch", "student epochs alternated with hard-label epochs of the same net on the same "
                + "minibatches; ratio " + ratio.range() + "; teacher outputs cached once, not recomputed per batch; "
                + "goal <= 1.1"));
    }

    /** {@code epoch} run with {@link darkknowledge.kernels.FusedStep} off (a net first trained so stays on DL4J's passes). */
    private static double withoutFusedStep(java.util.function.DoubleSupplier epoch) {
        String key = darkknowledge.kernels.FusedStep.DISABLE_PROPERTY;
        String before = System.getProperty(key);
        System.setProperty(key, "false");
        try {
            return epoch.getAsDouble();
        } finally {
            if (before == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, before);
            }
        }
    }

    /** Seconds of one more epoch of {@code model} ({@code cfg} has one epoch), minibatches drawn from {@code seed}. */
    private static double epochSeconds(Classifier model, MlpConfig cfg, INDArray x, INDArray y, long seed) {
        Trainer.Outcome o = Trainer.fit("bench", model, new Trainer.TrainingData(x, y, 28, 28), null, cfg, seed, r -> { });
        return o.history().get(0).seconds();
    }

    /** One Adam step over a net's parameters: {@code FusedAdam} vs ND4J's adam_updater op. */
    private void adamStep(long parameters) {
        INDArray g = Nd4j.rand(Nd4j.create(DataType.FLOAT, 1, parameters), seeds.derive("adam-gradient")).muli(1e-3);
        INDArray work = g.dup();
        double[] ms = new double[2];
        var configs = List.of(new FusedAdam(1e-3), new Adam(1e-3));
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

    /**
     * ND4J's fp32 GEMM rate of one training step's matrix products at these layer shapes, in the layouts
     * DL4J uses: weights 'f'-ordered; forward {@code z = x W} into a 'c' array; {@code dW = xᵀ δ} into
     * the 'f'-ordered gradient view; {@code εᵀ = W δᵀ} into an 'f' array. (A 'c'-ordered {@code dW}
     * target runs at a fifth of this rate here, which is why the layout matters.) Operands are
     * uniform on [0, 1) from streams derived from {@code seed}.
     */
    static double gemmGflops(List<Integer> hidden, int batch, int repeats, long seed) {
        Seeds s = new Seeds(seed);
        List<Integer> sizes = new ArrayList<>(List.of(784));
        sizes.addAll(hidden);
        sizes.add(10);
        List<INDArray[]> layers = new ArrayList<>();
        for (int i = 0; i + 1 < sizes.size(); i++) {
            long in = sizes.get(i);
            long out = sizes.get(i + 1);
            layers.add(new INDArray[] {
                Nd4j.rand(Nd4j.create(DataType.FLOAT, batch, in), s.derive("x", i)),
                Nd4j.rand(Nd4j.create(DataType.FLOAT, new long[] {in, out}, 'f'), s.derive("w", i)),
                Nd4j.rand(Nd4j.create(DataType.FLOAT, batch, out), s.derive("delta", i)),
                Nd4j.create(DataType.FLOAT, batch, out),
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
}
