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
    void aModelSavedForInferenceHasNoOptimiserStateLoadsWithTheSameParametersAndIsSmaller(@TempDir Path dir)
            throws Exception {
        INDArray[] train = blobs(300, 6);
        Classifier c = Classifier.create(config(1), 20, 3, null, 1);
        Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, config(1), 9, r -> { });
        Path full = dir.resolve("full.zip");
        Path inference = dir.resolve("inference.zip");
        c.save(full);
        c.saveForInference(inference);
        Classifier loaded = Classifier.load(inference);
        assertEquals(c.fingerprint(), loaded.fingerprint());
        INDArray x = blobs(10, 7)[0];
        assertArrayEquals(c.predict(x), loaded.predict(x));
        assertTrue(Files.size(inference) < Files.size(full) / 2, "Adam's two moments left out: "
                + Files.size(inference) + " vs " + Files.size(full) + " bytes");
        try (var zip = new java.util.zip.ZipFile(inference.toFile())) {
            assertTrue(zip.stream().noneMatch(e -> e.getName().toLowerCase(java.util.Locale.ROOT).contains("updater")),
                    "no updater entry");
        }
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

    @Test
    void withoutAValidationSplitTheLastEpochIsKeptAndEarlyStoppingIsRefused() {
        INDArray[] train = blobs(300, 10);
        MlpConfig cfg = config(3);
        Classifier c = Classifier.create(cfg, 20, 3, null, 1);
        List<Trainer.EpochReport> seen = new ArrayList<>();
        Trainer.Outcome o = Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, cfg, 9,
                seen::add);
        assertEquals(2, o.bestEpoch(), "the last epoch");
        assertEquals(-1, o.bestValidationErrors());
        assertTrue(seen.stream().allMatch(r -> r.validationExamples() == 0 && r.validationErrors() == -1));
        MlpConfig patient = new MlpConfig(List.of(16, 16), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 1, 3, 128,
                2, 0);
        var e = assertThrows(IllegalArgumentException.class, () -> Trainer.fit("baseline",
                Classifier.create(patient, 20, 3, null, 1), new Trainer.TrainingData(train[0], train[1], 0, 0), null,
                patient, 9, r -> { }));
        assertTrue(e.getMessage().contains("baseline") && e.getMessage().contains("patience"), e.getMessage());
    }

    private static MlpConfig sgd(double momentumStart, double momentum, int rampEpochs, boolean damped) {
        return new MlpConfig(List.of(16, 16), 0, 0, 0, 0, MlpConfig.Optimizer.SGD_MOMENTUM, 0.05, momentum, 0.9, 2,
                128, 0, 0, momentumStart, rampEpochs, damped);
    }

    @Test
    void theMomentumRisesLinearlyThenHoldsAndADampedStepIsScaledByOneMinusIt() {
        MlpConfig cfg = sgd(0.5, 0.99, 4, true);
        double[] expected = {0.5, 0.6225, 0.745, 0.8675, 0.99, 0.99, 0.99};
        Classifier c = Classifier.create(cfg, 20, 3, null, 1);
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], cfg.momentumAt(e), 1e-12, "epoch " + e);
            assertEquals(expected[e], c.momentumAt(e), 1e-12, "DL4J's schedule, epoch " + e);
            assertEquals(0.05 * Math.pow(0.9, e) * (1 - expected[e]), cfg.learningRateAt(e), 1e-12, "epoch " + e);
        }
        MlpConfig constant = sgd(0.5, 0.99, 0, false);
        assertEquals(0.99, constant.momentumAt(0));
        assertEquals(0.05 * 0.9, constant.learningRateAt(1), 1e-12);
    }

    @Test
    void theUpdaterReadsTheMomentumOfTheCurrentEpoch() {
        INDArray[] train = blobs(300, 11);
        // Ramp 0.5 -> 0.9 over two epochs (0.5, 0.7, then 0.9) against a constant 0.5: the same first
        // epoch, a different second.
        MlpConfig ramp = sgd(0.5, 0.9, 2, false);
        MlpConfig flat = new MlpConfig(List.of(16, 16), 0, 0, 0, 0, MlpConfig.Optimizer.SGD_MOMENTUM, 0.05, 0.5, 0.9, 1,
                128, 0, 0);
        Classifier a = Classifier.create(ramp.withEpochs(1), 20, 3, null, 5);
        Classifier b = Classifier.create(flat, 20, 3, null, 5);
        for (Classifier c : List.of(a, b)) {
            Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, flat, 9, r -> { });
        }
        assertEquals(a.fingerprint(), b.fingerprint(), "epoch 0: momentum 0.5 in both");
        Classifier a2 = Classifier.create(ramp, 20, 3, null, 5);
        Classifier b2 = Classifier.create(flat.withEpochs(2), 20, 3, null, 5);
        for (Classifier c : List.of(a2, b2)) {
            Trainer.fit("net", c, new Trainer.TrainingData(train[0], train[1], 0, 0), null, ramp, 9, r -> { });
        }
        assertTrue(!a2.fingerprint().equals(b2.fingerprint()), "epoch 1: 0.7 against 0.5");
        assertEquals(2, a2.network().getLayerWiseConfigurations().getEpochCount());
    }

    @Test
    void aMomentumScheduleSurvivesSavingAndLoading(@TempDir Path dir) {
        MlpConfig cfg = sgd(0.5, 0.99, 4, true);
        Classifier c = Classifier.create(cfg, 20, 3, null, 1);
        Path f = dir.resolve("m.zip");
        c.save(f);
        Classifier loaded = Classifier.load(f);
        for (int e = 0; e < 6; e++) {
            assertEquals(cfg.momentumAt(e), loaded.momentumAt(e), 1e-12, "epoch " + e);
        }
    }

    @Test
    void aMomentumRampOrDampingWithAdamIsAnErrorNamingTheKey() {
        var ramp = assertThrows(darkknowledge.core.Check.InvalidValue.class, () -> new MlpConfig(List.of(16), 0, 0, 0,
                0, MlpConfig.Optimizer.ADAM, 1e-3, 0.9, 1, 1, 128, 0, 0, 0.5, 10, false));
        assertEquals("momentumRampEpochs", ramp.field());
        var damped = assertThrows(darkknowledge.core.Check.InvalidValue.class, () -> new MlpConfig(List.of(16), 0, 0, 0,
                0, MlpConfig.Optimizer.ADAM, 1e-3, 0.9, 1, 1, 128, 0, 0, 0.5, 0, true));
        assertEquals("momentumDamped", damped.field());
        var start = assertThrows(darkknowledge.core.Check.InvalidValue.class, () -> sgd(1.0, 0.99, 4, true));
        assertEquals("momentumStart", start.field());
    }
}
