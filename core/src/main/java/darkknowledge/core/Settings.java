package darkknowledge.core;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The flat configuration key space ({@code distill.temperature=20}), built from layers in order of
 * precedence: defaults &lt; scale preset &lt; {@code --config file} &lt; {@code --set key=value}.
 * Each value remembers the layer it came from, so an error can say where a bad value was written.
 * Readers mark the keys they consume; {@link #requireAllKnown} then rejects misspelt keys.
 */
public final class Settings {
    private final SortedMap<String, String> values;
    private final Map<String, String> origins;
    private final Set<String> consumed = ConcurrentHashMap.newKeySet();

    private Settings(SortedMap<String, String> values, Map<String, String> origins) {
        this.values = values;
        this.origins = origins;
    }

    public static Settings empty() {
        return new Settings(new TreeMap<>(), Map.of());
    }

    /** A new settings object with {@code layer} on top; {@code origin} describes the layer. */
    public Settings overlay(Map<String, String> layer, String origin) {
        SortedMap<String, String> v = new TreeMap<>(values);
        Map<String, String> o = new LinkedHashMap<>(origins);
        layer.forEach((k, val) -> {
            String key = k.trim();
            if (key.isEmpty()) {
                throw new ConfigException("empty config key in " + origin);
            }
            v.put(key, val.trim());
            o.put(key, origin);
        });
        return new Settings(v, o);
    }

    /** Reads a {@code .properties} file; a missing or unreadable file is an error naming it. */
    public static Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file not found: " + file);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> m = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }

    /** Parses {@code key=value} as given to {@code --set}. */
    public static Map.Entry<String, String> parseAssignment(String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("expected key=value, got '" + assignment + "'");
        }
        return Map.entry(assignment.substring(0, eq).trim(), assignment.substring(eq + 1).trim());
    }

    /** The raw value of {@code key}, marking it consumed. */
    public Optional<String> get(String key) {
        consumed.add(key);
        return Optional.ofNullable(values.get(key));
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    /** Where the value of {@code key} came from (e.g. {@code "--set"}), or "default". */
    public String origin(String key) {
        return origins.getOrDefault(key, "default");
    }

    public SortedMap<String, String> asMap() {
        return Collections.unmodifiableSortedMap(values);
    }

    /**
     * Fails naming every key that no reader consumed and that is not in {@code known}, with the
     * closest known key as a suggestion.
     */
    public void requireAllKnown(Collection<String> known) {
        StringBuilder errors = new StringBuilder();
        for (String key : values.keySet()) {
            if (!consumed.contains(key) && !known.contains(key)) {
                errors.append(errors.isEmpty() ? "" : "; ").append("unknown config key '").append(key)
                        .append("' (from ").append(origin(key)).append(')');
                closest(key, known).ifPresent(s -> errors.append(", did you mean '").append(s).append("'?"));
            }
        }
        if (!errors.isEmpty()) {
            throw new ConfigException(errors.toString());
        }
    }

    private static Optional<String> closest(String key, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = editDistance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return bestDistance <= Math.max(2, key.length() / 4) ? Optional.ofNullable(best) : Optional.empty();
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
