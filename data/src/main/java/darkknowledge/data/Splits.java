package darkknowledge.data;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Seeded permutations, samples and train/validation splits. */
public final class Splits {
    private Splits() {
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
        return new Split(full.subset(train), full.subset(validation), seed, sha256(train));
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

    static String sha256(int[] indices) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(4 * indices.length);
            b.asIntBuffer().put(indices);
            md.update(b.array());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
