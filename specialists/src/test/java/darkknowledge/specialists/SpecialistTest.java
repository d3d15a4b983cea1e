package darkknowledge.specialists;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Seeds;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class SpecialistTest {

    @Test
    void initialisationCopiesTheGeneralistAndGroupsTheRest() {
        MlpConfig cfg = MlpConfig.plain(List.of(16), 1);
        Classifier g = Classifier.create(cfg, 10, 6, null, 3);
        INDArray x = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 50, 10);
        int[] subset = {4, 1};
        Specialist s = Specialist.initialise(g, subset, 9);
        INDArray zg = g.logits(x);
        INDArray zs = s.model().logits(x);
        assertTrue(zs.getColumn(0).equalsWithEps(zg.getColumn(4), 1e-5));
        assertTrue(zs.getColumn(1).equalsWithEps(zg.getColumn(1), 1e-5));
        assertThrows(IllegalArgumentException.class, () -> Specialist.initialise(g, new int[]{1, 1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Specialist.initialise(g, new int[]{0, 1, 2, 3, 4, 5}, 1));
        Specialist shifted = s.withDustbinShift(1.5).withDustbinShift(0.5);
        assertEquals(zs.getDouble(0, 2) + 0.5, shifted.model().logits(x).getDouble(0, 2), 1e-5, "shifts replace, not add up");
        Specialist other = s.withDustbinShift(-2);
        assertEquals(zs.getDouble(0, 2) - 2, other.model().logits(x).getDouble(0, 2), 1e-5, "each copy starts from s");
        assertTrue(s.model().logits(x).equalsWithEps(zs, 1e-6), "the original is unchanged");
        assertTrue(shifted.model().logits(x).getColumn(0).equalsWithEps(zs.getColumn(0), 1e-5), "only the dustbin moves");

        // The same shift applied at prediction time: the same probabilities, the network shared, no model.
        Specialist view = s.withDustbinShift(1.5).withDustbinShiftForPredictions(0.5);
        double[][] pv = view.probabilities(x);
        double[][] pb = shifted.probabilities(x);
        for (int i = 0; i < pv.length; i++) {
            assertArrayEquals(pb[i], pv[i], 1e-6);
        }
        assertEquals(0.5, view.dustbinShift());
        assertThrows(IllegalStateException.class, view::model);
        assertThrows(IllegalStateException.class, () -> view.withDustbinShift(0));
        double[][] back = view.withDustbinShiftForPredictions(1.5).probabilities(x);
        double[][] baked = s.withDustbinShift(1.5).probabilities(x);
        for (int i = 0; i < back.length; i++) {
            assertArrayEquals(baked[i], back[i], 1e-6, "views of views shift from what is in the bias");
        }
    }

    @Test
    void taskHasTheRequestedShareAndMapsLabels() {
        int[] labels = new int[1000];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i % 10;
        }
        Specialists.Task t = Specialists.task(labels, 10, new int[]{7, 2}, 0.5, 4);
        assertEquals(400, t.rows().length);
        assertEquals(200, Arrays.stream(t.labels()).filter(l -> l == 2).count());
        for (int i = 0; i < t.rows().length; i++) {
            int original = labels[t.rows()[i]];
            assertEquals(original == 7 ? 0 : original == 2 ? 1 : 2, t.labels()[i]);
        }
        assertArrayEquals(t.rows(), Specialists.task(labels, 10, new int[]{7, 2}, 0.5, 4).rows(), "seeded");
        Specialists.Task big = Specialists.task(labels, 10, new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 0.5, 4);
        assertEquals(200, Arrays.stream(big.labels()).filter(l -> l == 8).count(), "rest limits the size");
        assertEquals(400, big.rows().length);
    }

    @Test
    void dustbinCorrections() {
        assertEquals(Math.log(0.5 / 0.1), DustbinCorrection.LOG_OVERSAMPLING.dustbinShift(0.1, 0.5), 1e-12);
        assertEquals(Math.log(0.9 / 0.5) - Math.log(0.1 / 0.5), DustbinCorrection.PRIOR_SHIFT.dustbinShift(0.1, 0.5), 1e-12);
        assertEquals(0, DustbinCorrection.NONE.dustbinShift(0.1, 0.5));
        // Prior shift makes the corrected posterior of a perfectly calibrated specialist match the true prior.
        double pi = 0.2;
        double share = 0.5;
        double shift = DustbinCorrection.PRIOR_SHIFT.dustbinShift(pi, share);
        double pDustbin = (1 - share) * Math.exp(shift) / ((1 - share) * Math.exp(shift) + share);
        assertEquals(1 - pi, pDustbin, 1e-12);
    }

    @Test
    void specialistsTrainInParallelDeterministicallyAndHelpOnTheirGroup() {
        var g = SyntheticClasses.generate(new SyntheticClasses.Spec(12, 3, 20, 0.9, 0.6, 100, 50, 2));
        MlpConfig cfg = MlpConfig.plain(List.of(8), 3);
        Classifier gen = Classifier.create(cfg, 20, 12, null, 1);
        INDArray x = g.train().featuresMatrix();
        INDArray vx = g.test().featuresMatrix();
        Trainer.fit("generalist", gen, new Trainer.TrainingData(x, g.train().oneHot(), 0, 0),
                new Trainer.Validation(vx, g.test().labels()), cfg, 1, r -> { });
        List<int[]> subsets = g.groups().stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        SpecialistConfig sc = new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 4, 3e-3, 1, 0, 2);
        List<Specialists.Trained> a = Specialists.trainAll(gen, cfg, subsets, sc, x, g.train().labels(), vx,
                g.test().labels(), 0, 0, new Seeds(7), r -> { });
        List<Specialists.Trained> b = Specialists.trainAll(gen, cfg, subsets, sc.withWorkers(1), x, g.train().labels(),
                vx, g.test().labels(), 0, 0, new Seeds(7), r -> { });
        assertEquals(3, a.size());
        for (int m = 0; m < 3; m++) {
            assertEquals(a.get(m).specialist().model().fingerprint(), b.get(m).specialist().model().fingerprint(),
                    "1 or 2 workers give the same specialist " + m);
            assertEquals(1.0 / 3, a.get(m).subsetPrior(), 1e-9);
            assertEquals(Math.log(2), a.get(m).specialist().dustbinShift(), 1e-9);
        }
        // The generalist's validation predictions handed in (as a run's tasks share them) change nothing.
        var schedule = Specialists.schedule(cfg, sc);
        SpecialistConfig fitted = sc.withCorrection(DustbinCorrection.FITTED, false);
        Specialists.Trained computed = Specialists.trainOne(1, gen, schedule, subsets.get(1), fitted, 12, x,
                g.train().labels(), vx, g.test().labels(), 0, 0, new Seeds(7), r -> { }, null, null, null);
        Specialists.Trained given = Specialists.trainOne(1, gen, schedule, subsets.get(1), fitted, 12, x,
                g.train().labels(), vx, g.test().labels(), 0, 0, new Seeds(7), r -> { }, null, null, gen.predict(vx));
        assertEquals(computed.specialist().model().fingerprint(), given.specialist().model().fingerprint());
        assertEquals(computed.fittedShift(), given.fittedShift());
        assertEquals(computed.specialist().dustbinShift(), given.specialist().dustbinShift());
        var wrong = assertThrows(IllegalArgumentException.class, () -> Specialists.trainOne(1, gen, schedule,
                subsets.get(1), fitted, 12, x, g.train().labels(), vx, g.test().labels(), 0, 0, new Seeds(7), r -> { },
                null, null, new int[3]));
        assertTrue(wrong.getMessage().contains("3 rows"), wrong.getMessage());

        var ensemble = new SpecialistEnsemble(gen, a.stream().map(Specialists.Trained::specialist).toList(), 1,
                KlCombiner.defaults());
        SpecialistEnsemble.Combined c = ensemble.combine(vx);
        int genErrors = gen.errors(vx, g.test().labels());
        int[] pred = c.predictions();
        int ensErrors = 0;
        for (int i = 0; i < pred.length; i++) {
            ensErrors += pred[i] != g.test().labels()[i] ? 1 : 0;
            assertEquals(1, c.active()[i].length, "groups are disjoint: one specialist per example");
        }
        assertEquals(0, c.unconverged());
        assertTrue(ensErrors < genErrors, "specialists on planted groups beat a narrow generalist: " + ensErrors
                + " vs " + genErrors);
    }

    @Test
    void fittedDustbinShiftMatchesTheMeanDustbinMassToTheDustbinShare() {
        // Every example with dustbin probability 0.2, 70% of them dustbin examples: the shift that
        // makes σ(logit(0.2) + δ) = 0.7 is logit(0.7) − logit(0.2).
        double[] d = new double[100];
        boolean[] isDustbin = new boolean[100];
        java.util.Arrays.fill(d, 0.2);
        for (int i = 0; i < 70; i++) {
            isDustbin[i] = true;
        }
        double expected = Math.log(0.7 / 0.3) - Math.log(0.2 / 0.8);
        assertEquals(expected, Specialists.fitDustbinShift(d, isDustbin, 0), 1e-7);
        assertEquals(expected, DustbinCorrection.FITTED.dustbinShift(0.1, 0.5, expected));
        assertThrows(IllegalArgumentException.class, () -> DustbinCorrection.FITTED.dustbinShift(0.1, 0.5));
        // Unequal probabilities: the optimum equates the mean shifted dustbin mass and the share.
        double[] mixed = new double[100];
        for (int i = 0; i < 100; i++) {
            mixed[i] = 0.05 + 0.9 * i / 99.0;
        }
        double delta = Specialists.fitDustbinShift(mixed, isDustbin, 0);
        double mass = 0;
        for (double p : mixed) {
            mass += 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + delta)));
        }
        assertEquals(70, mass, 1e-6);
        // No dustbin example at all: without a prior the shift goes to its lower bound, not to minus
        // infinity; the unit normal prior keeps it where n_dustbin − Σ σ(logit(d_i) + δ) = δ.
        assertEquals(-Specialists.MAX_FITTED_SHIFT, Specialists.fitDustbinShift(mixed, new boolean[100], 0), 1e-6);
        double map = Specialists.fitDustbinShift(mixed, new boolean[100]);
        double massAtMap = 0;
        for (double p : mixed) {
            massAtMap += 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + map)));
        }
        assertEquals(-map, massAtMap, 1e-6);
        assertTrue(map > -Specialists.MAX_FITTED_SHIFT && map < 0, "a finite negative shift: " + map);
        assertEquals(0, Specialists.fitDustbinShift(new double[0], new boolean[0]), 1e-6, "no example: no shift");
    }
}
