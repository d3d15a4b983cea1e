package darkknowledge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The classes of each specialist (§5.3), and how they were found. Subsets are ascending lists of
 * class ids; they may overlap and need not cover every class (a class in no subset is left to the
 * generalist).
 *
 * @param method     how the partition was made (statistic, source, k, restarts, seed, options)
 * @param distortion the K-means distortion of the winning restart (NaN if not from K-means)
 */
public record ClassPartition(List<List<Integer>> subsets, int numClasses, String method, double distortion) {

    public ClassPartition {
        List<List<Integer>> copy = new ArrayList<>();
        for (List<Integer> s : subsets) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty subset in partition " + subsets);
            }
            Set<Integer> seen = new HashSet<>();
            for (int c : s) {
                if (c < 0 || c >= numClasses) {
                    throw new IllegalArgumentException("class " + c + " outside 0.." + (numClasses - 1) + " in " + s);
                }
                if (!seen.add(c)) {
                    throw new IllegalArgumentException("class " + c + " twice in subset " + s);
                }
            }
            copy.add(List.copyOf(s.stream().sorted().toList()));
        }
        subsets = List.copyOf(copy);
    }

    /** Parses {@link #subsetsText()}: subsets separated by {@code |}, classes by commas. */
    public static ClassPartition parse(String subsetsText, int numClasses, String method) {
        List<List<Integer>> subsets = new ArrayList<>();
        if (!subsetsText.isBlank()) {
            for (String part : subsetsText.split("\\|")) {
                List<Integer> s = new ArrayList<>();
                for (String c : part.split(",")) {
                    try {
                        s.add(Integer.parseInt(c.trim()));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("partition: expected class ids like 0,3|1,2, got '"
                                + subsetsText + "'", e);
                    }
                }
                subsets.add(s);
            }
        }
        return new ClassPartition(subsets, numClasses, method, Double.NaN);
    }

    /** {@code 0,3,5|1,2|...} */
    public String subsetsText() {
        return String.join("|", subsets.stream()
                .map(s -> String.join(",", s.stream().map(String::valueOf).toList())).toList());
    }

    /** The classes of subset {@code m} (specialist m's S_m), in order. */
    public int[] subset(int m) {
        return subsets.get(m).stream().mapToInt(Integer::intValue).toArray();
    }

    /** Every subset as an array, in order. */
    public List<int[]> subsetArrays() {
        return java.util.stream.IntStream.range(0, subsets.size()).mapToObj(this::subset).toList();
    }

    /** {@code {a, b} {c, d, e} ...} with the classes' names. */
    public String named(List<String> classNames) {
        List<String> parts = new ArrayList<>();
        for (List<Integer> sub : subsets) {
            parts.add("{" + String.join(", ", sub.stream().map(classNames::get).toList()) + "}");
        }
        return String.join(" ", parts);
    }

    /** Cluster of each class: the first subset containing it, or −1. */
    public int[] clusterOf() {
        int[] c = new int[numClasses];
        Arrays.fill(c, -1);
        for (int m = subsets.size() - 1; m >= 0; m--) {
            for (int cl : subsets.get(m)) {
                c[cl] = m;
            }
        }
        return c;
    }

    /** Number of subsets containing class {@code c}. */
    public int coverage(int c) {
        return (int) subsets.stream().filter(s -> s.contains(c)).count();
    }

    public Map<String, String> provenance() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("clustering.method", method);
        p.put("clustering.subsets", subsetsText());
        p.put("clustering.specialists", Integer.toString(subsets.size()));
        p.put("clustering.distortion", String.format(Locale.ROOT, "%.6g", distortion));
        return p;
    }

    /** Human-readable: the method, then one line per subset. */
    public String toText() {
        StringBuilder b = new StringBuilder("# ").append(method).append('\n');
        for (int m = 0; m < subsets.size(); m++) {
            b.append("specialist ").append(m).append(": ").append(subsets.get(m)).append('\n');
        }
        return b.toString();
    }
}
