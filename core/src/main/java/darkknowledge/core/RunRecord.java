package darkknowledge.core;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * One run's directory, {@code runs/<experiment>/<yyyyMMdd-HHmmss>-<confighash>/}, holding
 * {@code config.properties} (written first, before any training), {@code provenance.properties},
 * {@code metrics.csv} (a row per epoch per model), {@code result.properties} (the final figures)
 * and the saved models. Every file is written atomically.
 */
public final class RunRecord {
    public static final String CONFIG = "config.properties";
    public static final String PROVENANCE = "provenance.properties";
    public static final String METRICS = "metrics.csv";
    public static final String RESULT = "result.properties";

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private final Path dir;
    private final List<MetricRow> metrics = new ArrayList<>();

    /** One epoch of one model. Time is wall-clock seconds of the epoch's training only. */
    public record MetricRow(String model, int epoch, double loss, int validationErrors, int validationExamples,
                            double learningRate, double seconds, double examplesPerSecond) {
        static final String[] HEADER = {"model", "epoch", "loss", "validation_errors", "validation_examples",
            "validation_error_rate", "learning_rate", "seconds", "examples_per_second"};

        /** Without a validation split the validation columns are left empty: nothing was measured. */
        List<Object> values() {
            boolean none = validationExamples == 0;
            return List.of(model, epoch, loss, none ? "" : validationErrors, validationExamples,
                    none ? "" : (double) validationErrors / validationExamples, learningRate, seconds,
                    examplesPerSecond);
        }
    }

    private RunRecord(Path dir) {
        this.dir = dir;
    }

    /** Creates the run directory and writes the resolved config into it; the run id is stamped with the system clock. */
    public static RunRecord create(Path runsRoot, String experiment, SortedMap<String, String> resolvedConfig) {
        return create(runsRoot, experiment, resolvedConfig, Clock.systemDefaultZone());
    }

    /**
     * As {@link #create(Path, String, SortedMap)}, the run id ({@code <yyyyMMdd-HHmmss>-<confighash>},
     * one-second resolution, in {@code clock}'s zone) stamped with {@code clock}'s time; a second run
     * of the same config in the same second gets the suffix {@code -2}, {@code -3}, ...
     */
    public static RunRecord create(Path runsRoot, String experiment, SortedMap<String, String> resolvedConfig,
                                   Clock clock) {
        String id = LocalDateTime.now(clock).format(STAMP) + "-" + Configs.hash(resolvedConfig);
        Path dir = runsRoot.resolve(experiment).resolve(id);
        for (int i = 2; Files.exists(dir); i++) {
            dir = runsRoot.resolve(experiment).resolve(id + "-" + i);
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run directory " + dir, e);
        }
        RunRecord r = new RunRecord(dir);
        AtomicFiles.writeString(dir.resolve(CONFIG), Configs.toText(resolvedConfig));
        return r;
    }

    /**
     * Opens an existing run directory to continue it ({@code ./dk run --resume}); the epochs already
     * in its {@code metrics.csv} are kept.
     */
    public static RunRecord open(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new ConfigException("--resume: " + dir + " is not a run directory (no " + CONFIG + ")");
        }
        RunRecord r = new RunRecord(dir);
        try {
            r.metrics.addAll(readMetrics(dir));
            Path file = dir.resolve(METRICS);
            if (Files.isRegularFile(file) && Files.size(file) > 0 && !Files.readString(file).endsWith("\n")) {
                r.rewriteMetrics();  // a row cut short by a kill: gone before anything is appended after it
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + dir.resolve(METRICS) + " to resume the run: " + e.getMessage(), e);
        }
        return r;
    }

    /**
     * The rows of the {@code metrics.csv} in run directory {@code dir} (empty if it has none yet); an
     * error naming the file and the row when one does not parse.
     */
    public static List<MetricRow> readMetrics(Path dir) {
        Path metrics = dir.resolve(METRICS);
        List<MetricRow> rows = new ArrayList<>();
        if (!Files.isRegularFile(metrics)) {
            return rows;
        }
        String text;
        try {
            text = Files.readString(metrics, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + metrics, e);
        }
        // New rows are appended (metric): a run killed mid-append leaves its last row without its line
        // end. That row is dropped; the epoch it recorded is restored from its checkpoint on resume.
        int end = text.lastIndexOf('\n');
        text = end < 0 ? "" : text.substring(0, end + 1);
        try (Reader in = new java.io.StringReader(text)) {
            for (var rec : CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(in)) {
                try {
                    rows.add(new MetricRow(rec.get("model"), Integer.parseInt(rec.get("epoch")),
                            Double.parseDouble(rec.get("loss")), rec.get("validation_errors").isEmpty() ? -1
                                    : Integer.parseInt(rec.get("validation_errors")),
                            Integer.parseInt(rec.get("validation_examples")), Double.parseDouble(rec.get("learning_rate")),
                            Double.parseDouble(rec.get("seconds")), Double.parseDouble(rec.get("examples_per_second"))));
                } catch (RuntimeException e) {
                    throw new IllegalStateException(metrics + " line " + rec.getRecordNumber() + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + metrics, e);
        }
        return rows;
    }

    public Path dir() {
        return dir;
    }

    public String id() {
        return dir.getFileName().toString();
    }

    public void writeProvenance(Provenance provenance) {
        AtomicFiles.writeString(dir.resolve(PROVENANCE), Configs.toText(provenance.entries()));
    }

    /**
     * Records a restored epoch's row unless the record already has a row for that model and epoch
     * (restoring is idempotent): a resumed stage replays the history of every model it reuses, and
     * rewriting {@code metrics.csv} per replayed row is quadratic (823 specialists × 20 epochs took
     * minutes of rewriting a 1.7 MB file after a full glyph run's specialists stage).
     */
    public synchronized void metricIfAbsent(MetricRow row) {
        for (MetricRow m : metrics) {
            if (m.model().equals(row.model()) && m.epoch() == row.epoch()) {
                return;
            }
        }
        metric(row);
    }

    /**
     * Records a row in {@code metrics.csv}: a new epoch's row is appended (one line; rewriting the
     * whole file per epoch was quadratic, 14 GB written over the 16,460 epochs of a full glyph run's
     * specialists); a row that replaces an earlier one for the same model and epoch (an epoch redone
     * after a resume) rewrites the file atomically. A row cut short by a kill is dropped when read.
     */
    public synchronized void metric(MetricRow row) {
        boolean replaces = metrics.removeIf(m -> m.model().equals(row.model()) && m.epoch() == row.epoch());
        metrics.add(row);
        Path file = dir.resolve(METRICS);
        if (!replaces && Files.isRegularFile(file)) {
            StringBuilder line = new StringBuilder();
            try (CSVPrinter csv = new CSVPrinter(line, CSVFormat.DEFAULT)) {
                csv.printRecord(row.values());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot format a row of " + file, e);
            }
            try {
                Files.writeString(file, line, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to " + file, e);
            }
            return;
        }
        rewriteMetrics();
    }

    /** Rewrites {@code metrics.csv} from the rows held, atomically (never half-written). */
    private void rewriteMetrics() {
        List<MetricRow> snapshot = List.copyOf(metrics);
        AtomicFiles.write(dir.resolve(METRICS), out -> {
            var w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            try (CSVPrinter csv = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(MetricRow.HEADER).build())) {
                for (MetricRow m : snapshot) {
                    csv.printRecord(m.values());
                }
                csv.flush();
            }
        });
    }

    public void writeResult(SortedMap<String, String> result) {
        AtomicFiles.writeString(dir.resolve(RESULT), Configs.toText(result));
    }

    /**
     * The config of the run in {@code dir}, with every key of {@code defaults} that it lacks set to its
     * default: a key added after the run was made takes the value that, by our convention for new keys,
     * keeps the behaviour from before it existed. Tables and claims compare runs on these, so a repeat
     * made after a new key arrived still counts as a repeat of the earlier runs.
     */
    public static SortedMap<String, String> readConfig(Path dir, java.util.Map<String, String> defaults) {
        return readConfig(dir, recorded -> defaults);
    }

    /**
     * {@link #readConfig(Path, java.util.Map)} where what a missing key stands for depends on what the run
     * recorded: {@code missing} maps the recorded config to the values of the keys it lacks (a key whose
     * useful default is not the old behaviour, e.g. a test set that older runs did not have, gives those
     * runs the old value, and only for the runs it concerns).
     */
    public static SortedMap<String, String> readConfig(Path dir, MissingKeys missing) {
        SortedMap<String, String> config = readProperties(dir.resolve(CONFIG));
        missing.of(java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(config))).forEach(config::putIfAbsent);
        return config;
    }

    /** The values of the keys a run's recorded config lacks, given the config it recorded. */
    @FunctionalInterface
    public interface MissingKeys {
        java.util.Map<String, String> of(SortedMap<String, String> recorded);
    }

    /** Reads a properties file of a run; a missing file is an error naming it. */
    public static SortedMap<String, String> readProperties(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        SortedMap<String, String> m = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }
}
