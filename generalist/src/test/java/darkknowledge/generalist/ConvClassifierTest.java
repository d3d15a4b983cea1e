package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The convolutional net behind {@link Classifier}: training, logits, saving, checkpoints, a new head. */
class ConvClassifierTest {
    @TempDir
    Path dir;

    private static final int SIDE = 8;

    /**
     * 8×8 grey images of four kinds of 3-pixel stroke (horizontal, vertical, "\", "/") at a random
     * place, plus Gaussian noise: a task only the stroke's shape, not its place, tells apart.
     */
    static Data strokes(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * SIDE * SIDE];
        float[] y = new float[n * 4];
        int[] labels = new int[n];
        int[][] dirs = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
        for (int i = 0; i < n; i++) {
            int k = i % 4;
            labels[i] = k;
            y[i * 4 + k] = 1;
            for (int p = 0; p < SIDE * SIDE; p++) {
                x[i * SIDE * SIDE + p] = (float) (0.3 * r.nextGaussian());
            }
            int cy = 1 + r.nextInt(SIDE - 2);
            int cx = 1 + r.nextInt(SIDE - 2);
            for (int t = -1; t <= 1; t++) {
                x[i * SIDE * SIDE + (cy + t * dirs[k][0]) * SIDE + cx + t * dirs[k][1]] += 1.5f;
            }
        }
        return new Data(Nd4j.create(x, new long[] {n, SIDE * SIDE}, 'c'), Nd4j.create(y, new long[] {n, 4}, 'c'),
                labels);
    }

    record Data(INDArray x, INDArray y, int[] labels) {
    }

    private static ConvConfig cfg(int epochs) {
        return new ConvConfig(SIDE, SIDE, 1, List.of(8, 16), 1, 3, 2, List.of(32), 0, 0, MlpConfig.Optimizer.ADAM,
                3e-3, 0.9, 1.0, epochs, 32, 0, 0, ConvConfig.Backend.IM2COL);
    }

    @Test
    void trainingLowersTheLossAndLearnsTheStrokes() {
        Data train = strokes(256, 1);
        Data val = strokes(64, 2);
        ConvConfig cfg = cfg(6).withLearningRate(5e-3);
        Classifier c = Classifier.create(cfg, 4, null, 3);
        Trainer.Outcome out = Trainer.fit("conv", c, new Trainer.TrainingData(train.x(), train.y(), SIDE, SIDE),
                new Trainer.Validation(val.x(), val.labels()), cfg, 5, r -> { });
        double first = out.history().get(0).loss();
        double last = out.history().get(out.history().size() - 1).loss();
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        // Chance is 48 errors of 64; six short epochs reach about 23.
        assertTrue(out.bestValidationErrors() < 64 / 2, "validation errors " + out.bestValidationErrors() + " of 64");
    }

    /**
     * conv.backend=dnnl builds {@code DnnlConv} layers that train as the im2col ones do: from the same
     * initial weights, the same losses step after step (to fp32 rounding, which Adam then carries on),
     * and a saved net loads with its backend.
     */
    @Test
    void theDnnlBackendTrainsAsTheIm2colOneDoes() {
        // 8 and 16 channels (NHWC inside oneDNN), and the glyph net's 16, 16, 32, 32 (blocked, with the
        // 32-channel tensors reordered into DL4J's workspaces)
        trainsAsIm2colDoes(cfg(1).withLearningRate(3e-3));
        trainsAsIm2colDoes(cfg(1).withLearningRate(3e-3).withChannels(List.of(16, 32), 2));
    }

    private void trainsAsIm2colDoes(ConvConfig cfg) {
        Data d = strokes(64, 9);
        Classifier im2col = Classifier.create(cfg, 4, null, 5);
        Classifier dnnl = Classifier.create(cfg.withBackend(ConvConfig.Backend.DNNL), 4, null, 5);
        assertEquals("DnnlConv", dnnl.network().getLayer(0).conf().getLayer().getClass().getSimpleName());
        assertEquals("Im2colConv", im2col.network().getLayer(0).conf().getLayer().getClass().getSimpleName());
        dnnl.network().setParams(im2col.network().params().dup());
        double first = 0;
        for (int step = 0; step < 5; step++) {
            MultiLayerNetwork a = im2col.network();
            MultiLayerNetwork b = dnnl.network();
            a.fit(d.x(), d.y());
            b.fit(d.x(), d.y());
            first = step == 0 ? a.score() : first;
            assertEquals(a.score(), b.score(), 1e-4 * a.score(), "loss of step " + step);
        }
        assertTrue(im2col.network().score() < first, "the loss falls: " + first + " -> " + im2col.network().score());
        assertTrue(im2col.logits(d.x()).equalsWithEps(dnnl.logits(d.x()), 1e-3));
        Path file = dir.resolve("dnnl.zip");
        dnnl.save(file);
        Classifier back = Classifier.load(file);
        assertEquals(dnnl.network().getLayerWiseConfigurations(), back.network().getLayerWiseConfigurations());
        assertTrue(dnnl.logits(d.x()).equalsWithEps(back.logits(d.x()), 1e-6));
    }

    @Test
    void logitsAreThePreSoftmaxOutputsAndSurviveSavingAndLoading() {
        Data d = strokes(70, 4);
        Classifier c = Classifier.create(cfg(1).withDropout(0.2), 4, null, 3);
        Trainer.fit("conv", c, new Trainer.TrainingData(d.x(), d.y(), SIDE, SIDE), null, cfg(1), 5, r -> { });
        INDArray z = c.logits(d.x());
        assertTrue(Transforms.softmax(z, true).equalsWithEps(c.network().output(d.x(), false), 1e-5));
        Path file = dir.resolve("conv.zip");
        c.save(file);
        Classifier back = Classifier.load(file);
        assertEquals(c.fingerprint(), back.fingerprint());
        assertTrue(z.equalsWithEps(back.logits(d.x()), 1e-6));
        assertEquals(SIDE * SIDE, back.numInputs());
        assertEquals(c.network().getLayerWiseConfigurations(), back.network().getLayerWiseConfigurations());
    }

    @Test
    void aTrainingStoppedAndResumedFromItsCheckpointEndsWhereAnUninterruptedOneDoes() {
        Data d = strokes(96, 6);
        var train = new Trainer.TrainingData(d.x(), d.y(), SIDE, SIDE);
        var val = new Trainer.Validation(d.x(), d.labels());
        ConvConfig cfg = cfg(3).withDropout(0.3);
        Classifier straight = Classifier.create(cfg, 4, null, 7);
        Trainer.fit("conv", straight, train, val, cfg, 11, r -> { });
        Checkpoints ck = new Checkpoints(dir);
        assertThrows(IllegalStateException.class, () -> Trainer.fit("conv", Classifier.create(cfg, 4, null, 7), train,
                val, cfg, 11, r -> {
                    if (r.epoch() == 1) {
                        throw new IllegalStateException("killed after epoch 2");
                    }
                }, ck));
        Classifier resumed = Classifier.create(cfg, 4, null, 99);
        Trainer.fit("conv", resumed, train, val, cfg, 11, r -> assertTrue(r.epoch() >= 2), ck);
        assertEquals(straight.fingerprint(), resumed.fingerprint());
    }

    @Test
    void copyingEveryLayerButTheLastGivesTheSameFeaturesUnderANewHead() {
        Data d = strokes(40, 8);
        Classifier g = Classifier.create(cfg(1), 4, null, 3);
        Classifier s = Classifier.create(cfg(1), 3, null, 4);
        MultiLayerNetwork gn = g.network();
        MultiLayerNetwork sn = s.network();
        int last = gn.getnLayers() - 1;
        for (int i = 0; i < last; i++) {
            Layer to = sn.getLayer(i);
            // Convolutions and dense layers hold "W" and "b"; pooling layers hold nothing.
            gn.getLayer(i).paramTable().forEach((key, value) -> to.setParam(key, value.dup()));
        }
        INDArray fg = gn.activateSelectedLayers(0, last - 1, d.x());
        INDArray fs = sn.activateSelectedLayers(0, last - 1, d.x());
        assertTrue(fg.equalsWithEps(fs, 0), "same features");
        assertEquals(3, s.numClasses());
    }
}
