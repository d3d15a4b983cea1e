package darkknowledge.clustering;

import java.util.HashMap;
import java.util.Map;

/**
 * Adjusted Rand index of two labelings (Hubert &amp; Arabie 1985): 1 for identical partitions (up to
 * renaming), about 0 for independent ones.
 * <pre>  ARI = (Σ_ij C(n_ij,2) − E) / (½(Σ_i C(a_i,2) + Σ_j C(b_j,2)) − E),  E = Σ_i C(a_i,2)·Σ_j C(b_j,2) / C(n,2)</pre>
 * Items labelled −1 (e.g. classes without a specialist) form one group of their own.
 */
public final class AdjustedRandIndex {
    private AdjustedRandIndex() {
    }

    public static double of(int[] a, int[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("labelings of " + a.length + " and " + b.length + " items");
        }
        int n = a.length;
        Map<Long, Integer> joint = new HashMap<>();
        Map<Integer, Integer> ca = new HashMap<>();
        Map<Integer, Integer> cb = new HashMap<>();
        for (int i = 0; i < n; i++) {
            joint.merge(((long) a[i] << 32) ^ (b[i] & 0xffffffffL), 1, Integer::sum);
            ca.merge(a[i], 1, Integer::sum);
            cb.merge(b[i], 1, Integer::sum);
        }
        double index = joint.values().stream().mapToDouble(AdjustedRandIndex::pairs).sum();
        double sa = ca.values().stream().mapToDouble(AdjustedRandIndex::pairs).sum();
        double sb = cb.values().stream().mapToDouble(AdjustedRandIndex::pairs).sum();
        double expected = sa * sb / pairs(n);
        double max = 0.5 * (sa + sb);
        return max == expected ? 1.0 : (index - expected) / (max - expected);
    }

    private static double pairs(int m) {
        return m * (m - 1) / 2.0;
    }
}
