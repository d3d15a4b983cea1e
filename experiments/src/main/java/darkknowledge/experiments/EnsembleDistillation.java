package darkknowledge.experiments;

import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.core.Check;
import darkknowledge.core.GainKept;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.TestPredictions;
import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.Teacher;
import darkknowledge.distill.TransferSet;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * <b>Distilling an ensemble into one net</b> — the MNIST analogue of Hinton, Vinyals &amp; Dean 2015,
 * §4 (Table 1): an ensemble of independently seeded nets (differing only in initialisation and
 * minibatch order), its accuracy, and one net of the same size distilled from it. Paper (speech):
 * baseline 58.9%, 10× ensemble 61.1%, distilled single model 60.8% frame accuracy: more than 80% of
 * the ensemble's gain kept. The ensemble averages the members' distributions (arithmetic mean,
 * {@code ensemble.average=probabilities}), their logits ({@code logits}), or both ways from one set of
 * members, each distilled into its own student ({@code both}). A sweep ({@code sweep.*}) chooses T and
 * the hard-label weight on validation. Every run writes its test predictions ({@link TestPredictions}),
 * from which the tables add the test set's sampling noise to the 95% interval of the share kept
 * ({@link GainKept}).
 *
 * <p>On MNIST the ensemble gains about 20 test errors, no more than one student's run-to-run spread;
 * on Fashion-MNIST the members disagree far more ({@code configs/ensemble-distillation-fashion.properties},
 * T and hard weight from {@code configs/ensemble-distillation-fashion-sweep.properties}). Cost here:
 * about 35 minutes at full scale (MNIST, 5 members); see the config files for theirs.
 *
 * <pre>./dk run ensemble-distillation --scale full
 *./dk run ensemble-distillation --config configs/ensemble-distillation-fashion.properties --set run.seed=N</pre>
 */
public final class EnsembleDistillation implements Experiment<EnsembleDistillation.Config> {
    static final ResultTables.Metric MEMBERS_MEAN_TEST_ERRORS =
            new ResultTables.Metric("members.mean_test_errors", "single net (mean over members)", "58.9% acc.", 1);
    static final ResultTables.Metric ENSEMBLE_TEST_ERRORS =
            new ResultTables.Metric("ensemble.test_errors", "ensemble", "61.1% acc.", 1);
    static final ResultTables.Metric STUDENT_TEST_ERRORS =
            new ResultTables.Metric("student.test_errors", "distilled single net", "60.8% acc.", 1);
    static final ResultTables.Metric STUDENT_GAIN_KEPT_PCT =
            new ResultTables.Metric("student.gain_kept_pct", "share of the ensemble's gain kept (%)", "> 80", 1);

    static final ResultTables.Metric ENSEMBLE_LOGITS_TEST_ERRORS = new ResultTables.Metric(
            "ensemble_logits.test_errors", "ensemble, logits averaged (with average=both)", "–", 1);
    static final ResultTables.Metric STUDENT_LOGITS_TEST_ERRORS = new ResultTables.Metric(
            "student_logits.test_errors", "distilled from it", "–", 1);
    static final ResultTables.Metric STUDENT_LOGITS_GAIN_KEPT_PCT = new ResultTables.Metric(
            "student_logits.gain_kept_pct", "share of its gain kept (%)", "–", 1);
    static final ResultTables.Metric STUDENT_TEMPERATURE = new ResultTables.Metric(
            "student.temperature", "student's T (chosen on validation with a sweep)", "–", 1);
    static final ResultTables.Metric STUDENT_HARD_WEIGHT = new ResultTables.Metric(
            "student.hard_weight", "student's hard-label weight", "–", 2);

    /**
     * The 95% intervals of the share kept (probability average, or the run's only one): on this test set
     * over seeds (the verdict's), and with the test set's sampling noise added ({@link GainKept}).
     */
    static final GainKept.Row GAIN_KEPT_SEED_INTERVAL = new GainKept.Row(
            "share kept: 95% interval on this test set, t over seeds (the verdict's)", "> 80", "ensemble", "student",
            GainKept.Method.SEEDS);
    static final GainKept.Row GAIN_KEPT_INTERVAL = new GainKept.Row(
            "share kept: 95% interval with the test set's sampling noise (one seed: bootstrap over test examples)",
            "> 80", "ensemble", "student", GainKept.Method.SEEDS_AND_TEST_SET);
    /** The same for the logit average beside it ({@code average=both}). */
    static final GainKept.Row LOGITS_GAIN_KEPT_SEED_INTERVAL = new GainKept.Row(
            "logit ensemble's share kept: 95% interval on this test set, t over seeds", "–", "ensemble_logits",
            "student_logits", GainKept.Method.SEEDS);
    static final GainKept.Row LOGITS_GAIN_KEPT_INTERVAL = new GainKept.Row(
            "logit ensemble's share kept: 95% interval with the test set's sampling noise", "–", "ensemble_logits",
            "student_logits", GainKept.Method.SEEDS_AND_TEST_SET);

    static final ResultTables.Metric STUDENT_KL_TRANSFER = new ResultTables.Metric("student.teacher_kl_transfer",
            "student vs ensemble, T²·KL at T, transfer set", "–", 3);
    static final ResultTables.Metric STUDENT_KL_TEST = new ResultTables.Metric("student.teacher_kl_test",
            "student vs ensemble, T²·KL at T, test set", "–", 3);
    static final ResultTables.Metric STUDENT_DISAGREEMENTS_TEST = new ResultTables.Metric(
            "student.teacher_disagreements_test", "test digits where student and ensemble differ", "–", 1);

    /**
     * How the members' outputs are combined: their probabilities' arithmetic mean, their logits' mean
     * (a normalised geometric mean), or both, each ensemble distilled into its own student from the
     * same members (the two are then paired: one set of members, two students).
     */
    public enum Average {
        PROBABILITIES, LOGITS, BOTH;

        /** The averages a run distils, in order. */
        List<Average> distilled() {
            return this == BOTH ? List.of(PROBABILITIES, LOGITS) : List.of(this);
        }
    }

    /**
     * @param members number of nets in the ensemble
     * @param average arithmetic mean of probabilities, or mean of logits
     */
    public record Ensemble(int members, Average average) {
        public Ensemble {
            Check.inRange("members", members, 2, 100);
            Check.that(average != null, "average", "must be probabilities, logits or both");
        }
    }

    /**
     * The distillation settings chosen on validation: for each T of {@code temperatures} and hard
     * weight of {@code hardWeights}, a student of {@code epochs} epochs is distilled from the run's
     * ensemble, and the final student takes the pair with the fewest validation errors (instead of
     * {@code distill.temperature} and {@code distill.hardWeight}). Off when {@code temperatures} is
     * empty (the default).
     */
    public record Sweep(List<Double> temperatures, List<Double> hardWeights, int epochs) {
        public Sweep {
            temperatures = List.copyOf(temperatures);
            hardWeights = List.copyOf(hardWeights);
            temperatures.forEach(t -> Check.positive("temperatures", t));
            hardWeights.forEach(w -> Check.nonNegative("hardWeights", w));
            Check.that(temperatures.isEmpty() || !hardWeights.isEmpty(), "hardWeights",
                    "must name at least one weight when temperatures are swept");
            Check.that(temperatures.isEmpty() || epochs >= 1, "epochs",
                    "must be at least 1 when temperatures are swept, got " + epochs);
        }

        static Sweep off() {
            return new Sweep(List.of(), List.of(), 0);
        }

        boolean enabled() {
            return !temperatures.isEmpty();
        }
    }

    /** The experiment's configuration; defaults are the full-scale setting. */
    public record Config(RunConfig run, DataConfig data, MlpConfig member, MlpConfig student, DistillConfig distill,
                         Ensemble ensemble, Sweep sweep) {
        public Config {
            // the sweep chooses on validation errors: without a validation split every grid point reads the same
            darkknowledge.core.Check.that(!sweep.enabled() || data.validationSize() > 0, "sweep.temperatures",
                    "a sweep chooses T and the hard weight on validation errors, so it needs data.validationSize > 0 "
                    + "(got " + data.validationSize() + ")");
        }
    }

    @Override
    public String name() {
        return "ensemble-distillation";
    }

    @Override
    public String card() {
        return "§4 analogue: ensemble of seeded 800-800 nets distilled into one (MNIST, Fashion-MNIST); paper keeps >80% of the ensemble's gain";
    }

    @Override
    public Config defaults() {
        return new Config(new RunConfig(1, Scale.FULL), Presets.MNIST_DATA, Presets.MNIST_BASELINE.withEpochs(20), Presets.MNIST_STUDENT, Presets.MNIST_DISTILL,
                new Ensemble(5, Average.PROBABILITIES), Sweep.off());
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        return switch (scale) {
            case FULL -> Map.of();
            case SMALL -> Map.of("member.epochs", "2", "student.epochs", "3", "ensemble.members", "3");
            case TINY -> {
                Map<String, String> m = new TreeMap<>(Presets.tiny("member", "student"));
                m.put("ensemble.members", "2");
                // both students, so that the twin writes every figure of the table
                m.put("ensemble.average", "both");
                yield m;
            }
        };
    }

    @Override
    public ResultTables.Spec table() {
        return new ResultTables.Spec(name(), "Ensemble distillation (§4 analogue on MNIST and Fashion-MNIST): test errors of 10,000",
                List.of(MEMBERS_MEAN_TEST_ERRORS,
                        ENSEMBLE_TEST_ERRORS,
                        STUDENT_TEST_ERRORS,
                        STUDENT_GAIN_KEPT_PCT,
                        ENSEMBLE_LOGITS_TEST_ERRORS,
                        STUDENT_LOGITS_TEST_ERRORS,
                        STUDENT_LOGITS_GAIN_KEPT_PCT,
                        STUDENT_TEMPERATURE,
                        STUDENT_HARD_WEIGHT,
                        STUDENT_KL_TRANSFER,
                        STUDENT_KL_TEST,
                        STUDENT_DISAGREEMENTS_TEST),
                List.of("run.scale", "data.source", "ensemble.members"),
                "The paper's figures are speech frame accuracies (10 members). With `ensemble.average=both` one set of "
                        + "members is averaged both ways and each ensemble distilled into its own student: the rows "
                        + "above the logit rows are the probability average's. The intervals are 95% intervals of the "
                        + "mean share (" + GainKept.class.getSimpleName() + "). On this test set: the t interval over "
                        + "seeds, the share on these 10,000 test images in expectation over training seeds, which "
                        + "more seeds narrow without limit; the paper's figure is a share on its one test set, and the "
                        + "summary judges by this interval. With the test set's sampling noise: the same widened by "
                        + "the delta-method variance of the share that the test set's examples add, estimated from "
                        + "the covariance between different seeds' per-example contributions (so that which images "
                        + "one seed's nets happen to miss, already in the seeds' spread, is not counted twice); it "
                        + "needs the runs' test predictions (recorded since the Fashion-MNIST runs) and narrows with "
                        + "seeds to the test set's floor, shown after it. For one seed: the paired bootstrap over its "
                        + "test examples.",
                List.of(GAIN_KEPT_SEED_INTERVAL, GAIN_KEPT_INTERVAL, LOGITS_GAIN_KEPT_SEED_INTERVAL,
                        LOGITS_GAIN_KEPT_INTERVAL));
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        RunData s = RunData.load(ctx, c.data());
        SortedMap<String, String> result = new TreeMap<>();
        List<Teacher> softened = new ArrayList<>();
        List<Teacher.Logits> logits = new ArrayList<>();
        DescriptiveStatistics memberErrors = new DescriptiveStatistics();
        int[] testLabels = s.test().labels();
        int[] membersWrong = new int[testLabels.length];
        for (int m = 0; m < c.ensemble().members(); m++) {
            Models.Trained member = Models.trainOnLabels(ctx, "member" + m, c.member(), s);
            Models.report(result, member);
            int[] predicted = member.model().predict(s.testX());
            for (int i = 0; i < predicted.length; i++) {
                membersWrong[i] += predicted[i] != testLabels[i] ? 1 : 0;
            }
            memberErrors.addValue(errors(predicted, testLabels));
            softened.add(Models.asTeacher(member));
            logits.add(member.model()::logits);
        }
        double single = memberErrors.getMean();
        MEMBERS_MEAN_TEST_ERRORS.put(result, Models.fmt(single));
        result.put("members.sd_test_errors", Models.fmt(memberErrors.getStandardDeviation()));

        int[] rows = TransferSet.all().select(s.train().labels(), ctx.seeds().derive("transfer"));
        INDArray transferX = s.trainX().getRows(rows);
        TestPredictions predictions = new TestPredictions(testLabels, membersWrong, c.ensemble().members());
        for (Average average : c.ensemble().average().distilled()) {
            Teacher ensemble = average == Average.PROBABILITIES
                    ? Teacher.probabilityMean("ensemble", softened)
                    : Teacher.logitMean("ensemble", s.train().numClasses(), logits);
            Names n = Names.of(average, c.ensemble().average());
            int[] ensemblePredicted = Classifier.argmaxRows(ensemble.softTargets(s.testX(), 1));
            int ensembleErrors = errors(ensemblePredicted, testLabels);
            if (s.hasValidation()) {
                // The level the student's validation curve is aiming at (the figure's reference line).
                result.put(n.ensemble() + ".validation_errors", Integer.toString(errors(
                        Classifier.argmaxRows(ensemble.softTargets(s.validationX(), 1)), s.validation().labels())));
            }
            DistillConfig distill = choose(c, ctx, s, ensemble, rows, average, n, result);
            Models.Trained student = Models.distill(ctx, n.student(), c.student(), distill, ensemble, s, rows, true);
            Models.report(result, student);
            int[] studentPredicted = student.model().predict(s.testX());
            int studentErrors = errors(studentPredicted, testLabels);
            // How closely it copies the ensemble where it was taught and where it was not (mnist-distillation
            // found, for one teacher, the student close on its transfer set and ten times further off it).
            Models.reportFidelity(result, n.student(), ensemble, student, transferX, s, distill.temperature());
            result.put(n.student() + ".temperature", Double.toString(distill.temperature()));
            result.put(n.student() + ".hard_weight", Double.toString(distill.hardWeight()));
            result.put(n.ensemble() + ".test_errors", Integer.toString(ensembleErrors));
            result.put(n.student() + ".test_errors", Integer.toString(studentErrors));
            // no share of a gain the ensemble did not make (equal or more errors than its members)
            result.put(n.student() + ".gain_kept_pct", single <= ensembleErrors ? "NaN"
                    : Models.fmt(100.0 * (single - studentErrors) / (single - ensembleErrors)));
            predictions = predictions.with(n.ensemble(), ensemblePredicted).with(n.student(), studentPredicted);
        }
        predictions.write(ctx.record().dir().resolve(TestPredictions.FILE));
        return result;
    }

    /**
     * The distillation settings of the student taught by {@code ensemble}: the configured ones, or with
     * a sweep, the (T, hard weight) of the grid whose short student makes the fewest validation errors
     * (ties to the first in grid order), each grid point's figure recorded as
     * {@code sweep.<average>.T<t>.w<w>.validation_errors}. Chosen on validation only: the test set is
     * read once, by the final student.
     */
    private static DistillConfig choose(Config c, RunContext ctx, RunData s, Teacher ensemble, int[] rows,
                                        Average average, Names n, SortedMap<String, String> result) {
        if (!c.sweep().enabled()) {
            return c.distill();
        }
        DistillConfig best = null;
        int bestErrors = Integer.MAX_VALUE;
        for (double t : c.sweep().temperatures()) {
            for (double w : c.sweep().hardWeights()) {
                DistillConfig d = new DistillConfig(t, w, c.distill().objective());
                String name = "sweep-" + average.name().toLowerCase(java.util.Locale.ROOT) + "-T" + t + "-w" + w;
                Models.Trained trial = Models.distill(ctx, name, c.student().withEpochs(c.sweep().epochs()), d, ensemble,
                        s, rows, true);
                int errors = trial.outcome().bestValidationErrors();
                result.put("sweep." + average.name().toLowerCase(java.util.Locale.ROOT) + ".T" + t + ".w" + w
                        + ".validation_errors", Integer.toString(errors));
                if (errors < bestErrors) {
                    bestErrors = errors;
                    best = d;
                }
            }
        }
        return best;
    }

    /**
     * The result keys of one kind of average: {@code ensemble.*} and {@code student.*} for the
     * run's only average, or for the arithmetic one when both are distilled; {@code ensemble_logits.*}
     * and {@code student_logits.*} for the logit average beside it.
     */
    record Names(String ensemble, String student) {
        static Names of(Average average, Average configured) {
            return configured == Average.BOTH && average == Average.LOGITS
                    ? new Names("ensemble_logits", "student_logits") : new Names("ensemble", "student");
        }
    }

    /**
     * The student's validation errors per epoch, one curve per run, beside the members' and (runs made
     * since it is recorded) the ensemble's validation errors: whether the student trained long enough
     * that more epochs no longer help (the paper's §4 ensemble). Drawn from the runs
     * {@link #curveRuns} picks into {@code results/ensemble-distillation-student-curves.png}; a stale
     * figure is removed when no run qualifies.
     */
    @Override
    public void figures(Path experimentRuns, Path results) {
        List<FinishedRuns.Run> runs = curveRuns(experimentRuns, darkknowledge.core.Configs.write("", defaults()));
        Path png = results.resolve(name() + "-student-curves.png");
        if (runs.isEmpty()) {
            Plots.remove(png);
        } else {
            Plots.studentCurves(runs.stream().map(EnsembleDistillation::curve).toList(), png);
        }
        Path seeds = results.resolve(name() + "-seeds.md");
        List<FinishedRuns.Run> finished = FinishedRuns.all(experimentRuns, Experiments.missingKeys(this)).stream()
                .filter(r -> !"tiny".equals(r.config().get("run.scale"))).toList();
        String md = seedsTable(name(), finished);
        if (md == null) {
            Plots.remove(seeds);
        } else {
            darkknowledge.core.AtomicFiles.writeString(seeds, md);
        }
    }

    /**
     * Every seed of every configuration run with two or more seeds, one table per configuration: the
     * test errors behind each seed's share of the gain kept (members' mean, ensemble, student; for
     * each average recorded), the share, and under it the shares' mean, sd and t interval over seeds
     * ({@link GainKept#overSeeds}), with the n that would bring that interval to ±10 points at this
     * sd. The evidence of the results table's intervals, seed by seed. Null when no configuration has
     * two seeds.
     */
    static String seedsTable(String experiment, List<FinishedRuns.Run> runs) {
        java.util.Map<java.util.Map<String, String>, List<FinishedRuns.Run>> groups = new java.util.LinkedHashMap<>();
        for (FinishedRuns.Run r : runs) {
            groups.computeIfAbsent(FinishedRuns.settings(r, java.util.Set.of("run.seed")),
                    k -> new java.util.ArrayList<>()).add(r);
        }
        StringBuilder b = new StringBuilder();
        b.append("<!-- generated by `./dk tables` from runs/").append(experiment).append("/*; do not edit -->\n");
        b.append("**").append(experiment).append(": seed by seed** (test errors; the share kept is ")
                .append("(single − student) / (single − ensemble), in %)\n");
        int tables = 0;
        for (List<FinishedRuns.Run> group : groups.values()) {
            if (group.stream().map(r -> r.config().get("run.seed")).distinct().count() < 2) {
                continue;
            }
            tables++;
            java.util.Map<String, String> c = group.getFirst().config();
            String source = c.getOrDefault("data.source", "");
            b.append("\n### ").append(c.get("run.scale")).append(", ").append(source.isEmpty() ? "mnist" : source)
                    .append(", ").append(c.get("ensemble.members")).append(" members, average=")
                    .append(c.get("ensemble.average")).append(", T = ").append(c.get("distill.temperature"))
                    .append(", hard weight ").append(c.get("distill.hardWeight")).append("\n\n");
            b.append("| seed | run | members (mean) | ensemble | student | kept (%) | logit ensemble | its student "
                    + "| kept (%) |\n|---|---|---|---|---|---|---|---|---|\n");
            List<FinishedRuns.Run> sorted = group.stream().sorted(java.util.Comparator
                    .<FinishedRuns.Run>comparingLong(r -> Long.parseLong(r.config().get("run.seed")))
                    .thenComparing(FinishedRuns.Run::id)).toList();
            for (FinishedRuns.Run r : sorted) {
                java.util.function.Function<String, String> res = k -> r.result().getOrDefault(k, "–");
                b.append("| ").append(r.config().get("run.seed")).append(" | `").append(r.id()).append("` | ")
                        .append(res.apply(MEMBERS_MEAN_TEST_ERRORS.key()));
                for (String k : List.of(ENSEMBLE_TEST_ERRORS.key(), STUDENT_TEST_ERRORS.key(),
                        STUDENT_GAIN_KEPT_PCT.key(), ENSEMBLE_LOGITS_TEST_ERRORS.key(),
                        STUDENT_LOGITS_TEST_ERRORS.key(), STUDENT_LOGITS_GAIN_KEPT_PCT.key())) {
                    b.append(" | ").append(res.apply(k));
                }
                b.append(" |\n");
            }
            b.append('\n');
            String average = c.get("ensemble.average");
            List<Map.Entry<String, String>> averages = "both".equals(average)
                    ? List.of(Map.entry("probabilities", STUDENT_GAIN_KEPT_PCT.key()),
                            Map.entry("logits", STUDENT_LOGITS_GAIN_KEPT_PCT.key()))
                    : List.of(Map.entry(average, STUDENT_GAIN_KEPT_PCT.key()));
            for (var kept : averages) {
                double[] shares = sorted.stream().mapToDouble(r -> r.number(kept.getValue()))
                        .filter(Double::isFinite).toArray();
                GainKept.Interval t = GainKept.overSeeds(shares);
                if (t == null) {
                    continue;
                }
                double sd = new DescriptiveStatistics(shares)
                        .getStandardDeviation();
                int needed = seedsForHalfWidth(sd, 10);
                b.append("- ").append(kept.getKey()).append(": n = ").append(shares.length).append(", ")
                        .append(String.format(java.util.Locale.ROOT, "%.1f ± %.1f", t.mean(), sd)).append(" (mean ± sd), 95% ")
                        .append(t.text(1)).append(String.format(java.util.Locale.ROOT, " (±%.1f)", t.halfWidth()))
                        .append("; ±10 at this sd needs ").append(needed < 0 ? "more than " + MAX_SEEDS + " seeds"
                                : "n = " + needed).append('\n');
            }
        }
        return tables == 0 ? null : b.toString();
    }

    /**
     * The least n ≥ 2 with {@code t(0.975, n−1) · sd / √n ≤ halfWidth}, searched from just below the
     * normal approximation {@code (1.96 · sd / halfWidth)²}; -1 beyond {@value #MAX_SEEDS} seeds (or an
     * sd that is not a number).
     */
    static int seedsForHalfWidth(double sd, double halfWidth) {
        if (!Double.isFinite(sd)) {
            return -1;
        }
        double normal = Math.pow(1.96 * sd / halfWidth, 2);
        if (normal > MAX_SEEDS) {
            return -1;
        }
        for (int n = Math.max(2, (int) Math.floor(normal) - 1); n <= MAX_SEEDS; n++) {
            double t = new org.apache.commons.math3.distribution.TDistribution(n - 1).inverseCumulativeProbability(0.975);
            if (t * sd / Math.sqrt(n) <= halfWidth) {
                return n;
            }
        }
        return -1;
    }

    private static final int MAX_SEEDS = 10_000;

    /**
     * The finished runs a curve figure shows: those of the largest scale present (full, else small,
     * else tiny), of the largest ensemble among them (the paper's size, 10, once it has run) and of
     * the newest such run's settings but for the seed and the kind of average; ordered by average,
     * then seed, then run id.
     */
    static List<FinishedRuns.Run> curveRuns(Path experimentRuns, Map<String, String> defaults) {
        List<FinishedRuns.Run> runs = FinishedRuns.ofLargestScale(experimentRuns, defaults);
        int members = runs.stream().mapToInt(r -> Integer.parseInt(r.config().get("ensemble.members"))).max().orElse(-1);
        List<FinishedRuns.Run> largest = runs.stream()
                .filter(r -> Integer.parseInt(r.config().get("ensemble.members")) == members).toList();
        if (largest.isEmpty()) {
            return List.of();
        }
        return FinishedRuns.sameSettings(largest, largest.getLast(), java.util.Set.of("run.seed", "ensemble.average"))
                .stream()
                .sorted(java.util.Comparator.<FinishedRuns.Run, String>comparing(r -> r.config().get("ensemble.average"))
                        .thenComparing(r -> Long.parseLong(r.config().get("run.seed")))
                        .thenComparing(FinishedRuns.Run::id))
                .toList();
    }

    /**
     * One run's student curve, labelled with its seed, its kind of average and its outcome; the
     * members' validation errors are their mean over those recorded as numbers (none without a
     * hold-out, and then no curve points either).
     */
    static Plots.Curve curve(FinishedRuns.Run run) {
        List<RunRecord.MetricRow> rows = RunRecord.readMetrics(run.dir()).stream()
                .filter(r -> r.model().equals("student") && r.validationErrors() >= 0)
                .sorted(java.util.Comparator.comparingInt(RunRecord.MetricRow::epoch)).toList();
        DescriptiveStatistics members = new DescriptiveStatistics();
        for (String k : run.result().keySet()) {
            if (k.matches("member\\d+\\.validation_errors") && !Double.isNaN(run.number(k))) {
                members.addValue(run.number(k));
            }
        }
        String label = String.format(java.util.Locale.ROOT, "seed %s, %s: test errors %s, %.1f%% of the gain kept (%s)",
                run.config().get("run.seed"), run.config().get("ensemble.average"),
                run.result().get(STUDENT_TEST_ERRORS.key()), run.number(STUDENT_GAIN_KEPT_PCT.key()), run.id());
        return new Plots.Curve(label, rows.stream().mapToInt(RunRecord.MetricRow::epoch).toArray(),
                rows.stream().mapToInt(RunRecord.MetricRow::validationErrors).toArray(),
                members.getN() == 0 ? Double.NaN : members.getMean(), run.number("ensemble.validation_errors"));
    }

    private static int errors(int[] predicted, int[] labels) {
        int e = 0;
        for (int i = 0; i < labels.length; i++) {
            e += predicted[i] != labels[i] ? 1 : 0;
        }
        return e;
    }

    public static void main(String[] args) {
        Main.runExperiment(new EnsembleDistillation(), args);
    }
}
