package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link FusedStep}: a net whose updates are one pass ends every step with exactly the parameters and
 * Adam state of the same net trained by DL4J's three passes; nets it cannot fuse train as before.
 */
class FusedStepTest {
    /** Minibatches of 128 (DL4J divides exactly), 96 and 37 rows (it does not): the divisions must agree too. */
    private static final int[] ROWS = {128, 96, 37, 128};

    private static void assertSameBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.dup().data().asFloat(), actual.dup().data().asFloat(), what);
    }

    /** Trains {@code fused} (installed) and {@code plain} side by side, asserting equal bits after every step. */
    private static void assertTrainsBitForBit(MultiLayerNetwork fused, MultiLayerNetwork plain, int inputs, int classes) {
        assertNull(FusedStep.install(fused));
        assertTrue(FusedStep.installed(fused));
        assertFalse(FusedStep.installed(plain));
        for (int step = 0; step < 8; step++) {
            int rows = ROWS[step % ROWS.length];
            INDArray[] xy = Dl4jTwin.batch(rows, inputs, classes, 3 + step);
            Nd4j.getRandom().setSeed(500 + step);  // dropout masks
            plain.fit(xy[0], xy[1]);
            Nd4j.getRandom().setSeed(500 + step);
            fused.fit(xy[0], xy[1]);
            assertSameBits(plain.params(), fused.params(), "parameters after step " + step + " (" + rows + " rows)");
            assertSameBits(plain.getUpdater().getStateViewArray(), fused.getUpdater().getStateViewArray(),
                    "Adam's m and v after step " + step);
        }
    }

    @Test
    void anMlpTrainsBitForBitAsWithDl4jsThreePasses() {
        MlpConfig cfg = MlpConfig.plain(List.of(40, 24), 1);
        assertTrainsBitForBit(Classifier.create(cfg, 30, 5, null, 3).network(),
                Classifier.create(cfg, 30, 5, null, 3).network(), 30, 5);
    }

    /** Dropout and a max-norm constraint (applied after the step, as DL4J does) do not stop the fusion. */
    @Test
    void withDropoutAndMaxNormToo() {
        MlpConfig cfg = new MlpConfig(List.of(40, 24), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9, 1.0, 1,
                32, 0, 0);
        assertTrainsBitForBit(Classifier.create(cfg, 30, 5, null, 4).network(),
                Classifier.create(cfg, 30, 5, null, 4).network(), 30, 5);
    }

    @Test
    void aConvNetTrainsBitForBitToo() {
        ConvConfig cfg = ConvConfig.small(1).withInput(12, 12, 1).withChannels(List.of(4, 6), 1);
        assertTrainsBitForBit(Classifier.create(cfg, 7, null, 5).network(), Classifier.create(cfg, 7, null, 5).network(),
                144, 7);
    }

    /** A fused net given DL4J's plain updater later (over the same state) takes DL4J's passes again, still exactly. */
    @Test
    void aReplacedUpdaterFallsBackToDl4jsStep() {
        MlpConfig cfg = MlpConfig.plain(List.of(20), 1);
        MultiLayerNetwork fused = Classifier.create(cfg, 10, 3, null, 6).network();
        MultiLayerNetwork plain = Classifier.create(cfg, 10, 3, null, 6).network();
        assertTrainsBitForBit(fused, plain, 10, 3);
        fused.setUpdater(new MultiLayerUpdater(fused, fused.getUpdater().getStateViewArray()));
        assertFalse(FusedStep.installed(fused));
        for (int step = 0; step < 3; step++) {
            INDArray[] xy = Dl4jTwin.batch(50, 10, 3, 1 + step);
            plain.fit(xy[0], xy[1]);
            fused.fit(xy[0], xy[1]);
            assertSameBits(plain.params(), fused.params(), "parameters after fallback step " + step);
        }
    }

    /** Installing twice, or after training started (Adam's state kept), changes nothing. */
    @Test
    void installIsIdempotentAndKeepsTheState() {
        MlpConfig cfg = MlpConfig.plain(List.of(20), 1);
        MultiLayerNetwork fused = Classifier.create(cfg, 10, 3, null, 8).network();
        MultiLayerNetwork plain = Classifier.create(cfg, 10, 3, null, 8).network();
        for (int step = 0; step < 2; step++) {
            INDArray[] xy = Dl4jTwin.batch(40, 10, 3, 2);
            plain.fit(xy[0], xy[1]);
            fused.fit(xy[0], xy[1]);
        }
        assertNull(FusedStep.install(fused));
        assertTrainsBitForBit(fused, plain, 10, 3);
    }

    /** L2 (added between DL4J's division and its updater) and SGD with momentum keep DL4J's passes. */
    @Test
    void netsItCannotFuseTrainAsBefore() {
        MlpConfig l2 = new MlpConfig(List.of(20), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-3, 0.9, 1.0, 1, 32, 0, 1e-4);
        MultiLayerNetwork net = Classifier.create(l2, 10, 3, null, 9).network();
        String why = FusedStep.install(net);
        assertNotNull(why);
        assertTrue(why.contains("regularisation"), why);
        assertFalse(FusedStep.installed(net));
        MlpConfig momentum = new MlpConfig(List.of(20), 0, 0, 0, 0, MlpConfig.Optimizer.SGD_MOMENTUM, 1e-2, 0.9, 1.0, 1,
                32, 0, 0);
        String notAdam = FusedStep.install(Classifier.create(momentum, 10, 3, null, 9).network());
        assertNotNull(notAdam);
        assertTrue(notAdam.contains("updater"), notAdam);
    }
}
