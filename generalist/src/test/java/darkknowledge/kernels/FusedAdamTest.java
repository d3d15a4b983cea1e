package darkknowledge.kernels;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

/** {@link FusedAdam} is ND4J's Adam, step for step, within float rounding. */
class FusedAdamTest {
    @TempDir
    Path dir;

    private static double maxRelativeDifference(INDArray a, INDArray b) {
        INDArray diff = a.sub(b);
        double scale = Math.max(1e-12, b.amaxNumber().doubleValue());
        return diff.amaxNumber().doubleValue() / scale;
    }

    /** Twenty steps on gradients of mixed scale, in a view with an offset (as DL4J's updater blocks are). */
    @Test
    void matchesNd4jAdamStepByStepOnAView() {
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            Nd4j.getRandom().setSeed(3);
            int n = 10_007;
            INDArray ours = Nd4j.zeros(type, 1, 2 * n);
            INDArray theirs = Nd4j.zeros(type, 1, 2 * n);
            GradientUpdater<?> fused = new FusedAdam(3e-3).instantiate(ours, true);
            GradientUpdater<?> nd4j = new Adam(3e-3).instantiate(theirs, true);
            for (int it = 0; it < 20; it++) {
                INDArray padded = Nd4j.randn(type, 1, n + 5).muli(Math.pow(10, (it % 5) - 3));
                INDArray g1 = padded.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, n + 5)).reshape(1, n);
                INDArray g2 = g1.dup();
                fused.applyUpdater(g1, it, 0);
                nd4j.applyUpdater(g2, it, 0);
                double tol = type == DataType.FLOAT ? 2e-5 : 1e-12;
                assertTrue(maxRelativeDifference(g1, g2) < tol, type + " step " + it + ": update differs by "
                        + maxRelativeDifference(g1, g2));
                assertTrue(maxRelativeDifference(ours, theirs) < tol, type + " step " + it + ": state differs");
            }
        }
    }

    @Test
    void aNonContiguousGradientIsUpdatedThroughACopy() {
        Nd4j.getRandom().setSeed(4);
        INDArray ours = Nd4j.zeros(DataType.FLOAT, 1, 2 * 12);
        INDArray theirs = Nd4j.zeros(DataType.FLOAT, 1, 2 * 12);
        GradientUpdater<?> fused = new FusedAdam(1e-2).instantiate(ours, true);
        GradientUpdater<?> nd4j = new Adam(1e-2).instantiate(theirs, true);
        INDArray g = Nd4j.randn(DataType.FLOAT, 4, 3).transpose();  // 'f'-strided view
        INDArray g2 = g.dup('c');
        fused.applyUpdater(g, 0, 0);
        nd4j.applyUpdater(g2, 0, 0);
        assertTrue(maxRelativeDifference(g.dup('c'), g2) < 2e-5);
    }

    @Test
    void badSettingsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new FusedAdam(1e-3, 1.0, 0.999, 1e-8));
        assertTrue(e.getMessage().contains("beta1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FusedAdam(-1));
    }

    /** A trained net's updater survives a save/load round trip (configuration JSON and M/V state). */
    @Test
    void aSavedNetReloadsWithItsUpdaterAndState() {
        MlpConfig cfg = MlpConfig.plain(List.of(16), 1);
        Classifier c = Classifier.create(cfg, 8, 3, null, 1);
        INDArray x = Nd4j.randn(DataType.FLOAT, 64, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, 3);
        for (int i = 0; i < 64; i++) {
            y.putScalar(i, i % 3, 1);
        }
        c.network().fit(x, y);
        Path file = dir.resolve("net.zip");
        c.save(file);
        Classifier back = Classifier.load(file);
        assertEquals(c.network().getLayerWiseConfigurations(), back.network().getLayerWiseConfigurations());
        assertEquals(c.network().getUpdater().getStateViewArray(), back.network().getUpdater().getStateViewArray());
        assertTrue(back.network().getLayerWiseConfigurations().getConf(0).getLayer().getUpdaterByParam("W")
                instanceof FusedAdam);
    }
}
