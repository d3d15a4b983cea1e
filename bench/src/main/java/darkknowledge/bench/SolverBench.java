package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Seeds;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.specialists.KlCombiner;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The §5.4 solver (Hinton et al. 2015, eq. 5: minimise {@code KL(p^g, q) + Σ_m KL(p^m, q)} over the
 * full distribution q): examples/s with 10, 100 and 1,000 active specialist classes out of 1,000
 * (examples solved in parallel, as {@code SpecialistEnsemble} does), vs the forward pass of a
 * 1,000-class generalist on the same number of examples (best of 5; its products use every core too).
 * Predictions are peaked random distributions ({@code p_i ∝ exp(3 z_i)}, z standard normal).
 */
final class SolverBench {
    private static final int CLASSES = 1000;

    private SolverBench() {
    }

    static List<Row> measure(int examples, Seeds seeds) {
        SplittableRandom r = new SplittableRandom(seeds.derive("solver-predictions"));
        double[][] pg = new double[examples][];
        for (int i = 0; i < examples; i++) {
            pg[i] = peaked(r, CLASSES);
        }
        double forward = forwardSeconds(examples, seeds);
        KlCombiner solver = KlCombiner.defaults();
        List<Row> rows = new ArrayList<>();
        for (int active : List.of(10, 100, 1000)) {
            int specialists = Math.max(1, active / 50);
            int size = active / specialists;
            List<List<KlCombiner.View>> views = new ArrayList<>();
            for (int i = 0; i < examples; i++) {
                List<KlCombiner.View> v = new ArrayList<>();
                for (int m = 0; m < specialists; m++) {
                    int[] subset = IntStream.range(m * size, Math.min(CLASSES - 1, (m + 1) * size)).toArray();
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
        return rows;
    }

    /** Best of 5 forward passes of a 784-512-1000 net after a warm-up (one call is ~20 ms). */
    private static double forwardSeconds(int examples, Seeds seeds) {
        Classifier generalist = Classifier.create(MlpConfig.plain(List.of(512), 1), 784, CLASSES, null,
                seeds.derive("solver-generalist"));
        INDArray x = Nd4j.rand(Nd4j.create(DataType.FLOAT, examples, 784), seeds.derive("solver-images"));
        double forward = Double.POSITIVE_INFINITY;
        generalist.logits(x);
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            generalist.logits(x);
            forward = Math.min(forward, (System.nanoTime() - t0) / 1e9);
        }
        return forward;
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
}
