package darkknowledge.experiments;

import darkknowledge.core.engine.EngineConfig;
import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.DistillTask;
import java.nio.file.Path;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.core.Check;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.Scale;
import darkknowledge.distill.DistillConfig;
import darkknowledge.distill.TransferSet;
import darkknowledge.generalist.MlpConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * <b>Temperature sweep</b> — Hinton, Vinyals &amp; Dean 2015, §3: "with 300 or more units per hidden
 * layer, all temperatures above 8 gave fairly similar results; with only 30 units per layer,
 * temperatures between 2.5 and 4 worked significantly better than higher or lower ones".
 *
 * <p>Students of 800 and of 30 units per hidden layer are distilled from the same MNIST teacher at
 * each T of {@code sweep.temperatures}; the table and a PNG ({@code results/temperature-sweep.png})
 * show test errors against T. Cost here: about an hour at full scale with a reused teacher.
 *
 * <pre>./dk run temperature-sweep --scale full --set inputs.teacher=runs/mnist-distillation/RUN/teacher.zip</pre>
 */
public final class TemperatureSweep implements Experiment<TemperatureSweep.Config> {
    static final ResultTables.Metric TEACHER_TEST_ERRORS =
            new ResultTables.Metric("teacher.test_errors", "teacher test errors", "67", 1);


    /** @param temperatures the T values, each giving one wide and one narrow student */
    public record Sweep(List<Double> temperatures) {
        public Sweep {
            temperatures = Check.nonEmpty("temperatures", temperatures);
            temperatures.forEach(t -> Check.positive("temperatures", t));
        }
    }

    /** The experiment's configuration; defaults are the full-scale setting. */
    public record Config(RunConfig run, DataConfig data, Inputs inputs, MlpConfig teacher, MlpConfig wide,
                         MlpConfig narrow, DistillConfig distill, Sweep sweep, EngineConfig engine) {
    }

    @Override
    public String name() {
        return "temperature-sweep";
    }

    @Override
    public String card() {
        return "§3: students of 800 and 30 units over T; paper: flat above T=8 (wide), best at T=2.5-4 (30 units)";
    }

    @Override
    public Config defaults() {
        MlpConfig wide = Presets.MNIST_STUDENT.withEpochs(20);
        MlpConfig narrow = MlpConfig.plain(List.of(30, 30), 40).withLearningRate(3e-3);
        return new Config(new RunConfig(1, Scale.FULL), Presets.MNIST_DATA, Inputs.none(), Presets.MNIST_TEACHER, wide, narrow, Presets.MNIST_DISTILL,
                new Sweep(List.of(1.0, 2.0, 2.5, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0)), EngineConfig.defaults());
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        return switch (scale) {
            case FULL -> Map.of();
            case SMALL -> Map.of("teacher.epochs", "3", "wide.epochs", "2", "narrow.epochs", "3",
                    "sweep.temperatures", "1,2.5,8,20");
            case TINY -> {
                Map<String, String> m = new TreeMap<>(Presets.tiny("teacher", "wide"));
                m.put("narrow.epochs", "2");
                yield m;
            }
        };
    }

    static String key(String net, double t) {
        return net + ".T" + String.format(Locale.ROOT, "%g", t).replaceAll("\\.?0+$", "").replace('.', '_');
    }

    @Override
    public ResultTables.Spec table() {
        List<ResultTables.Metric> metrics = new ArrayList<>();
        metrics.add(TEACHER_TEST_ERRORS);
        for (double t : defaults().sweep().temperatures()) {
            metrics.add(new ResultTables.Metric(key("wide", t) + ".test_errors", "800-800 student, T = " + fmtT(t),
                    t >= 8 ? "flat above 8" : "–", 1));
        }
        for (double t : defaults().sweep().temperatures()) {
            metrics.add(new ResultTables.Metric(key("narrow", t) + ".test_errors", "30-30 student, T = " + fmtT(t),
                    t >= 2.5 && t <= 4 ? "best 2.5–4" : "–", 1));
        }
        return new ResultTables.Spec(name(), "Temperature sweep (§3): test errors of 10,000", metrics,
                List.of("run.scale"), "");
    }

    private static String fmtT(double t) {
        return String.format(Locale.ROOT, "%g", t).replaceAll("\\.?0+$", "");
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        RunData s = RunData.load(ctx, c.data());
        Models.Trained teacher = Models.teacher(ctx, c.inputs().teacher(), c.teacher(), s);
        SortedMap<String, String> result = new TreeMap<>();
        TEACHER_TEST_ERRORS.put(result, Integer.toString(teacher.testErrors(s)));
        Models.report(result, teacher);
        int[] rows = TransferSet.all().select(s.train().labels(), ctx.seeds().derive("transfer"));
        if (c.engine().kind() == EngineConfig.Kind.SPARK) {
            // Every student is independent: on a cluster they train at once, each a DistillTask whose
            // model the driver writes into this run's store, where the loop below finds it. In process
            // they train one after another, each with all the cores.
            List<DistillTask.Student> students = new ArrayList<>();
            Path teacherFile = c.inputs().teacher().isBlank() ? ctx.modelPath("teacher")
                    : Path.of(c.inputs().teacher());
            for (String net : List.of("wide", "narrow")) {
                for (double t : c.sweep().temperatures()) {
                    students.add(new DistillTask.Student(key(net, t), net.equals("wide") ? c.wide() : c.narrow(),
                            c.distill().withTemperature(t), rows, true));
                }
            }
            Models.distillAll(ctx, c.engine(), teacherFile.toAbsolutePath(), teacher, students, s, c.run().seed());
        }
        for (String net : List.of("wide", "narrow")) {
            MlpConfig cfg = net.equals("wide") ? c.wide() : c.narrow();
            for (double t : c.sweep().temperatures()) {
                String name = key(net, t);
                Models.Trained student = Models.distill(ctx, name, cfg, c.distill().withTemperature(t),
                        Models.asTeacher(teacher), s, rows, true);
                result.put(name + ".test_errors", Integer.toString(student.testErrors(s)));
                Models.report(result, student);
            }
        }
        Plots.temperatureSweep(result, c.sweep().temperatures(), ctx.record().dir().resolve("temperature-sweep.png"));
        return result;
    }

    public static void main(String[] args) {
        Main.runExperiment(new TemperatureSweep(), args);
    }
}
