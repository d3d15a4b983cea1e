package darkknowledge.kernels;

import darkknowledge.generalist.Trainer;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Optimiser state never becomes subnormal in training: {@link FusedAdam} flushes its own moments, and
 * {@link Trainer} flushes other updaters' state (Nesterov momentum) every {@link Subnormals#PERIOD} steps.
 */
class SubnormalsTest {

    private static long subnormals(INDArray a) {
        long count = 0;
        for (float x : a.dup().data().asFloat()) {
            if (x != 0f && Math.abs(x) < Float.MIN_NORMAL) {
                count++;
            }
        }
        return count;
    }

    @Test
    void flushZeroesOnlyValuesBelowTheThresholdInAViewWithAnOffset() {
        INDArray flat = Nd4j.create(new float[] {1f, 1e-31f, -2e-39f, 3e-30f, -1e-29f, 0f, 5e-45f, 0.5f});
        INDArray view = flat.get(NDArrayIndex.interval(1, 7));
        assertEquals(3, Subnormals.flush(view));
        assertEquals(Nd4j.create(new float[] {1f, 0f, 0f, 3e-30f, -1e-29f, 0f, 0f, 0.5f}), flat);
        INDArray d = Nd4j.create(new double[] {1e-31, 1e-300, 2});
        assertEquals(2, Subnormals.flush(d));
        assertEquals(Nd4j.create(new double[] {0, 0, 2}), d);
        assertThrows(IllegalArgumentException.class, () -> Subnormals.flush(Nd4j.create(DataType.FLOAT, 3, 4).transpose()));
    }

    /** A weight with zero gradient: 2,000 steps take m by 0.9^2000 and v by 0.999^2000 through the subnormal range. */
    @Test
    void fusedAdamsMomentsDecayToZeroWithoutPassingThroughSubnormals() {
        int n = 1000;
        INDArray state = Nd4j.zeros(DataType.FLOAT, 1, 2 * n);
        var updater = new FusedAdam(1e-3).instantiate(state, true);
        INDArray g = Nd4j.zeros(DataType.FLOAT, 1, n);
        for (int it = 0; it < 2000; it++) {
            g.assign(it == 0 ? 1e-3 : 0);  // one gradient, then none
            if (it > 0) {
                g.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, n / 2)).assign(1e-3);  // half keeps learning
            }
            updater.applyUpdater(g, it, 0);
            assertEquals(0, subnormals(state), "subnormal state after step " + it);
        }
        INDArray idleM = state.get(NDArrayIndex.point(0), NDArrayIndex.interval(n / 2, n));
        assertEquals(0.0, idleM.amaxNumber().doubleValue(), "the idle weights' m decayed to exactly 0");
        INDArray busyV = state.get(NDArrayIndex.point(0), NDArrayIndex.interval(n, n + n / 2));
        assertTrue(busyV.minNumber().doubleValue() > 1e-7, "the learning weights' v is untouched");
    }

    /**
     * Nesterov momentum (ND4J's own updater, momentum 0.5) on 200 examples, one per step, with one input
     * lit in a single example: between two visits that input's weights get ~200 steps of zero gradient,
     * which take their velocity (~10⁻³·0.5^k) through the subnormal range unless the trainer flushes it.
     */
    @Test
    void theTrainerKeepsNesterovVelocityOutOfTheSubnormalRangeAtEveryStep() {
        int rows = 200;
        MlpConfig cfg = new MlpConfig(List.of(8), 0, 0, 0, 0, MlpConfig.Optimizer.SGD_MOMENTUM, 0.05, 0.5, 1.0, 8, 1,
                0, 0);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, rows, 6);
        INDArray y = Nd4j.zeros(DataType.FLOAT, rows, 2);
        for (int i = 0; i < rows; i++) {
            y.putScalar(i, x.getDouble(i, 0) < 0.5 ? 0 : 1, 1);
            if (i > 0) {
                x.putScalar(i, 5, 0);
            }
        }
        Classifier model = Classifier.create(cfg, 6, 2, null, 1);
        long[] worst = {0};
        Trainer.fit("nesterov", model, new Trainer.TrainingData(x, y, 6, 1), null, cfg, 3, new Trainer.Listener() {
            @Override
            public void onBatch(String name, int epoch, int batch, int batches) {
                worst[0] = Math.max(worst[0], subnormals(model.network().getUpdater().getStateViewArray()));
            }

            @Override
            public void onEpoch(Trainer.EpochReport report) {
            }
        });
        assertEquals(0, worst[0], "most subnormal velocity values seen after a step");
    }
}
