package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Check;
import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PlateauTest {
    @TempDir
    Path dir;

    @Test
    void aReductionFiresEachTimeThePatienceRunsOutSinceTheBestOrTheLastReduction() {
        Plateau p = new Plateau(3, 0.5);
        //                  epoch:  0   1  2  3  4  5  6  7  8  9
        int[] errors = {10, 9, 9, 9, 9, 8, 8, 8, 8, 9};
        // best at 1; 3 flat epochs end at 4 (fires); best at 5; flat to 8 (fires); 9 is 1 after that
        int[] expected = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2};
        for (int e = 0; e <= errors.length; e++) {
            assertEquals(expected[e], p.reductionsBefore(e, errors), "before epoch " + e);
        }
        assertEquals(0.25, p.multiplierBefore(10, errors), 0);
        // an equal count is not a new best
        assertEquals(1, new Plateau(2, 0.5).reductionsBefore(3, new int[] {5, 5, 5}));
        assertEquals(0, Plateau.OFF.reductionsBefore(10, errors), "off: never");
        assertEquals(1.0, Plateau.OFF.multiplierBefore(10, errors), 0);
    }

    @Test
    void badSettingsAndMissingValidationErrorsAreRefusedNamingWhatWasExpected() {
        var factor = assertThrows(Check.InvalidValue.class, () -> new Plateau(3, 1.0));
        assertEquals("factor", factor.field());
        assertThrows(Check.InvalidValue.class, () -> new Plateau(-1, 0.5));
        var few = assertThrows(IllegalArgumentException.class, () -> new Plateau(2, 0.5).reductionsBefore(3,
                new int[] {4, 3}));
        assertTrue(few.getMessage().contains("3 epochs, got 2"), few.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> new Plateau(2, 0.5).reductionsBefore(2,
                new int[] {-1, -1}));
        assertTrue(none.getMessage().contains("needs validation errors"), none.getMessage());

        var key = assertThrows(ConfigException.class, () -> Configs.read(Settings.empty().overlay(
                Map.of("conv.plateau.factor", "1.5"), "--set"), "conv", ConvConfig.small(1)));
        assertTrue(key.getMessage().startsWith("conv.plateau.factor (from --set)"), key.getMessage());
        ConvConfig on = Configs.read(Settings.empty().overlay(Map.of("conv.plateau.epochs", "3"), "--set"), "conv",
                ConvConfig.small(1));
        assertEquals(new Plateau(3, 0.5), on.plateau());
        assertEquals(ConvConfig.small(1).withPlateau(new Plateau(3, 0.5)), on);
        assertEquals("0", Configs.write("conv", ConvConfig.small(1)).get("conv.plateau.epochs"), "off by default");
        int[] flat = {100, 90, 95, 96, 97};  // best at 1, three flat epochs end at 4
        assertEquals(1e-3 * 0.5, on.withLearningRate(1e-3).learningRateAt(5, flat), 1e-18, "conv: decay 1, one halving");
        assertEquals(1e-3 * Math.pow(0.95, 5) * 0.5, new Schedule(5, 32, 0, 0, 1e-3, 0.95, new Plateau(3, 0.5))
                .learningRateAt(5, flat), 1e-18, "decay and plateau together");
        assertEquals(1e-3 * Math.pow(0.95, 4), new Schedule(5, 32, 0, 0, 1e-3, 0.95, new Plateau(3, 0.5))
                .learningRateAt(4, flat), 1e-18, "not yet");
    }

    /** Blobs the net separates in an epoch; a single validation example, so the count stalls at once. */
    private static INDArray[] data() {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 240, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 240, 2);
        int[] labels = new int[240];
        for (int i = 0; i < 240; i++) {
            labels[i] = x.getFloat(i, 0) > 0 ? 1 : 0;
            y.putScalar(i, labels[i], 1);
        }
        return new INDArray[] {x, y, Nd4j.createFromArray(labels)};
    }

    @Test
    void theTrainerTakesTheReducedRatesAndAResumedTrainingTakesTheSameOnes() {
        INDArray[] d = data();
        var train = new Trainer.TrainingData(d[0], d[1], 0, 0);
        // one validation example: its error count can fall at most once (1 to 0), so a patience of one
        // epoch must fire at least 4 times in 7 epochs whatever the arithmetic
        var val = new Trainer.Validation(d[0].getRows(0), new int[] {d[2].getInt(0)});
        Schedule cfg = new Schedule(7, 32, 0, 0, 1e-2, 0.9, new Plateau(1, 0.5));
        MlpConfig net = MlpConfig.plain(List.of(16), 7);
        List<Trainer.EpochReport> straight = new ArrayList<>();
        Classifier a = Classifier.create(net, 8, 2, null, 7);
        Trainer.fit("net", a, train, val, cfg, 11, straight::add);
        int[] errors = straight.stream().mapToInt(Trainer.EpochReport::validationErrors).toArray();
        for (int e = 0; e < straight.size(); e++) {
            assertEquals(1e-2 * Math.pow(0.9, e) * Math.pow(0.5, new Plateau(1, 0.5).reductionsBefore(e, errors)),
                    straight.get(e).learningRate(), 1e-15, "epoch " + e);
        }
        assertTrue(new Plateau(1, 0.5).reductionsBefore(7, errors) >= 4, java.util.Arrays.toString(errors));

        Checkpoints ck = new Checkpoints(dir);
        assertThrows(IllegalStateException.class, () -> Trainer.fit("net", Classifier.create(net, 8, 2, null, 7), train,
                val, cfg, 11, r -> {
                    if (r.epoch() == 3) {
                        throw new IllegalStateException("killed after epoch 4");
                    }
                }, ck));
        List<Trainer.EpochReport> resumed = new ArrayList<>();
        Classifier b = Classifier.create(net, 8, 2, null, 99);
        Trainer.fit("net", b, train, val, cfg, 11, resumed::add, ck);
        assertEquals(3, resumed.size(), "epochs 4 to 6");
        for (Trainer.EpochReport r : resumed) {
            assertEquals(straight.get(r.epoch()).learningRate(), r.learningRate(), 0, "epoch " + r.epoch());
        }
        assertEquals(a.fingerprint(), b.fingerprint(), "identical parameters after resuming");

        var noValidation = assertThrows(IllegalArgumentException.class, () -> Trainer.fit("net",
                Classifier.create(net, 8, 2, null, 7), train, null, cfg, 11, r -> { }));
        assertTrue(noValidation.getMessage().contains("plateau.epochs 1"), noValidation.getMessage());
    }
}
