package darkknowledge.experiments;

import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.core.Check;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
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
 * {@code ensemble.average=probabilities}) or their logits ({@code logits}). Cost here: about 35
 * minutes at full scale.
 *
 * <pre>./dk run ensemble-distillation --scale full</pre>
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

    static final ResultTables.Metric STUDENT_KL_TRANSFER = new ResultTables.Metric("student.teacher_kl_transfer",
            "student vs ensemble, T²·KL at T, transfer set", "–", 3);
    static final ResultTables.Metric STUDENT_KL_TEST = new ResultTables.Metric("student.teacher_kl_test",
            "student vs ensemble, T²·KL at T, test set", "–", 3);
    static final ResultTables.Metric STUDENT_DISAGREEMENTS_TEST = new ResultTables.Metric(
            "student.teacher_disagreements_test", "test digits where student and ensemble differ", "–", 1);

    /** How the members' outputs are combined. */
    public enum Average { PROBABILITIES, LOGITS }

    /**
     * @param members number of nets in the ensemble
     * @param average arithmetic mean of probabilities, or mean of logits
     */
    public record Ensemble(int members, Average average) {
        public Ensemble {
            Check.inRange("members", members, 2, 100);
            Check.that(average != null, "average", "must be probabilities or logits");
        }
    }

    /** The experiment's configuration; defaults are the full-scale setting. */
    public record Config(RunConfig run, DataConfig data, MlpConfig member, MlpConfig student, DistillConfig distill,
                         Ensemble ensemble) {
    }

    @Override
    public String name() {
        return "ensemble-distillation";
    }

    @Override
    public String card() {
        return "§4 analogue: ensemble of 5 seeded 800-800 nets distilled into one; paper keeps >80% of the ensemble's gain";
    }

    @Override
    public Config defaults() {
        return new Config(new RunConfig(1, Scale.FULL), Presets.MNIST_DATA, Presets.MNIST_BASELINE.withEpochs(20), Presets.MNIST_STUDENT, Presets.MNIST_DISTILL,
                new Ensemble(5, Average.PROBABILITIES));
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        return switch (scale) {
            case FULL -> Map.of();
            case SMALL -> Map.of("member.epochs", "2", "student.epochs", "3", "ensemble.members", "3");
            case TINY -> {
                Map<String, String> m = new TreeMap<>(Presets.tiny("member", "student"));
                m.put("ensemble.members", "2");
                yield m;
            }
        };
    }

    @Override
    public ResultTables.Spec table() {
        return new ResultTables.Spec(name(), "Ensemble distillation (§4 analogue on MNIST): test errors of 10,000",
                List.of(MEMBERS_MEAN_TEST_ERRORS,
                        ENSEMBLE_TEST_ERRORS,
                        STUDENT_TEST_ERRORS,
                        STUDENT_GAIN_KEPT_PCT,
                        STUDENT_KL_TRANSFER,
                        STUDENT_KL_TEST,
                        STUDENT_DISAGREEMENTS_TEST),
                List.of("run.scale", "ensemble.members"), "The paper's figures are speech frame accuracies (10 members).");
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        RunData s = RunData.load(ctx, c.data());
        SortedMap<String, String> result = new TreeMap<>();
        List<Teacher> softened = new ArrayList<>();
        List<Teacher.Logits> logits = new ArrayList<>();
        DescriptiveStatistics memberErrors = new DescriptiveStatistics();
        for (int m = 0; m < c.ensemble().members(); m++) {
            Models.Trained member = Models.trainOnLabels(ctx, "member" + m, c.member(), s);
            Models.report(result, member);
            memberErrors.addValue(member.testErrors(s));
            softened.add(Models.asTeacher(member));
            logits.add(member.model()::logits);
        }
        Teacher ensemble = c.ensemble().average() == Average.PROBABILITIES
                ? Teacher.probabilityMean("ensemble", softened)
                : Teacher.logitMean("ensemble", s.train().numClasses(), logits);
        INDArray p = ensemble.softTargets(s.testX(), 1);
        int ensembleErrors = errors(Classifier.argmaxRows(p), s.test().labels());
        if (s.hasValidation()) {
            // The level the student's validation curve is aiming at (the figure's reference line).
            result.put("ensemble.validation_errors", Integer.toString(errors(
                    Classifier.argmaxRows(ensemble.softTargets(s.validationX(), 1)), s.validation().labels())));
        }

        int[] rows = TransferSet.all().select(s.train().labels(), ctx.seeds().derive("transfer"));
        Models.Trained student = Models.distill(ctx, "student", c.student(), c.distill(), ensemble, s, rows, true);
        Models.report(result, student);
        int studentErrors = student.testErrors(s);
        // How closely it copies the ensemble where it was taught and where it was not (mnist-distillation
        // found, for one teacher, the student close on its transfer set and ten times further off it).
        Models.reportFidelity(result, "student", ensemble, student, s.trainX().getRows(rows), s,
                c.distill().temperature());

        double single = memberErrors.getMean();
        MEMBERS_MEAN_TEST_ERRORS.put(result, Models.fmt(single));
        result.put("members.sd_test_errors", Models.fmt(memberErrors.getStandardDeviation()));
        ENSEMBLE_TEST_ERRORS.put(result, Integer.toString(ensembleErrors));
        STUDENT_TEST_ERRORS.put(result, Integer.toString(studentErrors));
        STUDENT_GAIN_KEPT_PCT.put(result, single == ensembleErrors ? "NaN"
                : Models.fmt(100.0 * (single - studentErrors) / (single - ensembleErrors)));
        return result;
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
    }

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
