package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

class ClassifierTest {

    /** Three well-separated Gaussian blobs in 20 dimensions: learnable in a few epochs. */
    private static INDArray[] blobs(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray centres = Nd4j.randn(DataType.FLOAT, 3, 20).muli(2);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 20).muli(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            x.getRow(i).addi(centres.getRow(labels[i]));
            y.putScalar(i, labels[i], 1);
        }
        return new INDArray[] {x, y, Nd4j.createFromArray(labels)};
    }

    private static MlpConfig config(int epochs) {
        return MlpConfig.plain(List.of(16, 16), epochs).withLearningRate(1e-2);
    }

    @Test
    void logitsOfASoftmaxNetAreItsPreSoftmaxOutputs() {
        for (List<Integer> hidden : List.of(List.of(16, 16), List.of(16), List.of(8, 8, 8))) {
            Classifier c = Classifier.create(config(1).withHidden(hidden), 20, 3, null, 1);
            INDArray x = blobs(50, 2)[0];
            INDArray z = c.logits(x);
            INDArray p = c.network().output(x, false);
            assertTrue(Transforms.softmax(z, true).equalsWithEps(p, 1e-5), "hidden " + hidden);
        }
    }

    @Test
    void relabelledTargetsFollowTheJitteredInputsNotTheStoredOnes() {
        // 5x5 images, one lit pixel in the centre, jittered by up to 1 px. The stored labels all say
        // "centre column" (class 1); the relabel reads the column the pixel landed in (class dx + 1).
        int n = 384;
        int w = 5;
        INDArray x = Nd4j.zeros(DataType.FLOAT, n, w * w);
        x.getColumn(2 * w + 2).assign(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        y.getColumn(1).assign(1);
        INDArray stored = y.dup();
        int[] calls = {0};
        int[] seen = new int[3];
        Trainer.Relabel byColumn = (f, t) -> {
            calls[0]++;
            t.assign(0);
            for (int i = 0; i < f.rows(); i++) {
                int column = f.getRow(i).argMax().getInt(0) % w;
                t.putScalar(i, column - 1, 1);
                seen[column - 1]++;
            }
        };
        MlpConfig cfg = config(40).withRegularisation(0, 0, 0, 1);
        Classifier c = Classifier.create(cfg, w * w, 3, null, 1);
        Trainer.fit("net", c, new Trainer.TrainingData(x, y, w, w, byColumn), null, cfg, 9, r -> { });
        assertEquals(3 * 40, calls[0], "once per minibatch");
        assertTrue(seen[0] > 0 && seen[2] > 0, "the relabel saw jittered images: " + java.util.Arrays.toString(seen));
        assertEquals(stored, y, "the stored targets are untouched");
        INDArray shifted = Nd4j.zeros(DataType.FLOAT, 3, w * w);
        for (int dx = -1; dx <= 1; dx++) {
            shifted.putScalar(dx + 1, 2 * w + 2 + dx, 1);
        }
        assertEquals(0, c.errors(shifted, new int[] {0, 1, 2}), "learnt the relabelled classes, not the stored one");
    }

    @Test
    void trainingLearnsSeparableBlobsAndRestoresTheBestEpoch() {
        INDArray[] train = blobs(600, 3);
        INDArray[] val = blobs(300, 3);
        Classifier c = Classifier.create(config(5), 20, 3, null, 1);
        List<Trainer.EpochReport> seen = new ArrayList<>();
        Trainer.Outcome o = Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0),
                new Trainer.Validation(val[0], val[2].toIntVector()), config(5), 9, seen::add);
        assertEquals(5, seen.size());
        assertEquals(o.bestValidationErrors(), c.errors(val[0], val[2].toIntVector()));
        assertTrue(o.bestValidationErrors() < 15, "errors " + o.bestValidationErrors());
    }

    @Test
    void sameSeedGivesIdenticalWeights() {
        INDArray[] train = blobs(300, 4);
        Classifier a = Classifier.create(config(2), 20, 3, null, 5);
        Classifier b = Classifier.create(config(2), 20, 3, null, 5);
        for (Classifier c : List.of(a, b)) {
            Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, config(2), 9, r -> { });
        }
        assertEquals(a.fingerprint(), b.fingerprint());
    }

    @Test
    void maxNormBoundsEveryUnitsIncomingWeights() {
        INDArray[] train = blobs(300, 6);
        MlpConfig cfg = config(2).withRegularisation(0.2, 0.5, 0.5, 0);
        Classifier c = Classifier.create(cfg, 20, 3, null, 5);
        Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, cfg, 9, r -> { });
        INDArray w = c.network().getLayer(0).getParam("W");
        assertEquals(20, w.rows());
        assertTrue(w.norm2(0).maxNumber().doubleValue() <= 0.5 + 1e-4, "column norms " + w.norm2(0));
    }

    @Test
    void savedModelLoadsWithTheSameLogits(@TempDir Path dir) {
        Classifier c = Classifier.create(config(1), 20, 3, null, 1);
        Path f = dir.resolve("m.zip");
        c.save(f);
        INDArray x = blobs(10, 7)[0];
        assertTrue(Classifier.load(f).logits(x).equalsWithEps(c.logits(x), 1e-6));
        assertArrayEquals(c.predict(x), Classifier.load(f).predict(x));
    }

    @Test
    void missingOrCorruptCheckpointIsAnErrorNamingTheFile(@TempDir Path dir) throws Exception {
        var missing = assertThrows(IllegalArgumentException.class, () -> Classifier.load(dir.resolve("none.zip")));
        assertTrue(missing.getMessage().contains("none.zip"));
        Path bad = dir.resolve("bad.zip");
        Files.write(bad, new byte[] {1, 2, 3});
        var corrupt = assertThrows(IllegalArgumentException.class, () -> Classifier.load(bad));
        assertTrue(corrupt.getMessage().contains("bad.zip"));
    }

    @Test
    void divergingTrainingStopsNamingModelEpochAndBatch() {
        INDArray[] train = blobs(300, 8);
        train[0].putScalar(5, 3, Float.NaN);
        MlpConfig cfg = config(1);
        Classifier c = Classifier.create(cfg, 20, 3, null, 1);
        var e = assertThrows(TrainingDivergedException.class, () -> Trainer.fit("teacher", c,
                new Trainer.TrainingData(train[0], train[1], 0, 0), null, cfg, 9, r -> { }));
        assertTrue(e.getMessage().contains("'teacher'") && e.getMessage().contains("epoch 1"), e.getMessage());
    }
}
