package darkknowledge.data;

import darkknowledge.core.Sha256;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded permutations, samples and train/validation splits. */
public final class Sampling {
    private Sampling() {
    }

    /**
     * Holds out {@code validationSize} examples chosen by a seeded permutation; both parts keep the
     * full set's order (e.g. MNIST 55 000 / 5 000).
     */
    public static Split trainValidation(Dataset full, int validationSize, long seed) {
        if (validationSize < 0 || validationSize >= full.numExamples()) {
            throw new IllegalArgumentException("data.validationSize: expected 0.." + (full.numExamples() - 1)
                    + " for " + full + ", got " + validationSize);
        }
        int[] perm = permutation(full.numExamples(), seed);
        int[] validation = Arrays.copyOfRange(perm, 0, validationSize);
        int[] train = Arrays.copyOfRange(perm, validationSize, perm.length);
        Arrays.sort(validation);
        Arrays.sort(train);
        return new Split(full.subset(train), full.subset(validation), seed, Sha256.begin().update(train).hex(), train);
    }

    /**
     * Two disjoint halves of 0..n-1 of equal size {@code n / 2} (one index left out when n is odd),
     * drawn by a seeded permutation, each sorted: {@code [first, second]}.
     */
    public static int[][] halves(int n, long seed) {
        if (n < 2) {
            throw new IllegalArgumentException("halves: need at least 2 examples, got " + n);
        }
        int[] perm = permutation(n, seed);
        int h = n / 2;
        int[] first = Arrays.copyOfRange(perm, 0, h);
        int[] second = Arrays.copyOfRange(perm, h, 2 * h);
        Arrays.sort(first);
        Arrays.sort(second);
        return new int[][] {first, second};
    }

    /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** A sorted random sample of {@code round(fraction·n)} of 0..n-1. */
    public static int[] sampleFraction(int n, double fraction, long seed) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("fraction: expected (0, 1], got " + fraction);
        }
        int k = Math.max(1, (int) Math.round(fraction * n));
        int[] s = Arrays.copyOf(permutation(n, seed), k);
        Arrays.sort(s);
        return s;
    }
}
