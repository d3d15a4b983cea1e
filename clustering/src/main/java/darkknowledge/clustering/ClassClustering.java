package darkknowledge.clustering;

import darkknowledge.core.ClassPartition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import smile.clustering.CentroidClustering;
import smile.clustering.KMeans;
import smile.math.MathEx;

/**
 * §5.3: "we apply a clustering algorithm, online K-means, to the columns of the covariance matrix"
 * of the generalist's predictions, so that classes that are often predicted together share a
 * specialist. Each class is a point, its row {@code Σ_c·} of the covariance (or correlation) matrix;
 * K-means (Smile, k-means++ seeding) runs {@code restarts} times from seeds derived from
 * {@code cfg.seed()} and the lowest distortion wins. Then: clusters over {@code maxSubsetSize} are
 * split, clusters under {@code minSubsetSize} are dropped or merged, and with {@code overlap > 0}
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
        return partition(matrix, matrix, cfg, "rows of the class "
                + cfg.statistic().name().toLowerCase(Locale.ROOT) + " matrix");
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
        return partition(sketch.embedding(cfg.diagonal()), null, cfg, sketch.describe());
    }

    /**
     * K-means on {@code points} (one row per class), then split, small-cluster handling and, when
     * {@code similarity} (the square class matrix, as clustered) is given, overlap.
     */
    private static ClassPartition partition(double[][] matrix, double[][] similarity, ClusteringConfig cfg,
                                            String pointsDescription) {
        int c = matrix.length;
        int k = Math.min(cfg.k(), c);
        SplittableRandom seeds = new SplittableRandom(cfg.seed());
        int[] labels;
        double distortion;
        if (k == c) {
            labels = java.util.stream.IntStream.range(0, c).toArray();
            distortion = 0;
        } else if (k == 1) {
            labels = new int[c];
            distortion = Double.NaN;
        } else {
            CentroidClustering<double[], double[]> best = null;
            for (int r = 0; r < cfg.restarts(); r++) {
                MathEx.setSeed(seeds.nextLong());
                CentroidClustering<double[], double[]> fit = kMeans(matrix, k, cfg.maxIterations());
                if (best == null || fit.distortion() < best.distortion()) {
                    best = fit;
                }
            }
            labels = best.group();
            distortion = best.distortion();
        }
        List<List<Integer>> clusters = groups(labels);
        clusters = splitLarge(matrix, clusters, cfg, seeds);
        clusters = handleSmall(matrix, clusters, cfg);
        if (similarity != null) {
            clusters = addOverlap(similarity, clusters, cfg);
        }
        clusters.sort(Comparator.comparing((List<Integer> l) -> l.get(0)));
        String method = String.format(Locale.ROOT,
                "k-means (Smile, k-means++) on %s of %s; k=%d restarts=%d maxIterations=%d "
                        + "seed=%d overlap=%d maxSubsetSize=%d minSubsetSize=%d small=%s diagonal=%s",
                pointsDescription, cfg.source().name().toLowerCase(Locale.ROOT), k,
                cfg.restarts(), cfg.maxIterations(), cfg.seed(), cfg.overlap(), cfg.maxSubsetSize(),
                cfg.minSubsetSize(), cfg.small().name().toLowerCase(Locale.ROOT),
                cfg.diagonal().name().toLowerCase(Locale.ROOT));
        return new ClassPartition(clusters, c, method, distortion);
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
        return KMeans.fit(points, new smile.clustering.Clustering.Options(k, maxIterations, tol, null));
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

    private static List<List<Integer>> splitLarge(double[][] m, List<List<Integer>> clusters, ClusteringConfig cfg,
                                                  SplittableRandom seeds) {
        List<List<Integer>> out = new ArrayList<>();
        for (List<Integer> cl : clusters) {
            if (cl.size() <= cfg.maxSubsetSize()) {
                out.add(cl);
                continue;
            }
            int parts = (cl.size() + cfg.maxSubsetSize() - 1) / cfg.maxSubsetSize();
            double[][] points = cl.stream().map(i -> m[i]).toArray(double[][]::new);
            MathEx.setSeed(seeds.nextLong());
            int[] g = kMeans(points, parts, cfg.maxIterations()).group();
            for (List<Integer> sub : groups(g)) {
                List<Integer> mapped = sub.stream().map(cl::get).toList();
                if (mapped.size() > cfg.maxSubsetSize()) {
                    // K-means need not balance; fall back to consecutive chunks of the cluster.
                    for (int s = 0; s < mapped.size(); s += cfg.maxSubsetSize()) {
                        out.add(new ArrayList<>(mapped.subList(s, Math.min(mapped.size(), s + cfg.maxSubsetSize()))));
                    }
                } else {
                    out.add(new ArrayList<>(mapped));
                }
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

    private static List<List<Integer>> addOverlap(double[][] m, List<List<Integer>> clusters, ClusteringConfig cfg) {
        if (cfg.overlap() == 0) {
            return clusters;
        }
        List<List<Integer>> out = new ArrayList<>();
        for (List<Integer> cl : clusters) {
            java.util.Set<Integer> members = new java.util.HashSet<>(cl);
            // Candidates: each member's most-confused neighbour outside the subset, strongest first.
            List<double[]> candidates = new ArrayList<>();
            for (int a : cl) {
                int best = -1;
                for (int b = 0; b < m.length; b++) {
                    if (b != a && !members.contains(b) && (best < 0 || m[a][b] > m[a][best])) {
                        best = b;
                    }
                }
                if (best >= 0 && m[a][best] > 0) {
                    candidates.add(new double[] {best, m[a][best]});
                }
            }
            candidates.sort(Comparator.comparingDouble((double[] x) -> -x[1]));
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
