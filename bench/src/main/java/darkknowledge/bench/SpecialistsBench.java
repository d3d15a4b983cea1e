package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Seeds;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.specialists.DustbinCorrection;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.Specialists;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Specialists in parallel (§5.2: each specialist trains independently, so they are the natural unit
 * of work): wall time of training 4 specialists with 2 workers vs 1, each specialist single-threaded,
 * on a synthetic 40-class problem in 4 planted groups.
 */
final class SpecialistsBench {
    private SpecialistsBench() {
    }

    static List<Row> measure(int perClass, Seeds seeds) {
        var g = SyntheticClasses.generate(new SyntheticClasses.Spec(40, 4, 100, 0.9, 1.0, perClass, 10,
                seeds.derive("specialists-data")));
        MlpConfig cfg = MlpConfig.plain(List.of(256, 256), 2);
        INDArray x = g.train().featuresMatrix();
        Classifier gen = Classifier.create(cfg, 100, 40, null, seeds.derive("specialists-generalist"));
        List<int[]> subsets = g.groups().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        double[] seconds = new double[2];
        for (int workers = 1; workers <= 2; workers++) {
            var sc = new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 3, 1e-3, 1, 0, workers);
            long t0 = System.nanoTime();
            // the same seeds for both worker counts: the same nets and minibatches, only the schedule differs
            Specialists.trainAll(gen, cfg, subsets, sc, x, g.train().labels(), x, g.train().labels(), 0, 0,
                    new Seeds(seeds.derive("specialists")), r -> { });
            seconds[workers - 1] = (System.nanoTime() - t0) / 1e9;
        }
        return List.of(new Row("4 specialists, 2 workers vs 1", seconds[1], "s", seconds[1] / seconds[0], "of 1 worker",
                String.format(Locale.ROOT, "1 worker %.2f s; 100-256-256-11 nets, %d examples each, 3 epochs",
                        seconds[0], perClass * 20)));
    }
}
