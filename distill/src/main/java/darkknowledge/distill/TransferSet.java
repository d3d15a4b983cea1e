package darkknowledge.distill;

import darkknowledge.core.Check;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Which training examples the student sees, and whether with their labels (Hinton et al. 2015, §2:
 * "the transfer set"; §3: without the 3s, or only 7s and 8s; §6: a small fraction of the data).
 *
 * @param kind     {@code all}, {@code fraction}, {@code without_classes}, {@code only_classes}
 * @param fraction share of the examples kept (after the class filter), in (0, 1]
 * @param classes  the classes that {@code without_classes} drops or {@code only_classes} keeps
 * @param labeled  false: soft targets only (the hard term of the loss is dropped)
 */
public record TransferSet(Kind kind, double fraction, List<Integer> classes, boolean labeled) {

    /** How examples are chosen. */
    public enum Kind { ALL, FRACTION, WITHOUT_CLASSES, ONLY_CLASSES }

    public TransferSet {
        Check.that(kind != null, "kind", "must be one of all, fraction, without_classes, only_classes");
        Check.inRange("fraction", fraction, Double.MIN_VALUE, 1);
        classes = List.copyOf(classes);
        Check.that(kind == Kind.FRACTION || fraction == 1, "fraction", "only kind=fraction takes a fraction < 1");
        Check.that((kind == Kind.WITHOUT_CLASSES || kind == Kind.ONLY_CLASSES) == !classes.isEmpty(), "classes",
                "must be given exactly when kind is without_classes or only_classes");
    }

    public static TransferSet all() {
        return new TransferSet(Kind.ALL, 1, List.of(), true);
    }

    /** Sorted indices of the chosen examples; {@code seed} draws the fraction. */
    public int[] select(int[] labels, long seed) {
        Set<Integer> set = new HashSet<>(classes);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            boolean in = set.contains(labels[i]);
            if (kind == Kind.WITHOUT_CLASSES && in || kind == Kind.ONLY_CLASSES && !in) {
                continue;
            }
            keep.add(i);
        }
        int[] rows = keep.stream().mapToInt(Integer::intValue).toArray();
        if (kind != Kind.FRACTION) {
            return rows;
        }
        int m = Math.max(1, (int) Math.round(rows.length * fraction));
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < m; i++) {
            int j = i + rng.nextInt(rows.length - i);
            int t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        int[] chosen = java.util.Arrays.copyOf(rows, m);
        java.util.Arrays.sort(chosen);
        return chosen;
    }

    /** The classes a student trained on this set never sees (to be bias-corrected, §3). */
    public List<Integer> missingClasses(int numClasses) {
        List<Integer> missing = new ArrayList<>();
        for (int c = 0; c < numClasses; c++) {
            boolean in = classes.contains(c);
            if (kind == Kind.WITHOUT_CLASSES && in || kind == Kind.ONLY_CLASSES && !in) {
                missing.add(c);
            }
        }
        return missing;
    }
}
