package darkknowledge.experiments;

import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;

/**
 * The finished runs of one experiment that its figures draw on, those spanning runs
 * ({@link Experiment#figures}) and those copied from the newest run ({@code ./dk tables}): the runs
 * of the largest scale present (full, else small, else tiny), as their run records hold them.
 */
final class FinishedRuns {
    private FinishedRuns() {
    }

    /**
     * One finished run: its directory, its config (keys added since it ran set to their defaults) and
     * its results.
     */
    record Run(Path dir, SortedMap<String, String> config, SortedMap<String, String> result) {
        String id() {
            return dir.getFileName().toString();
        }

        /** Result {@code key} as a number; {@code NaN} when absent or not a number ("none (no hold-out)"). */
        double number(String key) {
            String v = result.get(key);
            try {
                return v == null ? Double.NaN : Double.parseDouble(v);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
    }

    /**
     * The runs whose config equals {@code reference}'s on every key but those {@code varied} (and
     * {@code engine.*}, which trains the same models): a figure that varies the seed does not also
     * mix in another dataset or temperature.
     */
    static List<Run> sameSettings(List<Run> runs, Run reference, java.util.Set<String> varied) {
        Map<String, String> want = settings(reference, varied);
        return runs.stream().filter(r -> settings(r, varied).equals(want)).toList();
    }

    /** {@code run}'s config without the keys {@code varied} and {@code engine.*}: what {@link #sameSettings} compares. */
    static Map<String, String> settings(Run run, java.util.Set<String> varied) {
        Map<String, String> m = new java.util.TreeMap<>(run.config());
        m.keySet().removeIf(k -> varied.contains(k) || k.startsWith("engine."));
        return m;
    }

    /**
     * The runs under {@code experimentRuns} that finished (have a {@code result.properties}) at the
     * largest scale any of them has, oldest first; empty if there are none.
     */
    static List<Run> ofLargestScale(Path experimentRuns, Map<String, String> defaults) {
        List<Run> finished = all(experimentRuns, defaults);
        for (Scale scale : List.of(Scale.FULL, Scale.SMALL, Scale.TINY)) {
            String name = scale.name().toLowerCase(Locale.ROOT);
            List<Run> atScale = finished.stream().filter(r -> name.equals(r.config().get("run.scale"))).toList();
            if (!atScale.isEmpty()) {
                return atScale;
            }
        }
        return List.of();
    }

    /** Every run under {@code experimentRuns} that finished, oldest first; empty if there are none. */
    static List<Run> all(Path experimentRuns, Map<String, String> defaults) {
        return all(experimentRuns, recorded -> defaults);
    }

    /** {@link #all(Path, Map)} with per-run values of missing keys ({@link Experiments#missingKeys}). */
    static List<Run> all(Path experimentRuns, RunRecord.MissingKeys defaults) {
        if (!Files.isDirectory(experimentRuns)) {
            return List.of();
        }
        List<Run> finished;
        try (var dirs = Files.list(experimentRuns)) {
            finished = dirs.filter(d -> Files.isRegularFile(d.resolve(RunRecord.RESULT)))
                    .map(d -> new Run(d, RunRecord.readConfig(d, defaults),
                            RunRecord.readProperties(d.resolve(RunRecord.RESULT))))
                    .sorted(Comparator.comparing(Run::id)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + experimentRuns, e);
        }
        return finished;
    }
}
