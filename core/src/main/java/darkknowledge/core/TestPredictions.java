package darkknowledge.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an ensemble-distillation run predicted on each test example, written beside its result as
 * {@value #FILE}: the true label, how many of the ensemble's members got the example wrong, and the
 * class each named model (an ensemble, a student) predicted. It lets the share of the ensemble's gain
 * be taken apart by test example, paired across the members, the ensemble and the student: the test
 * set's sampling variance of the share, and its bootstrap ({@link GainKept}).
 *
 * @param labels       true class of each test example
 * @param membersWrong number of members wrong on each example
 * @param members      number of members
 * @param predicted    predicted classes of each named model, one per example, in the order added
 */
public record TestPredictions(int[] labels, int[] membersWrong, int members, Map<String, int[]> predicted) {
    /** The file name in a run directory. */
    public static final String FILE = "test-predictions.csv";

    public TestPredictions {
        Check.that(labels.length == membersWrong.length, "membersWrong",
                "must have one count per test example (" + labels.length + "), got " + membersWrong.length);
        Check.positive("members", members);
        for (int w : membersWrong) {
            Check.that(w >= 0 && w <= members, "membersWrong", "counts must lie in 0.." + members + ", got " + w);
        }
        predicted.forEach((name, p) -> Check.that(p.length == labels.length, name,
                "must have one prediction per test example (" + labels.length + "), got " + p.length));
        predicted = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(predicted));
    }

    /** Only the members, no model's predictions yet. */
    public TestPredictions(int[] labels, int[] membersWrong, int members) {
        this(labels, membersWrong, members, Map.of());
    }

    /** A copy with model {@code name}'s predictions added. */
    public TestPredictions with(String name, int[] predictions) {
        Check.that(!predicted.containsKey(name) && !name.isBlank() && !name.contains(","), "name",
                "must be new, non-blank and without commas, got '" + name + "'");
        Map<String, int[]> m = new LinkedHashMap<>(predicted);
        m.put(name, predictions.clone());
        return new TestPredictions(labels, membersWrong, members, m);
    }

    /** The mean member's errors on the test set: {@code Σ_i wrong_i / M}. */
    public double meanMemberErrors() {
        long sum = 0;
        for (int w : membersWrong) {
            sum += w;
        }
        return (double) sum / members;
    }

    /** Whether model {@code name} got each example wrong. */
    public boolean[] wrong(String name) {
        int[] p = predicted.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no predictions of '" + name + "'; recorded: " + predicted.keySet());
        }
        boolean[] w = new boolean[p.length];
        for (int i = 0; i < p.length; i++) {
            w[i] = p[i] != labels[i];
        }
        return w;
    }

    /** Writes the CSV atomically: a header {@code label,members_wrong_of_M,<names>}, then a row per example. */
    public void write(Path file) {
        StringBuilder b = new StringBuilder(labels.length * (8 + 3 * predicted.size()));
        b.append("label,members_wrong_of_").append(members);
        predicted.keySet().forEach(n -> b.append(',').append(n));
        b.append('\n');
        for (int i = 0; i < labels.length; i++) {
            b.append(labels[i]).append(',').append(membersWrong[i]);
            for (int[] p : predicted.values()) {
                b.append(',').append(p[i]);
            }
            b.append('\n');
        }
        AtomicFiles.writeString(file, b.toString());
    }

    /** Reads what {@link #write} wrote; an error names the file and the line. */
    public static TestPredictions read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (lines.isEmpty() || !lines.getFirst().startsWith("label,members_wrong_of_")) {
            throw new IllegalArgumentException(file + ": expected a header 'label,members_wrong_of_M,...'");
        }
        String[] header = lines.getFirst().split(",");
        int members = integer(file, 1, header[1].substring("members_wrong_of_".length()), "the member count M");
        int n = lines.size() - 1;
        int[] labels = new int[n];
        int[] wrong = new int[n];
        List<int[]> models = new ArrayList<>();
        for (int k = 2; k < header.length; k++) {
            models.add(new int[n]);
        }
        for (int i = 0; i < n; i++) {
            String[] f = lines.get(i + 1).split(",");
            if (f.length != header.length) {
                throw new IllegalArgumentException(file + " line " + (i + 2) + ": expected " + header.length
                        + " fields, got " + f.length);
            }
            labels[i] = integer(file, i + 2, f[0], header[0]);
            wrong[i] = integer(file, i + 2, f[1], header[1]);
            for (int k = 2; k < f.length; k++) {
                models.get(k - 2)[i] = integer(file, i + 2, f[k], header[k]);
            }
        }
        Map<String, int[]> predicted = new LinkedHashMap<>();
        for (int k = 2; k < header.length; k++) {
            predicted.put(header[k], models.get(k - 2));
        }
        try {
            return new TestPredictions(labels, wrong, members, predicted);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** {@code text} as an integer, or an error naming the file, the line and the column it came from. */
    private static int integer(Path file, int line, String text, String column) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + " line " + line + ": " + column + " must be an integer, got '"
                    + text + "'", e);
        }
    }
}
