package darkknowledge.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.ClassPartition;
import darkknowledge.core.RunRecord;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.DustbinCorrection;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.Specialists;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The stages of §5 after the generalist, at tiny scale on the in-process engine (a few seconds in all). */
class SpecialistStagesTest {
    private static final MlpConfig GENERALIST =
            new MlpConfig(List.of(16), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 1.0, 3, 32, 0, 0);
    /** Half subset, half dustbin; two epochs; no early stopping. */
    private static final SpecialistConfig SPECIALISTS =
            new SpecialistConfig(0.5, DustbinCorrection.PRIOR_SHIFT, 2, 3e-3, 1, 0, 1);
    private static final EnsembleConfig ENSEMBLE = new EnsembleConfig(1, 1e-6, 200, EnsembleConfig.ClusterOn.VALIDATION,
            true);

    /** A run with its data, a trained generalist saved in its store, and the planted groups as the partition. */
    private record Setup(RunContext ctx, RunData s, Models.Trained generalist, ClassPartition planted) {
        List<Specialists.Trained> trainSpecialists(RunContext in, ClassPartition partition) {
            return SpecialistStages.trainSpecialists(in, EngineConfig.local(1), generalist.model(),
                    in.modelPath("generalist"), GENERALIST, partition, SPECIALISTS, s,
                    in.seeds().derive("specialists"), in.record().dir());
        }
    }

    private static Setup setup(Path root, TinyRuns.Recorder progress) {
        RunContext ctx = TinyRuns.context(root, 1, progress);
        SpecialistDataset.Loaded loaded = SpecialistDataset.SYNTHETIC.load(TinyRuns.DATA, TinyRuns.SYNTHETIC, null, ctx);
        RunData s = loaded.data();
        Models.Trained generalist = Models.trainOnLabels(ctx, "generalist", GENERALIST, s);
        List<List<Integer>> groups = new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>()));
        int[] groupOf = loaded.groupOfClass();
        for (int c = 0; c < groupOf.length; c++) {
            groups.get(groupOf[c]).add(c);
        }
        ClassPartition planted = new ClassPartition(groups, 6, "planted", Double.NaN);
        return new Setup(ctx, s, generalist, planted);
    }

    @Test
    void eachSpecialistIsTrainedOnHalfItsSubsetHalfDustbinWithOneOutputMoreThanItsClasses(@TempDir Path root) {
        TinyRuns.Recorder progress = new TinyRuns.Recorder();
        Setup u = setup(root, progress);
        List<Specialists.Trained> trained = u.trainSpecialists(u.ctx(), u.planted());
        assertEquals(2, trained.size());
        int[] labels = u.s().train().labels();
        for (int m = 0; m < 2; m++) {
            Specialists.Trained t = trained.get(m);
            int[] subset = u.planted().subset(m);
            assertEquals(m, t.index());
            assertArrayEquals(subset, t.specialist().subset());
            assertEquals(subset.length + 1, t.specialist().model().numClasses(), "the subset's classes and a dustbin");
            long in = Arrays.stream(labels).filter(y -> Arrays.binarySearch(subset, y) >= 0).count();
            assertEquals((double) in / labels.length, t.subsetPrior(), 1e-12, "π: the subset's share of the split");
            // all of the subset's examples (or as many as the other classes can match) and as many others
            assertEquals(2 * Math.min(in, labels.length - in), t.trainExamples());
            assertEquals(0.5, t.subsetShare(), 1e-12);
            assertEquals(t.shift(DustbinCorrection.PRIOR_SHIFT), t.specialist().dustbinShift(), 1e-12);
            assertEquals(SPECIALISTS.epochs(), progress.trainedEpochsOf("specialist" + m));

            SortedMap<String, String> done = RunRecord.readProperties(
                    u.ctx().record().dir().resolve("specialist" + m + ".done.properties"));
            assertEquals(Arrays.toString(subset), done.get("subset"));
            assertEquals(u.generalist().model().fingerprint(), done.get("generalist_sha256"));
            assertEquals(t.specialist().model().fingerprint(), done.get("sha256"));
            assertTrue(u.ctx().provenance().entries().get("model.specialist" + m + ".executor").startsWith("local-1@"));
        }
        assertNull(u.ctx().provenance().entries().get("specialists.reused"), "none was there to reuse");
    }

    @Test
    void finishedSpecialistsAreReusedNotTrainedAgainUnlessTheirSubsetChanged(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        List<Specialists.Trained> first = u.trainSpecialists(u.ctx(), u.planted());

        TinyRuns.Recorder again = new TinyRuns.Recorder();
        RunContext resumed = TinyRuns.reopened(u.ctx(), again);
        List<Specialists.Trained> reused = u.trainSpecialists(resumed, u.planted());
        assertEquals(List.of(), again.trained, "nothing is trained again");
        assertEquals("2", resumed.provenance().entries().get("specialists.reused"));
        for (int m = 0; m < 2; m++) {
            assertEquals(first.get(m).specialist().model().fingerprint(), reused.get(m).specialist().model().fingerprint());
            assertEquals(first.get(m).specialist().dustbinShift(), reused.get(m).specialist().dustbinShift());
            String name = "specialist" + m;
            assertEquals(SPECIALISTS.epochs(), again.restored.stream().filter(r -> r.model().equals(name)).count(),
                    name + ": its recorded epochs are replayed into the run's metrics");
        }

        // The same specialists' numbers, the subsets swapped: a done record of another subset is not reused.
        ClassPartition swapped = new ClassPartition(List.of(u.planted().subsets().get(1), u.planted().subsets().get(0)),
                6, "swapped", Double.NaN);
        TinyRuns.Recorder third = new TinyRuns.Recorder();
        RunContext other = TinyRuns.reopened(u.ctx(), third);
        List<Specialists.Trained> retrained = u.trainSpecialists(other, swapped);
        assertEquals(SPECIALISTS.epochs(), third.trainedEpochsOf("specialist0"));
        assertEquals(SPECIALISTS.epochs(), third.trainedEpochsOf("specialist1"));
        assertNull(other.provenance().entries().get("specialists.reused"));
        assertArrayEquals(swapped.subset(0), retrained.get(0).specialist().subset());
        assertEquals(Arrays.toString(swapped.subset(0)), RunRecord.readProperties(
                u.ctx().record().dir().resolve("specialist0.done.properties")).get("subset"));
    }

    @Test
    void theControlTrainsACopyOfTheGeneralistOnwardForTheSpecialistsExtraPassesAndIsReusedOnceDone(@TempDir Path root) {
        TinyRuns.Recorder progress = new TinyRuns.Recorder();
        Setup u = setup(root, progress);
        String generalist = u.generalist().model().fingerprint();
        int n = u.s().train().numExamples();
        // A decaying schedule (the generalist trained at a constant rate), so the rate it goes on from is
        // told apart from the first epoch's.
        MlpConfig decaying = new MlpConfig(List.of(16), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 0.5, 3, 32, 0, 0);
        Models.Trained control = SpecialistStages.control(u.ctx(), u.generalist(), decaying, 2L * n + n / 3, u.s());
        assertEquals(2, control.outcome().epochsRun(), "round(extra passes / training examples) epochs");
        List<Trainer.EpochReport> epochs = progress.trained.stream().filter(r -> r.model().equals("control")).toList();
        assertEquals(2, epochs.size());
        int after = u.generalist().outcome().epochsRun();
        assertEquals(1e-2 * Math.pow(0.5, after), epochs.get(0).learningRate(), 1e-15,
                "the generalist's schedule goes on where it stopped");
        assertEquals(1e-2 * Math.pow(0.5, after + 1), epochs.get(1).learningRate(), 1e-15);
        assertEquals(generalist, u.generalist().model().fingerprint(), "the generalist itself is not changed");
        assertFalse(control.model().fingerprint().equals(generalist), "the copy was trained");
        // The fine-tuned control: the copy only where validation prefers it to the generalist.
        var val = u.s().validation().labels();
        int generalistErrors = u.generalist().model().errors(u.s().validationX(), val);
        int copyErrors = control.model().errors(u.s().validationX(), val);
        assertSame(copyErrors < generalistErrors ? control.model() : u.generalist().model(),
                SpecialistStages.fineTuned(u.generalist().model(), control.model(), u.s()));
        assertSame(u.generalist().model(), SpecialistStages.fineTuned(u.generalist().model(),
                u.generalist().model().copy(), u.s()), "a tie (an untrained copy) keeps the generalist");
        // Both branches, with a net known to be worse: an untrained one of the same shape.
        Classifier untrained = Classifier.create(GENERALIST, u.generalist().model().numInputs(),
                u.generalist().model().numClasses(), null, 99);
        assertSame(u.generalist().model(), SpecialistStages.fineTuned(u.generalist().model(), untrained, u.s()));
        assertSame(u.generalist().model(), SpecialistStages.fineTuned(untrained, u.generalist().model(), u.s()),
                "the better net is kept whichever side it is on");
        assertEquals(control.model().fingerprint(), u.ctx().provenance().entries().get("model.control.sha256"));

        TinyRuns.Recorder again = new TinyRuns.Recorder();
        RunContext resumed = TinyRuns.reopened(u.ctx(), again);
        Models.Trained reused = SpecialistStages.control(resumed, u.generalist(), decaying, 2L * n + n / 3, u.s());
        assertEquals(List.of(), again.trained);
        assertEquals(control.model().fingerprint(), reused.model().fingerprint());
        assertEquals(control.outcome(), reused.outcome());
        assertTrue(resumed.provenance().entries().containsKey("model.control.reused"));

        // A control recorded from another starting rate (older code) is not reused: trained again.
        TinyRuns.Recorder third = new TinyRuns.Recorder();
        RunContext other = TinyRuns.reopened(u.ctx(), third);
        SpecialistStages.control(other, u.generalist(), GENERALIST, 2L * n + n / 3, u.s());
        assertEquals(2, third.trainedEpochsOf("control"));
        assertNull(other.provenance().entries().get("model.control.reused"));
    }

    @Test
    void theGeneralistsPredictionsAreProbabilitiesOrLogitsOnTheChosenSplit(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        ClusteringConfig probabilities = ClusteringConfig.defaults();
        ClusteringConfig logits = new ClusteringConfig(2, 10, 100, ClusteringConfig.Source.LOGITS,
                ClusteringConfig.Statistic.COVARIANCE, 0, 1_000_000, 2, ClusteringConfig.Small.DROP,
                ClusteringConfig.Diagonal.ROW_MAX, 1);
        double[][] onValidation = SpecialistStages.predictions(u.generalist().model(), u.s(), probabilities,
                EnsembleConfig.ClusterOn.VALIDATION);
        double[][] onTrain = SpecialistStages.predictions(u.generalist().model(), u.s(), probabilities,
                EnsembleConfig.ClusterOn.TRAIN);
        assertEquals(u.s().validation().numExamples(), onValidation.length);
        assertEquals(u.s().train().numExamples(), onTrain.length);
        for (double[] row : onValidation) {
            assertEquals(6, row.length);
            assertEquals(1.0, Arrays.stream(row).sum(), 1e-6);
            assertTrue(Arrays.stream(row).allMatch(p -> p > 0 && p < 1));
        }
        double[][] z = SpecialistStages.predictions(u.generalist().model(), u.s(), logits,
                EnsembleConfig.ClusterOn.VALIDATION);
        INDArray expected = u.generalist().model().logits(u.s().validationX()).castTo(DataType.DOUBLE);
        assertArrayEquals(expected.toDoubleMatrix(), z);
        assertArrayEquals(Transforms.softmax(expected, true).toDoubleMatrix()[0], onValidation[0], 1e-12);
    }

    @Test
    void ensembleTargetsInSlicesJoinInOrderToTheWholeEnsembleAndLeaveNoFiles(@TempDir Path root) throws Exception {
        Setup u = setup(root, new TinyRuns.Recorder());
        List<Specialists.Trained> trained = u.trainSpecialists(u.ctx(), u.planted());
        Path dir = u.ctx().record().dir();
        List<EnsembleTargetsTask.SpecialistModel> models = new ArrayList<>();
        List<Specialist> specialists = new ArrayList<>();
        for (Specialists.Trained t : trained) {
            Path zip = dir.resolve("specialist" + t.index() + ".zip");
            models.add(new EnsembleTargetsTask.SpecialistModel(new EnsembleTargetsTask.Model(zip.toString(),
                    t.specialist().model().fingerprint()), t.specialist().subset(), t.specialist().dustbinShift()));
            specialists.add(t.specialist());
        }
        EnsembleTargetsTask.Model generalist = new EnsembleTargetsTask.Model(u.ctx().modelPath("generalist").toString(),
                u.generalist().model().fingerprint());
        List<Path> before;
        try (Stream<Path> files = Files.list(dir)) {
            before = files.sorted().toList();
        }
        INDArray q = SpecialistStages.ensembleTargets(u.ctx(), EngineConfig.local(1), generalist, models, ENSEMBLE,
                u.s(), 3);

        double[][] whole = SpecialistStages.ensemble(u.generalist().model(), specialists, ENSEMBLE)
                .combine(u.s().trainX()).q();
        assertArrayEquals(new long[] {u.s().train().numExamples(), 6}, q.shape());
        float[][] joined = q.toFloatMatrix();
        for (int i = 0; i < whole.length; i++) {
            for (int k = 0; k < 6; k++) {
                // a slice's logits come from products of another row count: equal up to rounding
                assertEquals(whole[i][k], joined[i][k], 1e-5, "row " + i + ", class " + k);
            }
        }
        try (Stream<Path> after = Files.list(dir)) {
            assertEquals(before, after.sorted().toList(), "the slices come back in memory: no file is written");
        }
    }

    @Test
    void theHeadlineCorrectionChosenOnValidationIsTheMostAccurateThere(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        List<Specialists.Trained> trained = u.trainSpecialists(u.ctx(), u.planted());
        SortedMap<String, String> result = new TreeMap<>();
        SpecialistStages.Headline h = SpecialistStages.ensembleUnderEachCorrection(result, u.generalist().model(),
                trained, ENSEMBLE, SPECIALISTS.withCorrection(DustbinCorrection.PRIOR_SHIFT, true), u.s());
        double best = -1;
        DustbinCorrection expected = null;
        for (DustbinCorrection c : DustbinCorrection.values()) {
            double acc = Double.parseDouble(result.get("ensemble." + c.name().toLowerCase(java.util.Locale.ROOT)
                    + ".validation_accuracy"));
            if (acc > best) {
                best = acc;
                expected = c;
            }
        }
        assertEquals(expected, h.correction());
        assertEquals(expected.name().toLowerCase(java.util.Locale.ROOT), result.get("specialists.correction.chosen"));
        assertEquals(result.get("ensemble." + expected.name().toLowerCase(java.util.Locale.ROOT) + ".validation_accuracy"),
                result.get("ensemble.validation_accuracy"));
        for (Specialists.Trained t : trained) {
            assertTrue(Double.isFinite(t.fittedShift()) && Math.abs(t.fittedShift()) < 30,
                    "a fitted shift inside its bounds: " + t.fittedShift());
        }
    }

    @Test
    void fullHeadSpecialistsKeepEveryClassAndFoldIntoSubsetPlusDustbin(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        SpecialistConfig full = SPECIALISTS.withFullHead(2, 1);
        List<Specialists.Trained> trained = SpecialistStages.trainSpecialists(u.ctx(), EngineConfig.local(1),
                u.generalist().model(), u.ctx().modelPath("generalist"), GENERALIST, u.planted(), full, u.s(),
                u.ctx().seeds().derive("specialists"), u.ctx().record().dir());
        INDArray x = u.s().testX();
        double[][] pg = Transforms.softmax(u.generalist().model().logits(x).castTo(DataType.DOUBLE), true)
                .toDoubleMatrix();
        boolean moved = false;
        for (Specialists.Trained t : trained) {
            Specialist sp = t.specialist();
            assertEquals(SpecialistConfig.Head.FULL, sp.head());
            assertEquals(6, sp.model().numClasses(), "a full softmax over every class");
            int[] subset = sp.subset();
            double[][] p = sp.withDustbinShift(0).probabilities(x);
            for (int i = 0; i < p.length; i++) {
                assertEquals(subset.length + 1, p[i].length);
                assertEquals(1, Arrays.stream(p[i]).sum(), 1e-9, "folded into subset + dustbin");
                double[] g = pg[i];
                double gSubset = Arrays.stream(subset).mapToDouble(c -> g[c]).sum();
                moved |= Math.abs(p[i][subset.length] - (1 - gSubset)) > 1e-3;
            }
            // The dustbin correction moves the folded dustbin logit by exactly the shift.
            double[][] shifted = sp.withDustbinShift(0.7).probabilities(x.getRows(0));
            double[][] plain = sp.withDustbinShift(0).probabilities(x.getRows(0));
            assertEquals(Math.log(plain[0][subset.length] / plain[0][0]) + 0.7,
                    Math.log(shifted[0][subset.length] / shifted[0][0]), 1e-4);
            // Applied at prediction time instead of in the bias: the same folded distribution.
            double[][] view = sp.withDustbinShiftForPredictions(0.7).probabilities(x);
            double[][] baked = sp.withDustbinShift(0.7).probabilities(x);
            for (int i = 0; i < view.length; i++) {
                assertArrayEquals(baked[i], view[i], 1e-6);
            }
        }
        assertTrue(moved, "training moved the specialists away from the generalist they started as");
        // Saved and loaded again (the done records say which head), the models are the same.
        List<Specialists.Trained> reused = SpecialistStages.trainSpecialists(u.ctx(), EngineConfig.local(1),
                u.generalist().model(), u.ctx().modelPath("generalist"), GENERALIST, u.planted(), full, u.s(),
                u.ctx().seeds().derive("specialists"), u.ctx().record().dir());
        for (int m = 0; m < trained.size(); m++) {
            assertEquals(SpecialistConfig.Head.FULL, reused.get(m).specialist().head());
            assertEquals(trained.get(m).specialist().model().fingerprint(), reused.get(m).specialist().model().fingerprint());
            assertEquals(trained.get(m).fittedShift(), reused.get(m).fittedShift());
        }
    }

    @Test
    void theUnspecialisedEnsembleAveragesTheTwoDistributions(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        var tuned = u.generalist().model().withBiasShift(0, 3.0);
        INDArray x = u.s().testX();
        int[] pred = SpecialistStages.unspecialised(u.generalist().model(), tuned, x);
        double[][] a = Transforms.softmax(u.generalist().model().logits(x).castTo(DataType.DOUBLE), true).toDoubleMatrix();
        double[][] b = Transforms.softmax(tuned.logits(x).castTo(DataType.DOUBLE), true).toDoubleMatrix();
        for (int i = 0; i < pred.length; i++) {
            int best = 0;
            for (int c = 1; c < 6; c++) {
                if (a[i][c] + b[i][c] > a[i][best] + b[i][best]) {
                    best = c;
                }
            }
            assertEquals(best, pred[i], "example " + i);
        }
    }

    @Test
    void theEnsembleIsScoredUnderEveryDustbinCorrectionAndTheHeadlineOnesPredictionsReturned(@TempDir Path root) {
        Setup u = setup(root, new TinyRuns.Recorder());
        List<Specialists.Trained> trained = u.trainSpecialists(u.ctx(), u.planted());
        SortedMap<String, String> result = new TreeMap<>();
        SpecialistStages.Headline h = SpecialistStages.ensembleUnderEachCorrection(result, u.generalist().model(),
                trained, ENSEMBLE, SPECIALISTS.withCorrection(DustbinCorrection.LOG_OVERSAMPLING, false), u.s());
        assertEquals(List.of(""), List.copyOf(h.predictions().keySet()), "synthetic data: one test set");
        int[] headline = h.on(u.s().testSets().getFirst());
        assertEquals("log_oversampling", result.get("specialists.correction.chosen"));
        int[] labels = u.s().test().labels();
        for (DustbinCorrection c : DustbinCorrection.values()) {
            String key = "ensemble." + c.name().toLowerCase(java.util.Locale.ROOT);
            List<Specialist> specs = trained.stream().map(t -> t.specialist().withDustbinShift(t.shift(c))).toList();
            int[] pred = SpecialistStages.ensemble(u.generalist().model(), specs, ENSEMBLE).combine(u.s().testX())
                    .predictions();
            assertEquals(SpecialistStages.pct(SpecialistStages.correct(pred, labels, null), labels.length),
                    result.get(key + ".test_accuracy"), key);
            assertTrue(result.containsKey(key + ".unconverged"), key);
            if (c == DustbinCorrection.LOG_OVERSAMPLING) {
                assertArrayEquals(pred, headline);
            }
        }
        assertTrue(result.containsKey("ensemble.max_solver_iterations"));
        assertTrue(result.containsKey("ensemble.seconds_per_1000_examples"));
    }

    @Test
    void aMatrixRoundTripsExactlyAndAnAlteredOrMissingFileIsAnErrorNamingIt(@TempDir Path dir) throws Exception {
        INDArray m = Nd4j.createFromArray(new float[][] {{0.25f, 0.75f}, {1e-7f, 1 - 1e-7f}, {0.5f, 0.5f}});
        Path file = dir.resolve("q.bin");
        SpecialistStages.writeMatrix(file, m);
        String sha = darkknowledge.core.Sha256.of(file);
        assertEquals(m, SpecialistStages.readMatrix(file, sha));
        assertEquals(m, SpecialistStages.readMatrix(file, null));

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);
        var altered = assertThrows(IllegalStateException.class, () -> SpecialistStages.readMatrix(file, sha));
        assertTrue(altered.getMessage().startsWith("cannot read the matrix " + file) && altered.getMessage()
                .contains("expected " + sha), altered.getMessage());

        Path missing = dir.resolve("missing.bin");
        var gone = assertThrows(IllegalStateException.class, () -> SpecialistStages.readMatrix(missing, null));
        assertTrue(gone.getMessage().startsWith("cannot read the matrix " + missing), gone.getMessage());
    }

    /**
     * Classes 0..3; specialists on {0, 1} and {1, 2}: class 1 is covered twice, 0 and 2 once, 3 by
     * none. Eight test examples, two a class; the generalist right on 5, the ensemble on 6.
     */
    @Test
    void theTable3And4FiguresOfHandMadePredictions() {
        ClassPartition partition = new ClassPartition(List.of(List.of(0, 1), List.of(1, 2)), 4, "hand", Double.NaN);
        int[] labels = {0, 0, 1, 1, 2, 2, 3, 3};
        int[] generalist = {0, 1, 1, 0, 2, 2, 3, 0};
        int[] ensemble = {0, 0, 1, 1, 2, 1, 3, 0};
        SortedMap<String, String> r = new TreeMap<>();
        SpecialistStages.report(r, "", generalist, ensemble, labels, partition);
        Map<String, String> expected = new TreeMap<>(Map.ofEntries(
                Map.entry("test_examples", "8"),
                Map.entry("generalist.test_accuracy", "62.50"),
                Map.entry("ensemble.test_accuracy", "75.00"),
                Map.entry("ensemble.relative_gain_pct", "20.00"),
                Map.entry("specialist_classes.test_examples", "6"),
                Map.entry("generalist.specialist_classes_accuracy", "66.67"),
                Map.entry("ensemble.specialist_classes_accuracy", "83.33"),
                Map.entry("cover0.examples", "2"), Map.entry("cover0.delta_correct", "0"),
                Map.entry("cover0.relative_change_pct", "0.00"),
                Map.entry("cover1.examples", "4"), Map.entry("cover1.delta_correct", "0"),
                Map.entry("cover1.relative_change_pct", "0.00"),
                Map.entry("cover2.examples", "2"), Map.entry("cover2.delta_correct", "1"),
                Map.entry("cover2.relative_change_pct", "100.00"),
                Map.entry("cover3.examples", "0"), Map.entry("cover3.delta_correct", "0"),
                Map.entry("cover3.relative_change_pct", "NaN"),
                Map.entry("cover4.examples", "0"), Map.entry("cover4.delta_correct", "0"),
                Map.entry("cover4.relative_change_pct", "NaN")));
        assertEquals(expected, r);
        // A second test set's figures: the same, under its prefix, beside the first set's.
        SpecialistStages.report(r, RunData.SEEN_PREFIX, generalist, ensemble, labels, partition);
        expected.forEach((k, v) -> assertEquals(v, r.get(RunData.SEEN_PREFIX + k), k));
        assertEquals(2 * expected.size(), r.size());
    }

    @Test
    void coveredCorrectAndPctCountWhatTheySay() {
        ClassPartition partition = new ClassPartition(List.of(List.of(3, 1)), 5, "hand", Double.NaN);
        assertArrayEquals(new boolean[] {false, true, false, true, false}, SpecialistStages.covered(partition));
        int[] labels = {0, 1, 3, 3, 4};
        int[] pred = {0, 1, 3, 2, 0};
        assertEquals(3, SpecialistStages.correct(pred, labels, null));
        assertEquals(2, SpecialistStages.correct(pred, labels, SpecialistStages.covered(partition)));
        assertEquals("66.67", SpecialistStages.pct(2, 3));
        assertEquals("NaN", SpecialistStages.pct(0, 0));
    }
}
