package darkknowledge.core;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * Turns run records into {@code results/<experiment>.csv} (one tidy row per finished run) and
 * {@code results/<experiment>.md} (mean ± sd over runs of each group, beside the paper's figure).
 * Figures are never typed: they come from {@code result.properties} of real runs.
 */
public final class ResultTables {
    private ResultTables() {
    }

    /** A figure of the table: its key in result.properties, its label, and the paper's value. */
    /**
     * One figure of an experiment, declared once: its result key, its row label, the paper's value
     * and the decimals shown. The experiment's table lists it and its run writes it through
     * {@link #put}, so the key is typed in one place.
     */
    public record Metric(String key, String label, String paper, int decimals) {
        /** Writes {@code value} under this metric's key into a run's result. */
        public void put(java.util.Map<String, String> result, Object value) {
            result.put(key, String.valueOf(value));
        }
    }

    /**
     * What one experiment's table shows; {@code groupBy} are config keys (e.g. {@code run.scale});
     * {@code columnRows} follow the metrics, each computed from a column's runs together.
     */
    public record Spec(String experiment, String title, List<Metric> metrics, List<String> groupBy, String notes,
                       List<ColumnRow> columnRows) {
        public Spec {
            columnRows = List.copyOf(columnRows);
        }

        public Spec(String experiment, String title, List<Metric> metrics, List<String> groupBy, String notes) {
            this(experiment, title, metrics, groupBy, notes, List.of());
        }
    }

    /** A finished run as a column row sees it: its directory, config and result. */
    public record ColumnRun(Path dir, SortedMap<String, String> config, SortedMap<String, String> result) {
    }

    /**
     * A row whose cell is computed from a column's runs together (an interval over seeds), not
     * averaged from a figure of each run.
     */
    public interface ColumnRow {
        String label();

        String paper();

        /** The cell for one column's runs (one per seed); "–" when there is nothing to show. */
        String value(List<ColumnRun> runs);
    }

    /** The files written and the markdown table. */
    public record Generated(Path csv, Path markdownFile, String markdown, int runs) {
    }

    private record Run(String id, Path dir, SortedMap<String, String> config, SortedMap<String, String> provenance,
                       SortedMap<String, String> result) {
    }

    /** Regenerates both files for {@code spec} from every finished run under {@code runsRoot}. */
    public static Generated generate(Path runsRoot, Path resultsDir, Spec spec, String command) {
        return generate(runsRoot, resultsDir, spec, command, java.util.Map.of());
    }

    /**
     * {@link #generate(Path, Path, Spec, String)} with the experiment's config defaults, which fill the
     * keys an older run lacks ({@link RunRecord#readConfig}).
     */
    public static Generated generate(Path runsRoot, Path resultsDir, Spec spec, String command,
                                     java.util.Map<String, String> defaults) {
        return generate(runsRoot, resultsDir, spec, command, recorded -> defaults);
    }

    /** {@link #generate(Path, Path, Spec, String, java.util.Map)} with per-run values of missing keys. */
    public static Generated generate(Path runsRoot, Path resultsDir, Spec spec, String command,
                                     RunRecord.MissingKeys defaults) {
        List<Run> runs = finishedRuns(runsRoot.resolve(spec.experiment()), defaults);
        Path csv = resultsDir.resolve(spec.experiment() + ".csv");
        Path md = resultsDir.resolve(spec.experiment() + ".md");
        writeCsv(csv, spec, runs, command);
        String table = markdown(spec, runs, command);
        AtomicFiles.writeString(md, table);
        return new Generated(csv, md, table, runs.size());
    }

    /**
     * The documents whose generated blocks {@code ./dk tables} refreshes: the repository's
     * {@code README.md} and every {@code docs/*.md}, in that order (the docs pages sorted by name);
     * files that do not exist are left out.
     */
    public static List<Path> documents(Path repo) {
        List<Path> docs = new ArrayList<>();
        if (Files.isRegularFile(repo.resolve("README.md"))) {
            docs.add(repo.resolve("README.md"));
        }
        Path dir = repo.resolve("docs");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().endsWith(".md") && Files.isRegularFile(f))
                        .sorted(Comparator.comparing(f -> f.getFileName().toString()))
                        .forEach(docs::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
        }
        return docs;
    }

    /**
     * Replaces the {@code NAME} block ({@link #updateBlock}) in each of {@code documents} that has its
     * markers; returns the documents that have them.
     */
    public static List<Path> updateBlocks(List<Path> documents, String name, String markdown) {
        return documents.stream().filter(d -> updateBlock(d, name, markdown)).toList();
    }

    /**
     * Replaces the block between {@code <!-- table:NAME -->} and {@code <!-- /table:NAME -->} in
     * {@code document} with {@code markdown}, atomically (a reader sees the old file or the new one);
     * a document without the markers is left as it is. Returns whether it has them.
     */
    public static boolean updateBlock(Path document, String name, String markdown) {
        try {
            if (!Files.exists(document)) {
                return false;
            }
            String text = Files.readString(document);
            String open = "<!-- table:" + name + " -->";
            String close = "<!-- /table:" + name + " -->";
            int a = text.indexOf(open);
            int b = text.indexOf(close);
            if (a < 0 || b < a) {
                return false;
            }
            String updated = text.substring(0, a + open.length()) + "\n" + markdown.strip() + "\n" + text.substring(b);
            if (!updated.equals(text)) {
                AtomicFiles.writeString(document, updated);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + document, e);
        }
    }

    private static List<Run> finishedRuns(Path experimentDir, RunRecord.MissingKeys defaults) {
        if (!Files.isDirectory(experimentDir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(experimentDir)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve(RunRecord.RESULT)))
                    .sorted(Comparator.comparing(d -> d.getFileName().toString()))
                    .map(d -> new Run(d.getFileName().toString(), d,
                            RunRecord.readConfig(d, defaults),
                            Files.exists(d.resolve(RunRecord.PROVENANCE))
                                    ? RunRecord.readProperties(d.resolve(RunRecord.PROVENANCE)) : new java.util.TreeMap<>(),
                            RunRecord.readProperties(d.resolve(RunRecord.RESULT))))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + experimentDir, e);
        }
    }

    private static void writeCsv(Path csv, Spec spec, List<Run> runs, String command) {
        List<String> header = new ArrayList<>(List.of("run"));
        header.addAll(spec.groupBy());
        header.addAll(List.of("run.seed", "git.commit", "git.dirty"));
        spec.metrics().forEach(m -> header.add(m.key()));
        AtomicFiles.write(csv, out -> {
            var w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("# generated by `" + command + "` from runs/" + spec.experiment() + "/*; do not edit\n");
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(header.toArray(String[]::new)).build())) {
                for (Run r : runs) {
                    List<String> row = new ArrayList<>(List.of(r.id()));
                    spec.groupBy().forEach(k -> row.add(r.config().getOrDefault(k, "")));
                    row.add(r.config().getOrDefault("run.seed", ""));
                    row.add(r.provenance().getOrDefault("git.commit", ""));
                    row.add(r.provenance().getOrDefault("git.dirty", ""));
                    spec.metrics().forEach(m -> row.add(r.result().getOrDefault(m.key(), "")));
                    p.printRecord(row);
                }
                p.flush();
            }
        });
    }

    private static String markdown(Spec spec, List<Run> runs, String command) {
        Map<String, List<Run>> groups = columns(spec, runs);
        StringBuilder sb = new StringBuilder();
        sb.append("<!-- generated by `").append(command).append("` from runs/").append(spec.experiment())
                .append("/*; do not edit -->\n");
        sb.append("**").append(spec.title()).append("**\n\n");
        sb.append("| | paper |");
        groups.forEach((g, rs) -> sb.append(" ours: ").append(g).append(" (n=").append(rs.size()).append(") |"));
        sb.append("\n|---|---|");
        groups.keySet().forEach(g -> sb.append("---|"));
        sb.append('\n');
        for (Metric m : spec.metrics()) {
            sb.append("| ").append(m.label()).append(" | ").append(m.paper()).append(" |");
            for (List<Run> rs : groups.values()) {
                sb.append(' ').append(summary(m, rs)).append(" |");
            }
            sb.append('\n');
        }
        for (ColumnRow row : spec.columnRows()) {
            sb.append("| ").append(row.label()).append(" | ").append(row.paper()).append(" |");
            for (List<Run> rs : groups.values()) {
                sb.append(' ').append(row.value(rs.stream().map(r -> new ColumnRun(r.dir(), r.config(), r.result()))
                        .toList())).append(" |");
            }
            sb.append('\n');
        }
        if (groups.isEmpty()) {
            sb.append("\n_No finished runs yet: `./dk run ").append(spec.experiment()).append("`._\n");
        }
        String legend = legend(groups);
        if (!legend.isEmpty()) {
            sb.append('\n').append(legend);
        }
        if (spec.notes() != null && !spec.notes().isBlank()) {
            sb.append('\n').append(spec.notes().strip()).append('\n');
        }
        sb.append("\nRuns: ");
        sb.append(String.join(", ", runs.stream().map(r -> "`" + r.id() + "` ("
                + abbreviate(r.provenance().getOrDefault("git.commit", "?"))
                + ("true".equals(r.provenance().get("git.dirty")) ? "+dirty" : "") + ")").toList()));
        sb.append('\n');
        return sb.toString();
    }

    /**
     * The table's columns: runs grouped by {@code spec.groupBy()} and, within a group, by config
     * (everything but {@code run.seed}), so that only repeats of one config are averaged, one run per
     * seed (the newest). A group with several configs gets one column per config, newest first, labelled ‹a›, ‹b›, ... (see
     * {@link #legend}).
     */
    private static Map<String, List<Run>> columns(Spec spec, List<Run> runs) {
        Map<String, Map<String, Map<String, Run>>> byGroup = new java.util.TreeMap<>(Comparator.comparing(ResultTables::groupOrder));
        for (Run r : runs) {
            // runs come oldest first: a later run of the same seed replaces an earlier one (a rerun is
            // not a repeat)
            byGroup.computeIfAbsent(groupName(spec, r), g -> new LinkedHashMap<>())
                    .computeIfAbsent(variant(r), v -> new LinkedHashMap<>()).put(r.config().getOrDefault("run.seed", ""), r);
        }
        Map<String, List<Run>> columns = new LinkedHashMap<>();
        byGroup.forEach((g, variants) -> {
            List<List<Run>> newestFirst = new ArrayList<>(variants.values().stream()
                    .map(bySeed -> (List<Run>) new ArrayList<>(bySeed.values())).toList());
            newestFirst.sort(Comparator.comparing((List<Run> rs) -> rs.stream().map(Run::id).max(Comparator.naturalOrder())
                    .orElse("")).reversed());
            for (int i = 0; i < newestFirst.size(); i++) {
                columns.put(newestFirst.size() == 1 ? g : g + " ‹" + (char) ('a' + i) + "›", newestFirst.get(i));
            }
        });
        return columns;
    }

    /** A run's config without its seed: runs that differ only in the seed are repeats. */
    private static String variant(Run r) {
        var c = new java.util.TreeMap<>(r.config());
        c.remove("run.seed");
        return c.toString();
    }

    /** For each column labelled ‹x›, the config keys on which its group's columns differ. */
    private static String legend(Map<String, List<Run>> columns) {
        Map<String, List<String>> labelsByGroup = new LinkedHashMap<>();
        columns.keySet().stream().filter(l -> l.endsWith("›"))
                .forEach(l -> labelsByGroup.computeIfAbsent(l.substring(0, l.lastIndexOf(" ‹")), g -> new ArrayList<>()).add(l));
        StringBuilder sb = new StringBuilder();
        labelsByGroup.forEach((g, labels) -> {
            java.util.SortedSet<String> keys = new java.util.TreeSet<>();
            labels.forEach(l -> keys.addAll(columns.get(l).getFirst().config().keySet()));
            keys.remove("run.seed");
            keys.removeIf(k -> labels.stream().map(l -> columns.get(l).getFirst().config().getOrDefault(k, ""))
                    .distinct().count() == 1);
            for (String l : labels) {
                var c = columns.get(l).getFirst().config();
                sb.append("- ").append(l.substring(l.lastIndexOf('‹'))).append(' ').append(g).append(": ")
                        .append(String.join(", ", keys.stream().filter(k -> !suppliedAsInput(c, k))
                                .map(k -> "`" + k + "=" + shorten(c.getOrDefault(k, "")) + "`").toList())).append('\n');
            }
        });
        return sb.toString();
    }

    /**
     * True for a key of a section that the run did not train but loaded: {@code teacher.epochs} when
     * {@code inputs.teacher} names a saved teacher (its settings are then whatever the defaults were).
     */
    private static boolean suppliedAsInput(java.util.Map<String, String> config, String key) {
        int dot = key.indexOf('.');
        return dot > 0 && !key.startsWith("inputs.")
                && !config.getOrDefault("inputs." + key.substring(0, dot), "").isEmpty();
    }

    /** A config value as the legend shows it: a path by its last two elements. */
    private static String shorten(String v) {
        if (v.isEmpty()) {
            return "(none)";
        }
        String[] parts = v.split("/");
        return parts.length > 3 ? "…/" + parts[parts.length - 2] + "/" + parts[parts.length - 1] : v;
    }

    private static String abbreviate(String commit) {
        return commit.length() > 8 ? commit.substring(0, 8) : commit;
    }

    private static String groupName(Spec spec, Run r) {
        List<String> parts = new ArrayList<>();
        for (String k : spec.groupBy()) {
            String shortKey = k.substring(k.lastIndexOf('.') + 1);
            String v = r.config().getOrDefault(k, "?");
            parts.add(shortKey.equals("scale") ? v : shortKey + "=" + v);
        }
        return String.join(", ", parts);
    }

    private static String groupOrder(String g) {
        return (g.startsWith("full") ? "0" : g.startsWith("small") ? "1" : g.startsWith("tiny") ? "2" : "3") + g;
    }

    private static String summary(Metric m, List<Run> runs) {
        DescriptiveStatistics s = new DescriptiveStatistics();
        for (Run r : runs) {
            String v = r.result().get(m.key());
            if (v != null && !v.isBlank()) {
                try {
                    s.addValue(Double.parseDouble(v));
                } catch (NumberFormatException e) {
                    return v;
                }
            }
        }
        if (s.getN() == 0) {
            return "–";
        }
        String fmt = "%." + m.decimals() + "f";
        String mean = String.format(Locale.ROOT, fmt, s.getMean());
        return s.getN() == 1 ? mean : mean + " ± " + String.format(Locale.ROOT, fmt, s.getStandardDeviation());
    }
}
