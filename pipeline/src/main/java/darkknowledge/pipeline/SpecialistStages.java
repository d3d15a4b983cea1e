package darkknowledge.pipeline;

import darkknowledge.clustering.ClassClustering;
import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.ClassPartition;
import darkknowledge.core.ResultTables;
import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.Engines;
import java.nio.file.Files;
import java.nio.file.Path;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.Schedule;
import darkknowledge.generalist.TrainingSchedule;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.DustbinCorrection;
import darkknowledge.specialists.KlCombiner;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.SpecialistEnsemble;
import darkknowledge.specialists.Specialists;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The stages of §5 after the generalist, as functions of typed inputs: what the specialist
 * experiments and the distilled pipeline share, written once.
 *
 * <ol>
 * <li>{@link #cluster}: the covariance (or correlation) of the generalist's predicted class
 *     probabilities, clustered with K-means into subsets of classes it confuses (§5.3).
 * <li>{@link #trainSpecialists}: one specialist per subset, initialised from the generalist, trained on
 *     half subset, half dustbin, its dustbin logit corrected (§5.2).
 * <li>{@link #ensemble}: the §5.4 combination, {@code argmin_q KL(p^g‖q) + Σ_{m∈A_k} KL(p^m‖q)}.
 * <li>{@link #report}: Table 3 and Table 4 figures of a prediction against the generalist's.
 * <li>{@link #control}: the generalist fine-tuned for the specialists' extra example-passes, so a
 *     gain is not just more training.
 * </ol>
 */
public final class SpecialistStages {
    // The figures of Tables 3 and 4, declared once: the specialist experiments' tables list them,
    // report() writes them.
    public static final ResultTables.Metric GENERALIST_TEST_ACCURACY = new ResultTables.Metric("generalist.test_accuracy",
            "Table 3: generalist test accuracy (%)", "25.0 (JFT)", 2);
    public static final ResultTables.Metric ENSEMBLE_TEST_ACCURACY =
            new ResultTables.Metric("ensemble.test_accuracy", "Table 3: generalist + specialists (%)", "26.1 (JFT)", 2);
    public static final ResultTables.Metric ENSEMBLE_RELATIVE_GAIN_PCT =
            new ResultTables.Metric("ensemble.relative_gain_pct", "relative improvement (%)", "+4.4", 1);
    public static final ResultTables.Metric GENERALIST_SPECIALIST_CLASSES_ACCURACY = new ResultTables.Metric("generalist.specialist_classes_accuracy",
            "generalist on specialist classes (%)", "43.1", 2);
    public static final ResultTables.Metric ENSEMBLE_SPECIALIST_CLASSES_ACCURACY = new ResultTables.Metric("ensemble.specialist_classes_accuracy",
            "ensemble on specialist classes (%)", "45.9", 2);
    private static final String[] TABLE4_PAPER = {"0.0", "+3.4", "+7.4", "+8.8", "+10.5"};

    /** Table 4: test examples whose true class is covered by {@code c} specialists (4 = 4 or more). */
    public static ResultTables.Metric coverExamples(int c) {
        return new ResultTables.Metric("cover" + c + ".examples", "Table 4: test examples covered by " + coverLabel(c),
                "–", 0);
    }

    /** Table 4: relative accuracy change of the ensemble over the generalist on those examples. */
    public static ResultTables.Metric coverRelativeChange(int c) {
        return new ResultTables.Metric("cover" + c + ".relative_change_pct",
                "Table 4: relative accuracy change, covered by " + coverLabel(c) + " (%)", TABLE4_PAPER[c], 1);
    }

    private static String coverLabel(int c) {
        return c == 4 ? "4 or more" : Integer.toString(c);
    }
    private SpecialistStages() {
    }

    /** The generalist's predictions the clustering reads: probabilities (or logits) on the chosen split. */
    public static double[][] predictions(Classifier generalist, RunData s, ClusteringConfig cfg,
                                         EnsembleConfig.ClusterOn on) {
        INDArray x = on == EnsembleConfig.ClusterOn.VALIDATION ? s.validationX() : s.trainX();
        INDArray z = generalist.logits(x).castTo(DataType.DOUBLE);
        return cfg.source() == ClusteringConfig.Source.LOGITS ? z.toDoubleMatrix()
                : Transforms.softmax(z, true).toDoubleMatrix();
    }

    /** §5.3: the partition of the classes into specialist subsets. */
    public static ClassPartition cluster(double[][] predictions, ClusteringConfig cfg) {
        return ClassClustering.fromPredictions(predictions, cfg);
    }

    /**
     * §5.2: trains the specialists of {@code partition}, one {@link SpecialistTask} each, on the
     * engine {@code engineCfg} names (an in-process pool or a cluster; opened only if some
     * specialist is left to train): the engine ships every task the generalist saved at
     * {@code generalistFile} and the run's data {@code s} ({@link Shipped}), and each task's model
     * comes back to be written with its done record into {@code outputDir} as soon as it finishes.
     * A specialist whose done record exists there for the same subset and generalist is not trained
     * again (a resumed run). Returns every specialist, in order. The bytes shipped and returned go
     * into the provenance ({@code engine.stage.specialists.*}).
     */
    public static List<Specialists.Trained> trainSpecialists(RunContext ctx, EngineConfig engineCfg,
                                                             Classifier generalist, Path generalistFile,
                                                             TrainingSchedule generalistCfg, ClassPartition partition,
                                                             SpecialistConfig cfg, RunData s, long seed,
                                                             Path outputDir) {
        Schedule training = Specialists.schedule(generalistCfg, cfg);
        int count = partition.subsets().size();
        SpecialistTask.Done[] done = new SpecialistTask.Done[count];
        List<Integer> todo = new ArrayList<>();
        String out = outputDir.toAbsolutePath().toString();
        // what a finished specialist is checked against: the generalist's hash, not its bytes
        Shipped.Model described = new Shipped.Model(generalist.fingerprint(), null);
        for (int m = 0; m < count; m++) {
            done[m] = new SpecialistTask(m, partition.subset(m), described, null, training, cfg, seed, out,
                    engineCfg.checkpointSeconds()).finished();
            if (done[m] == null) {
                todo.add(m);
            }
        }
        if (count - todo.size() > 0) {
            ctx.provenance().put("specialists.reused", Integer.toString(count - todo.size()));
        }
        if (!todo.isEmpty()) {
            SpecialistTask.listenInProcess(Specialists.synchronizedListener(ctx.progress()));
            Shipped.Data data = null;
            try (Engine engine = openEngine(engineCfg, ctx)) {
                Shipped.Model g = Shipped.model(engine, generalistFile, generalist.fingerprint());
                data = Shipped.data(engine, s);
                List<SpecialistTask> tasks = new ArrayList<>();
                for (int m : todo) {
                    tasks.add(new SpecialistTask(m, partition.subset(m), g, data, training, cfg, seed, out,
                            engineCfg.checkpointSeconds()));
                }
                long[] returned = new long[1];
                double[] inputSeconds = new double[1];
                engine.runAll("specialists", tasks, o -> {
                    done[o.done().index()] = tasks.get(todo.indexOf(o.done().index())).save(o);
                    returned[0] += o.model().length;
                    inputSeconds[0] += o.inputSeconds();
                });
                ctx.provenance().putAll("engine.", engine.describe());  // now with where each task ran
                ctx.provenance().put("engine.stage.specialists.returned_bytes", Long.toString(returned[0]))
                        .put("engine.stage.specialists.input_seconds", Models.fmt(inputSeconds[0]));
            } finally {
                SpecialistTask.listenInProcess(null);
                SpecialistTask.forgetValidationPredictions();
                if (data != null) {
                    Shipped.forget(data);
                }
            }
        }
        List<Specialists.Trained> trained = new ArrayList<>();
        for (int m = 0; m < count; m++) {
            // Trained in an executor's JVM, or before a driver was killed: the rows come from the record.
            done[m].history().forEach(ctx.progress()::onRestoredEpoch);
            trained.add(done[m].load(outputDir, partition.subset(m)));
            ctx.provenance().put("model.specialist" + m + ".executor", done[m].executor());
        }
        return trained;
    }

    /**
     * The engine the specialists run on ({@code engine.kind}): in process with
     * {@code engine.workers} threads, or Spark at {@code engine.master}. What it is (kind,
     * master, executors) goes into the run's provenance.
     */
    public static Engine openEngine(EngineConfig cfg, RunContext ctx) {
        Engine engine = Engines.open(cfg, ctx.record().dir());
        ctx.provenance().putAll("engine.", engine.describe());
        return engine;
    }

    /**
     * §5.4 on the whole transfer set (the training split): the ensemble's distribution on every
     * example, computed by {@code slices} {@link EnsembleTargetsTask}s on the engine {@code engineCfg} names (the
     * saved generalist and specialists and the run's data shipped to them, {@link Shipped}); each
     * slice's rows come back to the driver, checked against the hash its task reported, and are
     * joined in order here. Returns {@code [n, K]} floats.
     */
    public static INDArray ensembleTargets(RunContext ctx, EngineConfig engineCfg, EnsembleTargetsTask.Model generalist,
                                           List<EnsembleTargetsTask.SpecialistModel> specialists, EnsembleConfig cfg,
                                           RunData s, int slices) {
        List<EnsembleTargetsTask.Slice> done;
        Shipped.Data data = null;
        try (Engine engine = openEngine(engineCfg, ctx)) {
            data = Shipped.data(engine, s);
            List<EnsembleTargetsTask> tasks = EnsembleTargetsTask.slices(engine, generalist, specialists, cfg, data,
                    s.train().numExamples(), slices);
            done = engine.runAll("ensemble-targets", tasks);
            ctx.provenance().putAll("engine.", engine.describe());
        } finally {
            if (data != null) {
                Shipped.forget(data);
            }
        }
        List<INDArray> parts = new ArrayList<>();
        for (EnsembleTargetsTask.Slice slice : done) {
            parts.add(slice.matrix());
        }
        return parts.size() == 1 ? parts.get(0) : org.nd4j.linalg.factory.Nd4j.vstack(parts);
    }

    /** Writes {@code m} to {@code file} in ND4J's binary format, atomically. */
    public static void writeMatrix(Path file, INDArray m) {
        AtomicFiles.write(file, out -> {
            java.io.DataOutputStream d = new java.io.DataOutputStream(out);
            org.nd4j.linalg.factory.Nd4j.write(m, d);
            d.flush();
        });
    }

    /**
     * Reads a matrix written by {@link #writeMatrix}, checking its bytes against {@code sha256} when
     * one is given (null: unchecked); an unreadable or altered file is an error naming it.
     */
    public static INDArray readMatrix(Path file, String sha256) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            if (sha256 != null && !darkknowledge.core.Sha256.of(bytes).equals(sha256)) {
                throw new IllegalStateException(file + ": SHA-256 " + darkknowledge.core.Sha256.of(bytes)
                        + ", expected " + sha256);
            }
            return org.nd4j.linalg.factory.Nd4j.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes)));
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the matrix " + file + ": " + e.getMessage(), e);
        }
    }

    /** §5.4: the generalist and these specialists, combined per example by the KL solver. */
    public static SpecialistEnsemble ensemble(Classifier generalist, List<Specialist> specialists, EnsembleConfig cfg) {
        return new SpecialistEnsemble(generalist, specialists, cfg.topN(),
                new KlCombiner(cfg.tolerance(), cfg.maxIterations()));
    }

    /**
     * The ensemble's headline: the dustbin correction it uses, and its predictions under it on each test
     * set, by the set's result-key prefix ({@link RunData.TestSet#prefix()}).
     */
    public record Headline(DustbinCorrection correction, Map<String, int[]> predictions) {
        /** The headline predictions on {@code set}. */
        public int[] on(RunData.TestSet set) {
            return predictions.get(set.prefix());
        }
    }

    /**
     * The ensemble under each dustbin correction ({@code ensemble.<correction>.*} figures: accuracy on
     * each test set, under the set's prefix ({@link RunData#testSets()}), and validation accuracy when
     * there is a validation split); the fitted correction
     * only when every specialist has a fitted shift. The headline correction is
     * {@code spec.correction()}, or with {@code spec.correctionOnValidation()} the one whose
     * ensemble is most accurate on the validation split (the first of the most accurate, in
     * {@link DustbinCorrection} order), recorded as {@code specialists.correction.chosen}; its solver
     * figures are recorded too.
     */
    public static Headline ensembleUnderEachCorrection(SortedMap<String, String> result, Classifier generalist,
                                                       List<Specialists.Trained> trained, EnsembleConfig cfg,
                                                       SpecialistConfig spec, RunData s) {
        if (spec.correctionOnValidation() && !s.hasValidation()) {
            throw new IllegalArgumentException("specialists.correctionOnValidation=true needs a validation split "
                    + "(data.validationSize > 0)");
        }
        boolean fitted = trained.stream().noneMatch(t -> Double.isNaN(t.fittedShift()));
        List<DustbinCorrection> corrections = new ArrayList<>();
        for (DustbinCorrection corr : DustbinCorrection.values()) {
            if (corr != DustbinCorrection.FITTED || fitted) {
                corrections.add(corr);
            }
        }
        DustbinCorrection headline = spec.correction();
        if (!corrections.contains(headline)) {
            throw new IllegalArgumentException("specialists.correction=fitted: specialists trained before the fitted "
                    + "correction existed have no fitted shift");
        }
        double bestValidation = -1;
        java.util.Map<DustbinCorrection, List<Specialist>> shifted = new java.util.EnumMap<>(DustbinCorrection.class);
        for (DustbinCorrection corr : corrections) {
            List<Specialist> specs = new ArrayList<>();
            for (Specialists.Trained t : trained) {
                specs.add(t.specialist().withDustbinShiftForPredictions(t.shift(corr)));
            }
            shifted.put(corr, specs);
            if (s.hasValidation()) {
                int[] val = ensemble(generalist, specs, cfg).combine(s.validationX()).predictions();
                int[] valLabels = s.validation().labels();
                int right = correct(val, valLabels, null);
                result.put("ensemble." + key(corr) + ".validation_accuracy", pct(right, valLabels.length));
                if (spec.correctionOnValidation() && right > bestValidation) {
                    bestValidation = right;
                    headline = corr;
                }
            }
        }
        result.put("specialists.correction.chosen", key(headline));
        if (s.hasValidation()) {
            result.put("ensemble.validation_accuracy", result.get("ensemble." + key(headline) + ".validation_accuracy"));
        }
        Map<String, int[]> headlinePredictions = new LinkedHashMap<>();
        for (RunData.TestSet set : s.testSets()) {
            int[] labels = set.labels();
            String p = set.prefix();
            for (DustbinCorrection corr : corrections) {
                long t0 = System.nanoTime();
                SpecialistEnsemble.Combined comb = ensemble(generalist, shifted.get(corr), cfg).combine(set.x());
                double seconds = (System.nanoTime() - t0) / 1e9;
                int[] pred = comb.predictions();
                String key = p + "ensemble." + key(corr);
                result.put(key + ".test_accuracy", pct(correct(pred, labels, null), labels.length));
                result.put(key + ".unconverged", Integer.toString(comb.unconverged()));
                if (corr == headline) {
                    headlinePredictions.put(p, pred);
                    result.put(p + "ensemble.max_solver_iterations", Integer.toString(comb.maxIterations()));
                    result.put(p + "ensemble.seconds_per_1000_examples", Models.fmt(1000 * seconds / labels.length));
                }
            }
        }
        return new Headline(headline, headlinePredictions);
    }

    private static String key(DustbinCorrection c) {
        return c.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The unspecialised ensemble, a control for specialisation: the arithmetic mean of the
     * distributions of the generalist and of {@code tuned}, a copy of it fine-tuned on all classes for
     * the specialists' extra example-passes (what §5.4's combination gives when one extra model
     * covers every class). Its predictions on {@code x}.
     */
    public static int[] unspecialised(Classifier generalist, Classifier tuned, INDArray x) {
        INDArray p = Transforms.softmax(generalist.logits(x).castTo(DataType.DOUBLE), true)
                .addi(Transforms.softmax(tuned.logits(x).castTo(DataType.DOUBLE), true));
        return Classifier.argmaxRows(p);
    }

    /**
     * Share (%) of {@code labels} whose class {@code partition} covers at least {@code min} times:
     * with {@code min = 2}, the examples that can show Table 4's trend.
     */
    public static String coveredShare(ClassPartition partition, int[] labels, int min) {
        int n = 0;
        for (int y : labels) {
            n += partition.coverage(y) >= min ? 1 : 0;
        }
        return pct(n, labels.length);
    }

    /**
     * Table 3 and 4 figures of {@code ensemble} against {@code generalist} on {@code labels}: accuracy
     * overall and on the classes some specialist covers, the relative gain, and by the number of
     * specialists covering the true class (0, 1, 2, 3, 4 or more) the examples and relative change;
     * every key prefixed {@code prefix} (a test set's, {@link RunData.TestSet#prefix()}).
     */
    public static void report(SortedMap<String, String> result, String prefix, int[] generalist, int[] ensemble,
                              int[] labels, ClassPartition partition) {
        Map<String, String> out = new TreeMap<>();
        boolean[] covered = covered(partition);
        int genCorrect = correct(generalist, labels, null);
        int ensCorrect = correct(ensemble, labels, null);
        out.put("test_examples", Integer.toString(labels.length));
        GENERALIST_TEST_ACCURACY.put(out, pct(genCorrect, labels.length));
        ENSEMBLE_TEST_ACCURACY.put(out, pct(ensCorrect, labels.length));
        ENSEMBLE_RELATIVE_GAIN_PCT.put(out, Models.fmt(100.0 * (ensCorrect - genCorrect) / genCorrect));
        int onSpecialist = (int) IntStream.of(labels).filter(y -> covered[y]).count();
        GENERALIST_SPECIALIST_CLASSES_ACCURACY.put(out, pct(correct(generalist, labels, covered), onSpecialist));
        ENSEMBLE_SPECIALIST_CLASSES_ACCURACY.put(out, pct(correct(ensemble, labels, covered), onSpecialist));
        out.put("specialist_classes.test_examples", Integer.toString(onSpecialist));
        for (int cov = 0; cov <= 4; cov++) {
            int examples = 0;
            int g = 0;
            int e = 0;
            for (int i = 0; i < labels.length; i++) {
                if (Math.min(4, partition.coverage(labels[i])) == cov) {
                    examples++;
                    g += generalist[i] == labels[i] ? 1 : 0;
                    e += ensemble[i] == labels[i] ? 1 : 0;
                }
            }
            coverExamples(cov).put(out, examples);
            out.put("cover" + cov + ".delta_correct", Integer.toString(e - g));
            coverRelativeChange(cov).put(out, g == 0 ? "NaN" : Models.fmt(100.0 * (e - g) / g));
        }
        out.forEach((k, v) -> result.put(prefix + k, v));
    }

    /**
     * The generalist trained on for up to as many example-passes as all specialists together
     * ({@code extraExamplePasses}), much as its own training would have gone on: from the learning rate
     * its schedule reaches after its last epoch, {@code lr_0 · decay^epochsRun · factor^(r_epochsRun)}
     * ({@link darkknowledge.generalist.Plateau}), decaying as before and reduced on its own validation
     * plateaus, counted afresh from its first epoch (a generalist two flat epochs into a plateau of three
     * would have halved its rate one epoch later; the control waits three), with its early-stopping patience; the best of its own epochs on validation is kept (reused by a resumed
     * run only if it started from the same learning rate). It is the copy the
     * unspecialised ensemble averages with the generalist; {@link #fineTuned} picks the compute-matched
     * control from it.
     */
    public static Models.Trained control(RunContext ctx, Models.Trained generalist, TrainingSchedule generalistCfg,
                                         long extraExamplePasses, RunData s) {
        int epochs = (int) Math.max(1, Math.round((double) extraExamplePasses / s.train().numExamples()));
        int[] generalistErrors = Trainer.EpochReport.validationErrors(generalist.outcome().history());
        Schedule cfg = new Schedule(epochs, generalistCfg.batchSize(), generalistCfg.jitter(), generalistCfg.patience(),
                generalistCfg.learningRateAt(generalist.outcome().epochsRun(), generalistErrors),
                generalistCfg.learningRateDecay(), generalistCfg.plateau());
        String rate = Double.toString(cfg.learningRate());
        Store.Entry at = ctx.store().open("control");
        if (at.done() && rate.equals(at.info().get("learning_rate"))) {  // a resumed run: the control finished before
            ctx.provenance().put("model.control.reused", at.model("control").toString());
            ctx.provenance().put("model.control.learning_rate", rate);
            Trainer.Outcome recorded = Models.outcome(at.info());
            Models.replayHistory(ctx, at, recorded);
            return new Models.Trained("control", at.loadModelForInference("control"), recorded);
        }
        if (at.done()) {  // trained by older code, from another learning rate: trained again, from the start
            at.checkpoints().clear("control");
        }
        Classifier tuned = generalist.model().copy();
        Trainer.Outcome o = Trainer.fit("control", tuned, new Trainer.TrainingData(s.trainX(), s.trainY(),
                s.train().imageWidth(), s.train().imageHeight()).withFresh(s.freshInputs()), new Trainer.Validation(
                s.validationX(), s.validation().labels()), cfg, ctx.seeds().derive("control"), ctx.progress(),
                at.checkpoints());
        SortedMap<String, String> info = Models.record(o);
        info.put("learning_rate", rate);
        at.completeWith("control", tuned, info);
        ctx.provenance().put("model.control.sha256", tuned.fingerprint());
        ctx.provenance().put("model.control.learning_rate", rate);
        return new Models.Trained("control", tuned, o);
    }

    /**
     * The compute-matched control, "train the generalist on instead": the trained-on copy
     * ({@link #control}) if it makes fewer errors on validation than the generalist, else the
     * generalist itself, as early stopping over its continued training would choose. Its validation
     * gain over the generalist is therefore never negative: it is what more training finds, the
     * convergence test of the glyph tables.
     */
    public static Classifier fineTuned(Classifier generalist, Classifier trainedOn, RunData s) {
        int[] val = s.validation().labels();
        return trainedOn.errors(s.validationX(), val) < generalist.errors(s.validationX(), val) ? trainedOn : generalist;
    }

    /** The classes some specialist of {@code partition} covers. */
    public static boolean[] covered(ClassPartition partition) {
        boolean[] covered = new boolean[partition.numClasses()];
        for (int m = 0; m < partition.subsets().size(); m++) {
            for (int c : partition.subset(m)) {
                covered[c] = true;
            }
        }
        return covered;
    }

    /** Correct predictions, over the examples whose label is in {@code onlyClasses} (null = all). */
    public static int correct(int[] pred, int[] labels, boolean[] onlyClasses) {
        int n = 0;
        for (int i = 0; i < labels.length; i++) {
            if ((onlyClasses == null || onlyClasses[labels[i]]) && pred[i] == labels[i]) {
                n++;
            }
        }
        return n;
    }

    /** {@code correct / total} in percent with two decimals, NaN for an empty set. */
    public static String pct(int correct, int total) {
        return total == 0 ? "NaN" : String.format(Locale.ROOT, "%.2f", 100.0 * correct / total);
    }
}
