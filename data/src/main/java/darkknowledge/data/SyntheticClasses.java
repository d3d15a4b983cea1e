package darkknowledge.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded many-class problem whose confusable groups are known: the setting of §5 (JFT), where a
 * generalist confuses classes within groups and specialists separate them.
 *
 * <p>Generative model: each group g has a centre {@code c_g ~ N(0, I_d)}; each class k in group g has
 * a prototype {@code μ_k = √s·c_g + √(1−s)·u_k} with {@code u_k ~ N(0, I_d)}, so prototypes of one
 * group have correlation {@code s} (the within-group similarity) and prototypes of different groups
 * are independent. An example of class k is {@code x = μ_k + σ·ε}, {@code ε ~ N(0, I_d)}. Classes are
 * assigned to groups round-robin and then their ids are shuffled, so a group is not a contiguous
 * range of labels. Train and test share the prototypes and differ in the noise.
 */
public final class SyntheticClasses {
    private SyntheticClasses() {
    }

    /**
     * @param similarity within-group similarity s in [0, 1)
     * @param noise      σ, the per-feature noise standard deviation
     */
    public record Spec(int numClasses, int numGroups, int dimension, double similarity, double noise,
                       int trainPerClass, int testPerClass, long seed) {
        public Spec {
            if (numClasses < 2 || numGroups < 1 || numGroups > numClasses) {
                throw new IllegalArgumentException("synthetic: need 2+ classes and 1..classes groups; got "
                        + numClasses + " classes, " + numGroups + " groups");
            }
            if (dimension < 1 || trainPerClass < 1 || testPerClass < 0) {
                throw new IllegalArgumentException("synthetic: dimension and train_per_class must be positive");
            }
            if (!(similarity >= 0 && similarity < 1) || !(noise >= 0)) {
                throw new IllegalArgumentException("synthetic: similarity in [0, 1) and noise >= 0 expected; got "
                        + similarity + ", " + noise);
            }
        }
    }

    /** The generated sets and the planted truth: {@code groupOfClass[k]} is class k's group. */
    public record Generated(Dataset train, Dataset test, int[] groupOfClass) {
        /** The classes of each group, each list ascending. */
        public List<List<Integer>> groups() {
            int g = 0;
            for (int x : groupOfClass) {
                g = Math.max(g, x + 1);
            }
            List<List<Integer>> out = new ArrayList<>();
            for (int i = 0; i < g; i++) {
                out.add(new ArrayList<>());
            }
            for (int k = 0; k < groupOfClass.length; k++) {
                out.get(groupOfClass[k]).add(k);
            }
            return out;
        }
    }

    public static Generated generate(Spec spec) {
        SplittableRandom r = new SplittableRandom(spec.seed());
        int k = spec.numClasses();
        int d = spec.dimension();
        int[] ids = Sampling.permutation(k, r.nextLong());
        int[] groupOfClass = new int[k];
        for (int i = 0; i < k; i++) {
            groupOfClass[ids[i]] = i % spec.numGroups();
        }
        double[][] centres = new double[spec.numGroups()][];
        for (int g = 0; g < centres.length; g++) {
            centres[g] = gaussian(r, d);
        }
        double a = Math.sqrt(spec.similarity());
        double b = Math.sqrt(1 - spec.similarity());
        double[][] prototypes = new double[k][];
        for (int c = 0; c < k; c++) {
            double[] u = gaussian(r, d);
            double[] centre = centres[groupOfClass[c]];
            for (int j = 0; j < d; j++) {
                u[j] = a * centre[j] + b * u[j];
            }
            prototypes[c] = u;
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            names.add("c" + c);
        }
        Dataset train = sample("synthetic", prototypes, spec.trainPerClass(), spec.noise(),
                new SplittableRandom(r.nextLong()), names);
        Dataset test = sample("synthetic", prototypes, spec.testPerClass(), spec.noise(),
                new SplittableRandom(r.nextLong()), names);
        return new Generated(train, test, groupOfClass);
    }

    private static Dataset sample(String name, double[][] prototypes, int perClass, double noise, SplittableRandom r,
                                  List<String> names) {
        int k = prototypes.length;
        int d = prototypes[0].length;
        int n = k * perClass;
        int[] order = Sampling.permutation(n, r.nextLong());
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int c = order[i] % k;
            y[i] = c;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (prototypes[c][j] + noise * r.nextGaussian());
            }
        }
        return new Dataset(name, x, y, n, d, k, 0, 0, names);
    }

    private static double[] gaussian(SplittableRandom r, int d) {
        double[] v = new double[d];
        for (int j = 0; j < d; j++) {
            v[j] = r.nextGaussian();
        }
        return v;
    }
}
