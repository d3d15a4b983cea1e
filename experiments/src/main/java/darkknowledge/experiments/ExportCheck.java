package darkknowledge.experiments;

import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Settings;
import darkknowledge.data.DataStore;
import darkknowledge.data.Dataset;
import darkknowledge.export.Export;
import darkknowledge.export.OnnxRuntimeNet;
import darkknowledge.export.Outputs;
import darkknowledge.export.StockDl4jProcess;
import darkknowledge.generalist.Classifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code ./dk export --verify}: the exported files measured on the run's own test set, rebuilt from
 * its recorded config ({@link Experiment#testSet}), against the figure the run recorded. Each row is
 * one way of running the model — our {@link Classifier}, ONNX Runtime on the {@code .onnx} file, stock
 * DL4J restoring the {@code .zip} in a child JVM without our classes — with its test errors and
 * accuracy and the largest difference of its logits from ours. The check passes when every way's
 * test figure equals the run's.
 */
final class ExportCheck {
    /** Rows per ONNX Runtime call. */
    static final int BATCH = 1024;

    private ExportCheck() {
    }

    /** One way of running the model. */
    record Row(String way, int errors, int examples, double maxLogitDifference) {
        String accuracy() {
            return String.format(Locale.ROOT, "%.2f", 100.0 * (examples - errors) / examples);
        }
    }

    /** The outcome: the rows, the run's figure, and whether every row equals it. */
    record Outcome(List<Row> rows, String recorded, boolean passed) {
        String table() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-34s %8s %9s %12s %s%n", "way", "errors",
                    "accuracy", "max |dz|", "= run's figure"));
            for (Row r : rows) {
                b.append(String.format(Locale.ROOT, "%-34s %8d %8s%% %12.3g %s%n", r.way(), r.errors(), r.accuracy(),
                        r.maxLogitDifference(), matches(r, recorded) ? "yes" : "NO"));
            }
            return b.append("run's figure: ").append(recorded).toString();
        }
    }

    /**
     * Checks {@code files} (format → exported file) of {@code model} from {@code source} on its run's
     * test set.
     */
    static Outcome verify(Export.Source source, Classifier model, Map<Export.Format, Path> files, DataStore store) {
        if (source.runDir() == null) {
            throw new IllegalArgumentException("--verify needs the run that trained " + source.file()
                    + " (its run record was not found): export it from its run directory");
        }
        Dataset test = testSet(source.runDir(), store);
        String recorded = source.recordedErrors() != null ? source.recordedErrors() + " test errors"
                : source.recordedAccuracy() != null ? source.recordedAccuracy() + "% test accuracy" : null;
        if (recorded == null) {
            throw new IllegalArgumentException("run " + source.runDir() + " recorded no test figure for model "
                    + source.name() + " (" + source.name() + ".test_errors or .test_accuracy in "
                    + RunRecord.RESULT + ")");
        }
        int n = test.numExamples();
        int[] labels = test.labels();
        INDArray z = model.logits(test.featuresMatrix());
        float[] ours = z.dup('c').data().asFloat();
        Outputs own = new Outputs(n, model.numClasses(), ours, ours);
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("our Classifier", own.errors(labels), n, 0));
        Path onnx = files.get(Export.Format.ONNX);
        if (onnx != null) {
            Outputs o = onnxRuntime(onnx, test.features(), n, test.numFeatures());
            rows.add(new Row("ONNX Runtime, " + onnx.getFileName(), o.errors(labels), n,
                    Outputs.maxAbsDifference(ours, o.logits())));
        }
        Path zip = files.get(Export.Format.DL4J);
        if (zip != null) {
            Outputs d = StockDl4jProcess.run(zip, test.features(), n);
            rows.add(new Row("stock DL4J (child JVM), " + zip.getFileName(), d.errors(labels), n,
                    Outputs.maxAbsDifference(ours, d.logits())));
        }
        String figure = recorded;
        boolean passed = rows.stream().allMatch(r -> matches(r, figure));
        return new Outcome(rows, recorded, passed);
    }

    private static boolean matches(Row r, String recorded) {
        return recorded.endsWith(" test errors") ? recorded.equals(r.errors() + " test errors")
                : recorded.equals(r.accuracy() + "% test accuracy");
    }

    /** Logits of {@code n} rows through ONNX Runtime, {@value #BATCH} rows per call. */
    static Outputs onnxRuntime(Path onnx, float[] x, int n, int columns) {
        try (OnnxRuntimeNet ort = new OnnxRuntimeNet(onnx, 0)) {
            float[] logits = null;
            int classes = 0;
            for (int start = 0; start < n; start += BATCH) {
                int rows = Math.min(BATCH, n - start);
                float[] part = java.util.Arrays.copyOfRange(x, start * columns, (start + rows) * columns);
                Outputs o = ort.run(part, rows);
                if (logits == null) {
                    classes = o.classes();
                    logits = new float[n * classes];
                }
                System.arraycopy(o.logits(), 0, logits, start * classes, rows * classes);
            }
            return new Outputs(n, classes, logits, logits);
        }
    }

    /** The test set of the run in {@code runDir}, rebuilt by its experiment from its recorded config. */
    static Dataset testSet(Path runDir, DataStore store) {
        SortedMap<String, String> provenance = RunRecord.readProperties(runDir.resolve(RunRecord.PROVENANCE));
        String name = provenance.getOrDefault("experiment", runDir.getParent().getFileName().toString());
        Experiment<?> experiment = Experiments.byName(name).orElseThrow(() -> new IllegalArgumentException(
                "run " + runDir + " names experiment '" + name + "', which is not one of "
                        + Experiments.all().stream().map(Experiment::name).toList()));
        return testSet(experiment, runDir, store, provenance);
    }

    private static <C extends Record> Dataset testSet(Experiment<C> experiment, Path runDir, DataStore store,
                                                      SortedMap<String, String> provenance) {
        Path configFile = runDir.resolve(RunRecord.CONFIG);
        Settings s = Settings.empty().overlay(RunRecord.readProperties(configFile), configFile.toString());
        C config = Configs.read(s, "", experiment.defaults());
        Provenance recorded = Provenance.empty().putAll("", provenance);
        Nd4j.getRandom();  // ND4J's backend up before the data's matrices are made
        return experiment.testSet(config, store, recorded, runDir);
    }
}
