package darkknowledge.clustering;

import darkknowledge.core.ClassPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import smile.clustering.CentroidClustering;
import smile.clustering.KMeans;
import smile.math.MathEx;

/**
 * §5.3: "we apply a clustering algorithm, online K-means, to the columns of the covariance matrix"
 * of the generalist's predictions, so that classes that are often predicted together share a
 * specialist. Each class is a point, its row {@code Σ_c·} of the covariance (or correlation) matrix;
 * K-means (Smile, k-means++ seeding) runs {@code restarts} times from seeds derived from
 * {@code cfg.seed()} and the lowest distortion wins. Classes below {@code minConfusion} are left out
 * first. Then: clusters over {@code maxSubsetSize} are split by recursive K-means bisection (never
 * into runs of consecutive class indices), clusters under {@code minSubsetSize} are dropped or merged, and with {@code overlap > 0}
 * each subset also takes its members' most-confused outside neighbours (largest off-diagonal entry).
 */
public final class ClassClustering {
    private ClassClustering() {
    }

    /** Covariance (or correlation, per {@code cfg}) of the columns of {@code predictions}, then {@link #cluster}. */
    public static ClassPartition fromPredictions(double[][] predictions, ClusteringConfig cfg) {
        return cluster(statistic(predictions, cfg), cfg);
    }

    /** The matrix {@link #fromPredictions} clusters. */
    public static double[][] statistic(double[][] predictions, ClusteringConfig cfg) {
        if (predictions.length < 2) {
            throw new IllegalArgumentException("need at least 2 prediction rows, got " + predictions.length);
        }
        ClassCovariance cov = new ClassCovariance(predictions[0].length).add(predictions);
        return cfg.statistic() == ClusteringConfig.Statistic.CORRELATION ? cov.correlation() : cov.covariance();
    }

    public static ClassPartition cluster(double[][] statistic, ClusteringConfig cfg) {
        int c = statistic.length;
        for (double[] row : statistic) {
            if (row.length != c) {
                throw new IllegalArgumentException("expected a square matrix, got " + c + " rows of " + row.length);
            }
        }
        double[][] matrix = points(statistic, cfg.diagonal());
        int[] confused = confused(statistic, cfg.minConfusion());
        double[][] rows = confused.length == c ? matrix : restrict(matrix, confused);
        return partition(rows, confused, c, matrix, cfg, "rows of the class "
                + cfg.statistic().name().toLowerCase(Locale.ROOT) + " matrix");
    }

    /**
     * The classes the generalist confuses: those whose strongest off-diagonal entry
     * {@code max_{b≠a} M_ab} reaches {@code share} times the largest off-diagonal entry of {@code m}
     * (all classes when {@code share} is 0). §5.3 wants subsets of classes "often predicted
     * together"; a class never predicted with another has nothing for a specialist to separate.
     */
    static int[] confused(double[][] m, double share) {
        int c = m.length;
        if (share <= 0 || c < 2) {
            return IntStream.range(0, c).toArray();
        }
        double[] strongest = new double[c];
        double max = Double.NEGATIVE_INFINITY;
        for (int a = 0; a < c; a++) {
            strongest[a] = Double.NEGATIVE_INFINITY;
            for (int b = 0; b < c; b++) {
                if (b != a) {
                    strongest[a] = Math.max(strongest[a], m[a][b]);
                }
            }
            max = Math.max(max, strongest[a]);
        }
        double top = max;
        double floor = share * top;
        return IntStream.range(0, c).filter(a -> top > 0 && strongest[a] >= floor).toArray();
    }

    /** The rows of {@code m} for {@code classes}, restricted to the columns of {@code classes}. */
    static double[][] restrict(double[][] m, int[] classes) {
        double[][] out = new double[classes.length][classes.length];
        for (int i = 0; i < classes.length; i++) {
            for (int j = 0; j < classes.length; j++) {
                out[i][j] = m[classes[i]][classes[j]];
            }
        }
        return out;
    }

    /**
     * §5.3 at JFT's scale: K-means on the rows of a {@link SketchedCovariance} (each class's
     * covariance row projected to d dimensions). Covariance only, and disjoint subsets: correlation
     * and overlap need whole rows of Σ; asking for them is an error naming the setting.
     */
    public static ClassPartition clusterSketch(SketchedCovariance sketch, ClusteringConfig cfg) {
        if (cfg.statistic() != ClusteringConfig.Statistic.COVARIANCE) {
            throw new IllegalArgumentException("clustering.statistic: a sketch clusters covariance rows, got "
                    + cfg.statistic().name().toLowerCase(Locale.ROOT));
        }
        if (cfg.overlap() != 0) {
            throw new IllegalArgumentException("clustering.overlap: a sketch makes disjoint subsets (overlap needs whole "
                    + "rows), got " + cfg.overlap());
        }
        if (cfg.minConfusion() != 0) {
            throw new IllegalArgumentException("clustering.minConfusion: a sketch has no whole rows to find the "
                    + "unconfused classes in, got " + cfg.minConfusion());
        }
        double[][] points = sketch.embedding(cfg.diagonal());
        return partition(points, IntStream.range(0, points.length).toArray(), points.length, null, cfg,
                sketch.describe());
    }

    /**
     * K-means on {@code matrix} (row i = class {@code classes[i]} of {@code numClasses}), then the
     * recursive bisection of oversized clusters, small-cluster handling and, when {@code similarity}
     * (the square class matrix over all classes, as clustered) is given, overlap.
     */
    private static ClassPartition partition(double[][] matrix, int[] classes, int numClasses, double[][] similarity,
                                            ClusteringConfig cfg, String pointsDescription) {
        int c = matrix.length;
        int k = Math.min(cfg.k(), c);
        SplittableRandom seeds = new SplittableRandom(cfg.seed());
        int[] labels;
        double distortion;
        if (c == 0) {
            labels = new int[0];
            distortion = Double.NaN;
        } else if (k == c) {
            labels = IntStream.range(0, c).toArray();
            distortion = 0;
        } else if (k == 1) {
            labels = new int[c];
            distortion = Double.NaN;
        } else {
            CentroidClustering<double[], double[]> best = bestOf(matrix, k, cfg, seeds);
            labels = best.group();
            distortion = best.distortion();
        }
        List<List<Integer>> clusters = new ArrayList<>();
        for (List<Integer> g : groups(labels)) {
            List<Integer> cl = new ArrayList<>();
            for (int r : g) {
                cl.add(r);
            }
            bisect(matrix, similarity != null, cl, cfg, seeds, clusters);
        }
        clusters = handleSmall(matrix, clusters, cfg);
        List<List<Integer>> mapped = new ArrayList<>();
        for (List<Integer> cl : clusters) {
            mapped.add(new ArrayList<>(cl.stream().map(r -> classes[r]).sorted().toList()));
        }
        clusters = mapped;
        if (similarity != null) {
            clusters = addOverlap(similarity, clusters, cfg);
        }
        clusters.sort(Comparator.comparing((List<Integer> l) -> l.get(0)));
        String method = String.format(Locale.ROOT,
                "k-means (Smile, k-means++) on %s of %s; k=%d restarts=%d maxIterations=%d "
                        + "seed=%d overlap=%d maxSubsetSize=%d minSubsetSize=%d small=%s diagonal=%s "
                        + "minConfusion=%s confused=%d split=recursive-bisection",
                pointsDescription, cfg.source().name().toLowerCase(Locale.ROOT), k,
                cfg.restarts(), cfg.maxIterations(), cfg.seed(), cfg.overlap(), cfg.maxSubsetSize(),
                cfg.minSubsetSize(), cfg.small().name().toLowerCase(Locale.ROOT),
                cfg.diagonal().name().toLowerCase(Locale.ROOT), cfg.minConfusion(), c);
        return new ClassPartition(clusters, numClasses, method, distortion);
    }

    /** {@code restarts} K-means runs on {@code points} from seeds drawn off {@code seeds}; the lowest distortion. */
    private static CentroidClustering<double[], double[]> bestOf(double[][] points, int k, ClusteringConfig cfg,
                                                                SplittableRandom seeds) {
        CentroidClustering<double[], double[]> best = null;
        for (int r = 0; r < cfg.restarts(); r++) {
            MathEx.setSeed(seeds.nextLong());
            CentroidClustering<double[], double[]> fit = kMeans(points, k, cfg.maxIterations());
            if (best == null || fit.distortion() < best.distortion()) {
                best = fit;
            }
        }
        return best;
    }

    /**
     * Bounded subsets without arbitrary chunking: a cluster of at most {@code maxSubsetSize} rows is
     * kept; a larger one is split in two by K-means (k = 2, best of {@code restarts}) on its members'
     * rows restricted to its members' columns (who is confused with whom <em>inside</em> the
     * cluster; a sketch's rows as they are), and each half is treated the same way. Members K-means cannot tell apart (identical
     * restricted rows, so one half comes back empty) are split around the two members farthest apart;
     * a cluster whose members are all identical carries no information on who is confused with whom
     * and is dropped (its classes get no specialist).
     */
    static void bisect(double[][] m, boolean square, List<Integer> cl, ClusteringConfig cfg, SplittableRandom seeds,
                       List<List<Integer>> out) {
        if (cl.size() <= cfg.maxSubsetSize()) {
            out.add(cl);
            return;
        }
        int[] members = cl.stream().mapToInt(Integer::intValue).toArray();
        double[][] points = square ? restrict(m, members)
                : IntStream.of(members).mapToObj(i -> m[i]).toArray(double[][]::new);
        int[] g = bestOf(points, 2, cfg, seeds).group();
        List<Integer> left = new ArrayList<>();
        List<Integer> right = new ArrayList<>();
        for (int i = 0; i < members.length; i++) {
            (g[i] == g[0] ? left : right).add(members[i]);
        }
        if (right.isEmpty()) {
            left.clear();
            int[] far = farthestPair(points);
            if (far == null) {
                return;
            }
            for (int i = 0; i < members.length; i++) {
                boolean nearA = distance2(points[i], points[far[0]]) <= distance2(points[i], points[far[1]]);
                (nearA ? left : right).add(members[i]);
            }
        }
        bisect(m, square, left, cfg, seeds, out);
        bisect(m, square, right, cfg, seeds, out);
    }

    /** The two rows farthest apart, or null if every row is the same. */
    private static int[] farthestPair(double[][] points) {
        int[] best = null;
        double bestD = 0;
        for (int i = 0; i < points.length; i++) {
            for (int j = i + 1; j < points.length; j++) {
                double d = distance2(points[i], points[j]);
                if (d > bestD) {
                    bestD = d;
                    best = new int[] {i, j};
                }
            }
        }
        return best;
    }

    /** Relative stopping tolerance of K-means: an iteration must cut the distortion by this share of the total scatter. */
    static final double RELATIVE_TOLERANCE = 1e-6;

    /**
     * Smile's K-means with a stopping tolerance relative to the data's scale. Smile stops when an
     * iteration lowers the distortion by less than an <em>absolute</em> {@code tol} (1e-4 by
     * default); covariance entries of probabilities are ~1e-3, so distortions are ~1e-6 and the
     * default stopped every run after its first Lloyd iteration. Here {@code tol} is
     * {@link #RELATIVE_TOLERANCE} × Σ_a ||x_a − x̄||².
     */
    static CentroidClustering<double[], double[]> kMeans(double[][] points, int k, int maxIterations) {
        int dims = points[0].length;
        double[] mean = new double[dims];
        for (double[] p : points) {
            for (int j = 0; j < dims; j++) {
                mean[j] += p[j] / points.length;
            }
        }
        double scatter = 0;
        for (double[] p : points) {
            for (int j = 0; j < dims; j++) {
                scatter += (p[j] - mean[j]) * (p[j] - mean[j]);
            }
        }
        double tol = scatter > 0 ? RELATIVE_TOLERANCE * scatter : Double.MIN_VALUE;
        // Lloyd's iterations, not Smile's default BBD-tree filtering (KMeans.fit): the tree accelerates
        // Lloyd in a few dimensions (Kanungo et al. 2002), but our points have one dimension per class
        // (500 to 3,755) and many nearly equal rows, where building it degenerates: at 3,755 classes with
        // a generalist that confuses most of them, one bisection's tree took minutes (jstack: hundreds of
        // nested BBDTree.buildNode frames). Same k-means++ start and objective.
        return KMeans.lloyd(points, new smile.clustering.Clustering.Options(k, maxIterations, tol, null));
    }

    /** The rows K-means sees: the matrix, with each diagonal entry replaced per {@code diagonal}. */
    static double[][] points(double[][] m, ClusteringConfig.Diagonal diagonal) {
        if (diagonal == ClusteringConfig.Diagonal.KEEP) {
            return m;
        }
        double[][] p = new double[m.length][];
        for (int a = 0; a < m.length; a++) {
            p[a] = m[a].clone();
            double max = Double.NEGATIVE_INFINITY;
            for (int b = 0; b < m.length; b++) {
                if (b != a) {
                    max = Math.max(max, m[a][b]);
                }
            }
            p[a][a] = m.length == 1 ? m[a][a] : max;
        }
        return p;
    }

    private static List<List<Integer>> groups(int[] labels) {
        List<List<Integer>> out = new ArrayList<>();
        int max = java.util.Arrays.stream(labels).max().orElse(-1);
        for (int g = 0; g <= max; g++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == g) {
                    members.add(i);
                }
            }
            if (!members.isEmpty()) {
                out.add(members);
            }
        }
        return out;
    }

    private static List<List<Integer>> handleSmall(double[][] m, List<List<Integer>> clusters, ClusteringConfig cfg) {
        List<List<Integer>> large = new ArrayList<>();
        List<Integer> orphans = new ArrayList<>();
        for (List<Integer> cl : clusters) {
            if (cl.size() >= cfg.minSubsetSize()) {
                large.add(new ArrayList<>(cl));
            } else {
                orphans.addAll(cl);
            }
        }
        if (cfg.small() == ClusteringConfig.Small.DROP || large.isEmpty()) {
            return large;
        }
        List<double[]> centroids = large.stream().map(cl -> centroid(m, cl)).toList();
        for (int c : orphans) {
            int best = -1;
            double bestD = Double.POSITIVE_INFINITY;
            for (int g = 0; g < large.size(); g++) {
                if (large.get(g).size() >= cfg.maxSubsetSize()) {
                    continue;
                }
                double d = distance2(m[c], centroids.get(g));
                if (d < bestD) {
                    bestD = d;
                    best = g;
                }
            }
            if (best >= 0) {
                large.get(best).add(c);
            }
        }
        return large;
    }

    /**
     * Overlapping subsets, as the paper's were (61 × 300 &gt; 15,000): each subset also takes up to
     * {@code overlap} classes from outside it, strongest confusion first: the outside classes b with
     * the largest entries {@code M_ab} over its members a (positive, and at least the
     * {@code minConfusion} floor), until the subset reaches {@code maxSubsetSize}.
     */
    private static List<List<Integer>> addOverlap(double[][] m, List<List<Integer>> clusters, ClusteringConfig cfg) {
        if (cfg.overlap() == 0) {
            return clusters;
        }
        double floor = 0;
        if (cfg.minConfusion() > 0) {
            double top = Double.NEGATIVE_INFINITY;
            for (int a = 0; a < m.length; a++) {
                for (int b = 0; b < m.length; b++) {
                    if (a != b) {
                        top = Math.max(top, m[a][b]);
                    }
                }
            }
            floor = cfg.minConfusion() * top;
        }
        List<List<Integer>> out = new ArrayList<>();
        for (List<Integer> cl : clusters) {
            java.util.Set<Integer> members = new java.util.HashSet<>(cl);
            List<double[]> candidates = new ArrayList<>();
            for (int a : cl) {
                for (int b = 0; b < m.length; b++) {
                    if (!members.contains(b) && m[a][b] > 0 && m[a][b] >= floor) {
                        candidates.add(new double[] {b, m[a][b]});
                    }
                }
            }
            candidates.sort(Comparator.comparingDouble((double[] x) -> -x[1]).thenComparingDouble(x -> x[0]));
            List<Integer> grown = new ArrayList<>(cl);
            int added = 0;
            for (double[] cand : candidates) {
                int b = (int) cand[0];
                if (added >= cfg.overlap() || grown.size() >= cfg.maxSubsetSize()) {
                    break;
                }
                if (members.add(b)) {
                    grown.add(b);
                    added++;
                }
            }
            out.add(grown);
        }
        return out;
    }

    private static double[] centroid(double[][] m, List<Integer> cl) {
        double[] c = new double[m[cl.get(0)].length];
        for (int i : cl) {
            for (int j = 0; j < c.length; j++) {
                c[j] += m[i][j] / cl.size();
            }
        }
        return c;
    }

    private static double distance2(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s;
    }
}
