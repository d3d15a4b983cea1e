package darkknowledge.export;

import darkknowledge.core.RunRecord;
import darkknowledge.generalist.Classifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Export of a trained model: which model a run directory or file names ({@link #resolve}), the
 * provenance that travels with it, and the files ({@link #write}). {@code ./dk export} is a shell over
 * this class.
 *
 * <p>A run directory's models are its {@code *.zip} files ({@code runs/<experiment>/<id>/<model>.zip})
 * and, for the pipeline, those of the stage entries its provenance names ({@code stage.<stage>}, in
 * {@code runs/pipeline/stages/<stage>/<hash>/}). Without {@code --model} the run's student is taken:
 * {@value #DEFAULT_MODELS_TEXT}, the first that exists.
 *
 * <p>The provenance of an export ({@link #provenance}): the model's name and parameter hash, the
 * run's id, experiment, config hash and git commit, the dataset checksums and split it was trained
 * and tested on ({@code data.*} hashes, {@code split.*}), its test figure as the run recorded it
 * ({@code test.accuracy} in %, and {@code test.errors}/{@code test.examples} where recorded), and the
 * input the model expects. In ONNX it is the model's {@code metadata_props}; in the stock DL4J zip
 * the {@value StockDl4j#PROVENANCE_ENTRY} entry.
 */
public final class Export {
    static final String DEFAULT_MODELS_TEXT = "student (mnist experiments), student_ensemble (pipeline)";
    /** The models a run is exported by without {@code --model}, first found wins. */
    public static final List<String> DEFAULT_MODELS = List.of("student", "student_ensemble");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private Export() {
    }

    /** The two file formats. */
    public enum Format {
        /** A MultiLayerNetwork of DL4J's stock layers, saved by ModelSerializer. */
        DL4J(".zip"),
        /** A standard ONNX graph. */
        ONNX(".onnx");

        private final String extension;

        Format(String extension) {
            this.extension = extension;
        }

        public String extension() {
            return extension;
        }

        /** {@code dl4j} or {@code onnx} (any case); anything else is an error naming it and what is allowed. */
        public static Format parse(String text) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(text.strip())) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown export format '" + text + "'; expected dl4j or onnx");
        }
    }

    /**
     * A model to export.
     *
     * @param file   the saved model
     * @param name   its name in the run ({@code student}, {@code student_ensemble}, ...)
     * @param runDir the run that trained it, or null when none is found
     */
    public record Source(Path file, String name, Path runDir) {
        /** The run's recorded provenance, or empty without a run. */
        public SortedMap<String, String> runProvenance() {
            return read(RunRecord.PROVENANCE);
        }

        /** The run's recorded results, or empty without a run. */
        public SortedMap<String, String> runResult() {
            return read(RunRecord.RESULT);
        }

        private SortedMap<String, String> read(String file) {
            return runDir == null || !Files.isRegularFile(runDir.resolve(file)) ? new TreeMap<>()
                    : RunRecord.readProperties(runDir.resolve(file));
        }

        /**
         * The run's test figure of this model: the number of test examples it got right out of how
         * many, from {@code <model>.test_errors} and {@code test_examples}, or null when the run
         * recorded neither that nor {@code <model>.test_accuracy} (then {@link #recordedAccuracy}).
         */
        public Integer recordedErrors() {
            String e = runResult().get(name + ".test_errors");
            return e == null ? null : Integer.valueOf(e.strip());
        }

        /** {@code <model>.test_accuracy} (%) as recorded, or computed from the errors; null if neither. */
        public String recordedAccuracy() {
            SortedMap<String, String> r = runResult();
            String acc = r.get(name + ".test_accuracy");
            if (acc != null) {
                return acc.strip();
            }
            Integer errors = recordedErrors();
            String n = r.get("test_examples");
            return errors == null || n == null ? null
                    : String.format(Locale.ROOT, "%.2f", 100.0 * (Integer.parseInt(n.strip()) - errors) / Integer.parseInt(n.strip()));
        }

        /** Where {@code format} goes by default: {@code export/<model><extension>} beside the model. */
        public Path defaultOut(Format format) {
            return file.toAbsolutePath().getParent().resolve("export").resolve(name + format.extension());
        }
    }

    /**
     * The model {@code path} names: a run directory (with {@code model}, or the run's student when
     * {@code model} is null) or a saved model file. Errors name what is missing and what was found.
     */
    public static Source resolve(Path path, String model) {
        Path p = path.toAbsolutePath().normalize();
        if (Files.isRegularFile(p)) {
            if (!p.getFileName().toString().endsWith(".zip")) {
                throw new IllegalArgumentException(path + " is not a saved model (.zip) or a run directory");
            }
            String name = p.getFileName().toString().replaceFirst("\\.zip$", "");
            if (model != null && !model.equals(name)) {
                throw new IllegalArgumentException("--model " + model + " with a model file " + path
                        + " (model " + name + "); give the run directory to choose a model");
            }
            return new Source(p, name, runOf(p));
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("no such run directory or model file: " + path);
        }
        if (!Files.isRegularFile(p.resolve(RunRecord.PROVENANCE))) {
            throw new IllegalArgumentException(path + " is not a run directory (no " + RunRecord.PROVENANCE + ")");
        }
        Map<String, Path> models = models(p);
        if (models.isEmpty()) {
            throw new IllegalArgumentException("run " + path + " has no saved model (no *.zip in it or in the stage "
                    + "entries its provenance names); run records are committed without their models: rerun it, or "
                    + "resume it while its models are on disk");
        }
        String name = model;
        if (name == null) {
            name = DEFAULT_MODELS.stream().filter(models::containsKey).findFirst().orElseThrow(() ->
                    new IllegalArgumentException("run " + path + " has no student (" + DEFAULT_MODELS_TEXT
                            + "); choose one with --model: " + models.keySet()));
        }
        Path file = models.get(name);
        if (file == null) {
            throw new IllegalArgumentException("run " + path + " has no saved model '" + name + "'; its models: "
                    + models.keySet());
        }
        return new Source(file, name, p);
    }

    /** The saved models of a run: its own {@code *.zip} files and those of the stage entries it used. */
    static SortedMap<String, Path> models(Path runDir) {
        SortedMap<String, Path> models = new TreeMap<>();
        List<Path> dirs = new ArrayList<>(List.of(runDir));
        RunRecord.readProperties(runDir.resolve(RunRecord.PROVENANCE)).forEach((k, v) -> {
            if (k.startsWith("stage.")) {
                Path recorded = Path.of(v);
                // the run may have been copied: the entry's stage/hash under this run's stages/ directory
                Path here = runDir.getParent().resolve("stages").resolve(recorded.getParent().getFileName())
                        .resolve(recorded.getFileName());
                dirs.add(Files.isDirectory(here) ? here : recorded);
            }
        });
        for (Path d : dirs) {
            if (Files.isDirectory(d)) {
                try (Stream<Path> files = Files.list(d)) {
                    files.filter(f -> f.getFileName().toString().endsWith(".zip"))
                            .forEach(f -> models.put(f.getFileName().toString().replaceFirst("\\.zip$", ""), f));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot list " + d, e);
                }
            }
        }
        return models;
    }

    /**
     * The run that saved {@code modelFile}: its directory when it holds a run record, else (a pipeline
     * stage entry, {@code runs/pipeline/stages/<stage>/<hash>/}) the newest run under {@code runs/pipeline/}
     * whose provenance names that entry; null when there is none.
     */
    static Path runOf(Path modelFile) {
        Path dir = modelFile.getParent();
        if (Files.isRegularFile(dir.resolve(RunRecord.PROVENANCE))) {
            return dir;
        }
        Path stages = dir.getParent() == null ? null : dir.getParent().getParent();
        if (stages == null || !stages.getFileName().toString().equals("stages") || stages.getParent() == null) {
            return null;
        }
        String entry = dir.getParent().getFileName() + "/" + dir.getFileName();
        try (Stream<Path> runs = Files.list(stages.getParent())) {
            return runs.filter(r -> Files.isRegularFile(r.resolve(RunRecord.PROVENANCE))).sorted()
                    .filter(r -> RunRecord.readProperties(r.resolve(RunRecord.PROVENANCE)).entrySet().stream()
                            .anyMatch(e -> e.getKey().startsWith("stage.") && e.getValue().endsWith(entry)))
                    .reduce((a, b) -> b).orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + stages.getParent(), e);
        }
    }

    /** What travels with an export of {@code model} from {@code source} (see the type's doc). */
    public static SortedMap<String, String> provenance(Source source, Classifier model, NetLayout layout) {
        SortedMap<String, String> p = new TreeMap<>();
        p.put("model", source.name());
        p.put("model.sha256", model.fingerprint());
        p.put("exported_by", "Dark Knowledge ./dk export");
        NetLayout.Conv conv = layout.firstConv();
        p.put("input", "float[N, " + layout.numInputs() + "]: a row per example, "
                + (conv == null ? "the run's features in its data order"
                : conv.height() + "x" + conv.width() + "x" + conv.channels() + " pixels in (y, x, channel) order")
                + ", values as the run's data (pixels scaled to [0, 1])");
        p.put("classes", Integer.toString(layout.numClasses()));
        SortedMap<String, String> run = source.runProvenance();
        for (String key : List.of("experiment", "run.id", "config.hash", "git.commit", "git.dirty", "dataset.source")) {
            if (run.containsKey(key)) {
                p.put(key, run.get(key));
            }
        }
        run.forEach((k, v) -> {
            if (k.startsWith("split.") || k.startsWith("data.") && SHA256.matcher(v.strip()).matches()) {
                p.put(k, v);
            }
        });
        String expected = run.get("model." + source.name() + ".sha256");
        if (expected != null && !expected.equals(p.get("model.sha256"))) {
            throw new IllegalArgumentException(source.file() + ": its parameters' SHA-256 is " + p.get("model.sha256")
                    + ", the run " + source.runDir() + " recorded " + expected + " for model " + source.name());
        }
        String accuracy = source.recordedAccuracy();
        if (accuracy != null) {
            p.put("test.accuracy", accuracy);
        }
        Integer errors = source.recordedErrors();
        if (errors != null) {
            p.put("test.errors", errors.toString());
        }
        String n = source.runResult().get("test_examples");
        if (n != null) {
            p.put("test.examples", n);
        }
        return p;
    }

    /**
     * Writes {@code model} (loaded from {@code source}) in {@code format} to {@code out} with its
     * provenance; returns the file. An ONNX graph gets no temperature input.
     */
    public static Path write(Source source, Classifier model, Format format, Path out) {
        return write(source, model, format, out, false);
    }

    /**
     * As {@link #write(Source, Classifier, Format, Path)}; {@code temperatureInput} gives an ONNX graph a
     * required {@code temperature} input (probabilities {@code softmax(logits / T)}).
     */
    public static Path write(Source source, Classifier model, Format format, Path out, boolean temperatureInput) {
        if (temperatureInput && format != Format.ONNX) {
            throw new IllegalArgumentException("a temperature input is an ONNX graph's; the " + format.name()
                    .toLowerCase(Locale.ROOT) + " format has none");
        }
        NetLayout layout = NetLayout.of(model);
        SortedMap<String, String> provenance = provenance(source, model, layout);
        provenance.put("format", format.name().toLowerCase(Locale.ROOT));
        switch (format) {
            case DL4J -> StockDl4j.write(layout, provenance, out);
            case ONNX -> OnnxGraph.write(layout, provenance, temperatureInput, out);
        }
        return out;
    }

    /** {@code key=value} lines as {@link java.util.Properties} reads them, sorted (core's {@code Configs.toText}). */
    static String propertiesText(Map<String, String> values) {
        return darkknowledge.core.Configs.toText(new TreeMap<>(values));
    }
}
