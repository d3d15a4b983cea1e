package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.distill.DistillationLoss;
import darkknowledge.distill.SoftTargets;
import darkknowledge.distill.Teacher;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.FusedAdam;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The MLP's training step at the paper's MNIST sizes (§3: 784-800-800-10 and 784-1200-1200-10,
 * Adam, batch 128, one epoch after a warm-up epoch):
 * <ul>
 * <li>examples/s and effective GFLOP/s (6 × weights × examples / seconds), divided by the fp32 GEMM
 *     rate measured here at the same shapes: the ceiling, an epoch that did nothing but its matrix
 *     products;
 * <li>the 800-800 net built from DL4J's stock parts (DenseLayer, ND4J's Adam) vs ours
 *     ({@code ReluDense}, {@code FusedAdam}), and one Adam step of each updater alone;
 * <li>the 800-800 epoch vs the NumPy peer's, run right before on the same data;
 * <li>distillation overhead (§2): a student epoch on cached soft targets at T = 20 (soft + hard,
 *     {@code T² · CE(p_T, q_T) + w · CE(y, q_1)}) vs a hard-label epoch.
 * </ul>
 */
final class TrainingBench {
    private final Scale scale;
    private final Seeds seeds;
    private final List<Row> rows = new ArrayList<>();

    private TrainingBench(Scale scale, Seeds seeds) {
        this.scale = scale;
        this.seeds = seeds;
    }

    /**
     * @param x, y the first n MNIST training images (rows) and their one-hot labels
     * @param numpySeconds the peer's seconds per epoch scaled to n examples, NaN when it did not run
     */
    static List<Row> measure(Scale scale, Seeds seeds, INDArray x, INDArray y, double numpySeconds) {
        TrainingBench b = new TrainingBench(scale, seeds);
        for (List<Integer> hidden : List.of(List.of(800, 800), List.of(1200, 1200))) {
            b.net(hidden, x, y, numpySeconds);
        }
        return b.rows;
    }

    private void net(List<Integer> hidden, INDArray x, INDArray y, double numpySeconds) {
        long n = x.rows();
        int width = hidden.get(0);
        String net = "784-" + width + "-" + hidden.get(1) + "-10";
        MlpConfig cfg = MlpConfig.plain(hidden, 2);
        long weights = cfg.parameterCount(784, 10);
        double gemm = gemmGflops(hidden, 128, scale == Scale.TINY ? 3 : 40, seeds.derive("gemm", width));
        Classifier model = Classifier.create(cfg, 784, 10, null, seeds.derive("net", width));
        double seconds = secondsPerEpoch(model, cfg, x, y, seeds.derive("minibatches", width));
        double gflops = 6.0 * weights * n / seconds / 1e9;
        rows.add(new Row(net + " GEMM ceiling", gemm, "GFLOP/s", Double.NaN, "",
                "ND4J matrix products of one training step, DL4J's layouts, batch 128"));
        rows.add(new Row(net + " training", n / seconds, "examples/s", gflops / gemm, "of GEMM ceiling",
                String.format(Locale.ROOT, "%.1f GFLOP/s effective, %.2f s/epoch of %d", gflops, seconds, n)));
        if (width != 800) {
            return;
        }
        double stock = secondsPerEpoch(Classifier.stockDl4j(cfg, 784, 10, seeds.derive("net", width)), cfg, x, y,
                seeds.derive("minibatches", width));
        rows.add(new Row(net + " stock DL4J layers + Adam", n / stock, "examples/s", seconds / stock,
                "our epoch time / stock's", String.format(Locale.ROOT,
                "stock %.2f s/epoch: DenseLayer recomputes z in backprop, ND4J adam_updater op", stock)));
        adamStep(weights);
        if (Double.isFinite(numpySeconds)) {
            rows.add(new Row(net + " NumPy peer", n / numpySeconds, "examples/s", seconds / numpySeconds,
                    "our epoch time / peer's", String.format(Locale.ROOT,
                    "peer %.2f s/epoch (scaled to %d examples), NumPy's default threads; ours: " + NumpyPeer.blasThreads(),
                    numpySeconds, n)));
        }
        distillationOverhead(cfg, x, y, seconds, model, seeds.derive("minibatches", width));
    }

    /** The student sees the hard-label epoch's minibatches ({@code minibatchSeed}), so only the targets differ. */
    private void distillationOverhead(MlpConfig cfg, INDArray x, INDArray y, double hardSeconds, Classifier teacher,
                                      long minibatchSeed) {
        Teacher t = Teacher.single("bench-teacher", 10, teacher::logits);
        INDArray targets = SoftTargets.compute(t, x, 20).withHardLabels(y);
        Classifier student = Classifier.create(cfg, 784, 10, new DistillationLoss(20, 0.5), seeds.derive("student"));
        Trainer.Outcome o = Trainer.fit("bench-student", student, new Trainer.TrainingData(x, targets, 28, 28), null,
                cfg, minibatchSeed, r -> { });
        double s = o.history().get(1).seconds();
        rows.add(new Row("distillation epoch (T=20, soft+hard)", s, "s/epoch", s / hardSeconds,
                "of hard-label epoch", "teacher outputs cached once, not recomputed per batch"));
    }

    /** Seconds of the second epoch (the first warms up the JIT, the workspaces and the caches). */
    private static double secondsPerEpoch(Classifier model, MlpConfig cfg, INDArray x, INDArray y, long seed) {
        Trainer.Outcome o = Trainer.fit("bench", model, new Trainer.TrainingData(x, y, 28, 28), null, cfg, seed, r -> { });
        return o.history().get(1).seconds();
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
     * fp32 GEMM rate of one training step's matrix products at these layer shapes, in the layouts
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
