package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class CheckpointsTest {
    @TempDir
    Path dir;

    /** Dropout, jitter-free Adam training on random blobs: every source of randomness is exercised. */
    private static MlpConfig cfg() {
        return new MlpConfig(List.of(32, 32), 0.2, 0.5, 3.0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9, 0.9, 5, 32, 0, 0);
    }

    private static INDArray[] data() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 300, 12);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 300, 3);
        int[] labels = new int[300];
        for (int i = 0; i < 300; i++) {
            labels[i] = (x.getFloat(i, 0) > 0 ? 1 : 0) + (x.getFloat(i, 1) > 0.5 ? 1 : 0);
            y.putScalar(i, labels[i], 1);
        }
        return new INDArray[] {x, y, Nd4j.createFromArray(labels)};
    }

    @Test
    void aTrainingStoppedAfterTwoEpochsAndResumedEndsWhereAnUninterruptedOneDoes() {
        INDArray[] d = data();
        var val = new Trainer.Validation(d[0], d[2].toIntVector());
        var train = new Trainer.TrainingData(d[0], d[1], 0, 0);
        Classifier straight = Classifier.create(cfg(), 12, 3, null, 7);
        Trainer.Outcome a = Trainer.fit("net", straight, train, val, cfg(), 11, r -> { });

        Checkpoints ck = new Checkpoints(dir);
        Classifier first = Classifier.create(cfg(), 12, 3, null, 7);
        assertThrows(IllegalStateException.class, () -> Trainer.fit("net", first, train, val, cfg(), 11, r -> {
            if (r.epoch() == 1) {
                throw new IllegalStateException("killed after epoch 2");
            }
        }, ck));
        assertTrue(Files.isRegularFile(dir.resolve("net.ckpt.properties")));
        Classifier resumed = Classifier.create(cfg(), 12, 3, null, 99);  // fresh weights: all state comes from the checkpoint
        Trainer.Outcome b = Trainer.fit("net", resumed, train, val, cfg(), 11, r -> assertTrue(r.epoch() >= 2), ck);
        assertEquals(straight.fingerprint(), resumed.fingerprint(), "identical parameters after resuming");
        assertEquals(a.bestEpoch(), b.bestEpoch());
        assertEquals(a.history().size(), b.history().size());
        ck.clear("net");
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "clear removes the checkpoint");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * Online augmentation: each epoch's inputs come from (seed, epoch) alone, so a resumed training asks
     * for exactly the epochs it has left and ends where an uninterrupted one does, and the fresh inputs
     * change what is learnt.
     */
    @Test
    void freshInputsAreDrawnPerEpochFromTheSeedAndAResumedTrainingSeesTheSameOnes() {
        INDArray[] d = data();
        var val = new Trainer.Validation(d[0], d[2].toIntVector());
        java.util.List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        Trainer.EpochInputs fresh = (epoch, seed) -> {
            asked.add(epoch + "@" + seed);
            Nd4j.getRandom().setSeed(seed * 31 + epoch);
            return d[0].add(Nd4j.randn(DataType.FLOAT, 300, 12).muli(0.1));
        };
        var train = new Trainer.TrainingData(d[0], d[1], 0, 0).withFresh(fresh);
        Classifier straight = Classifier.create(cfg(), 12, 3, null, 7);
        Trainer.fit("net", straight, train, val, cfg(), 11, r -> { });
        assertEquals(List.of("0@11", "1@11", "2@11", "3@11", "4@11"), List.copyOf(asked), "one draw per epoch");
        Classifier fixed = Classifier.create(cfg(), 12, 3, null, 7);
        Trainer.fit("net", fixed, new Trainer.TrainingData(d[0], d[1], 0, 0), val, cfg(), 11, r -> { });
        assertTrue(!fixed.fingerprint().equals(straight.fingerprint()), "the fresh inputs were trained on");

        asked.clear();
        Checkpoints ck = new Checkpoints(dir);
        assertThrows(IllegalStateException.class, () -> Trainer.fit("net", Classifier.create(cfg(), 12, 3, null, 7),
                train, val, cfg(), 11, r -> {
                    if (r.epoch() == 1) {
                        throw new IllegalStateException("killed after epoch 2");
                    }
                }, ck));
        asked.clear();
        Classifier resumed = Classifier.create(cfg(), 12, 3, null, 99);
        Trainer.fit("net", resumed, train, val, cfg(), 11, r -> { }, ck);
        assertEquals(List.of("2@11", "3@11", "4@11"), List.copyOf(asked), "only the epochs left");
        assertEquals(straight.fingerprint(), resumed.fingerprint(), "identical parameters after resuming");

        var wrong = new Trainer.TrainingData(d[0], d[1], 0, 0).withFresh((epoch, seed) -> d[0].getRows(0, 1));
        var e = assertThrows(IllegalStateException.class, () -> Trainer.fit("net", Classifier.create(cfg(), 12, 3, null,
                7), wrong, val, cfg(), 11, r -> { }));
        assertTrue(e.getMessage().contains("expected 300x12"), e.getMessage());
    }

    @Test
    void withAnIntervalACheckpointIsWrittenOnlyOnceThatMuchTrainingHasPassedAndAKillBeforeItRestartsTheSameTraining() {
        INDArray[] d = data();
        var val = new Trainer.Validation(d[0], d[2].toIntVector());
        var train = new Trainer.TrainingData(d[0], d[1], 0, 0);
        Classifier straight = Classifier.create(cfg(), 12, 3, null, 7);
        Trainer.fit("net", straight, train, val, cfg(), 11, r -> { });

        // An hour between checkpoints: none is written by these sub-second epochs, and a training
        // killed after its second epoch starts again from the first, to the same parameters.
        Checkpoints hourly = new Checkpoints(dir, 3600);
        Classifier killed = Classifier.create(cfg(), 12, 3, null, 7);
        assertThrows(IllegalStateException.class, () -> Trainer.fit("net", killed, train, val, cfg(), 11, r -> {
            if (r.epoch() == 1) {
                throw new IllegalStateException("killed after epoch 2");
            }
        }, hourly));
        assertFalse(Files.exists(dir.resolve("net.ckpt.properties")), "no checkpoint within the interval");
        List<Integer> trained = new java.util.ArrayList<>();
        Classifier again = Classifier.create(cfg(), 12, 3, null, 7);
        Trainer.fit("net", again, train, val, cfg(), 11, r -> trained.add(r.epoch()), hourly);
        assertEquals(0, trained.getFirst(), "trained from the start");
        assertEquals(straight.fingerprint(), again.fingerprint());

        // No interval: every epoch.
        Checkpoints every = new Checkpoints(dir.resolve("every"), 0);
        Trainer.fit("net", Classifier.create(cfg(), 12, 3, null, 7), train, val, cfg(), 11, r -> {
            assertTrue(Files.exists(dir.resolve("every").resolve(String.format(java.util.Locale.ROOT, "net.e%04d.ckpt",
                    r.epoch() + 1))), "epoch " + r.epoch() + " checkpointed before it is reported");
        }, every);
        assertThrows(IllegalArgumentException.class, () -> new Checkpoints(dir, -1));
    }

    @Test
    void aCheckpointWhoseDataIsMissingOrCorruptIsAnErrorNamingIt() throws Exception {
        INDArray[] d = data();
        Checkpoints ck = new Checkpoints(dir);
        Classifier c = Classifier.create(cfg().withEpochs(1), 12, 3, null, 7);
        Trainer.fit("net", c, new Trainer.TrainingData(d[0], d[1], 0, 0), null, cfg().withEpochs(1), 1, r -> { }, ck);
        Path data = dir.resolve("net.e0001.ckpt");
        assertTrue(Files.isRegularFile(data));
        Files.write(data, new byte[] {1, 2, 3});
        var e = assertThrows(IllegalStateException.class, () -> Trainer.fit("net", Classifier.create(cfg(), 12, 3, null, 7),
                new Trainer.TrainingData(d[0], d[1], 0, 0), null, cfg(), 1, r -> { }, ck));
        assertTrue(e.getMessage().contains(data.toString()), e.getMessage());
    }
}
