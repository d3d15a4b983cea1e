package darkknowledge.clustering;

import darkknowledge.core.Check;

/**
 * How classes are clustered into specialist subsets (§5.3), including the choices the paper leaves
 * open; every field is recorded in the partition's provenance.
 *
 * @param k             number of K-means clusters (specialists before small ones are handled)
 * @param restarts      K-means runs with different seeds; the lowest distortion wins
 * @param maxIterations K-means iteration cap per run
 * @param source        whether the matrix came from probabilities (the paper) or logits; recorded
 * @param statistic     covariance (the paper) or correlation of the class columns
 * @param overlap       extra classes per subset: each subset may also take up to this many of its
 *                      members' most-confused neighbours from other subsets (the paper's specialists
 *                      overlapped: 61 × 300 &gt; 15,000); 0 = disjoint
 * @param maxSubsetSize clusters larger than this are split by recursive K-means bisection (k = 2 on
 *                      the members' rows restricted to the members' columns, again on any half still
 *                      too large), never into chunks of consecutive classes; overlap additions stop at it
 * @param minSubsetSize clusters smaller than this (e.g. singletons, classes the generalist never
 *                      confuses) are handled by {@code small}
 * @param small         {@code drop}: their classes get no specialist (the generalist alone decides
 *                      them); {@code merge}: each class joins the nearest large cluster
 * @param diagonal      what each class's own entry is when its row is clustered: {@code keep} (the
 *                      paper read literally), or {@code row_max}, the largest off-diagonal entry of
 *                      the row. A class's variance is unique to its own row and dominates distances,
 *                      so with {@code keep} K-means tends to group classes by how uncertain the
 *                      generalist is about them rather than by whom they are confused with; with
 *                      {@code row_max} the rows of two classes confused only with each other coincide
 * @param seed          seed of the K-means restarts
 * @param minConfusion  classes the generalist does not confuse get no specialist: a class whose strongest
 *                      off-diagonal entry {@code max_{b≠a} M_ab} is below {@code minConfusion} times the
 *                      largest off-diagonal entry of the whole matrix is left out before K-means (it
 *                      may still join a subset as an overlap neighbour); 0 = every class is clustered
 */
public record ClusteringConfig(int k, int restarts, int maxIterations, Source source, Statistic statistic, int overlap,
                               int maxSubsetSize, int minSubsetSize, Small small, Diagonal diagonal, long seed,
                               double minConfusion) {

    /** Where the clustered matrix came from. */
    public enum Source { PROBABILITIES, LOGITS }

    /** Which second-moment matrix is clustered. */
    public enum Statistic { COVARIANCE, CORRELATION }

    /** The diagonal of the clustered matrix. */
    public enum Diagonal { KEEP, ROW_MAX }

    /** What happens to clusters below {@code minSubsetSize}. */
    public enum Small { DROP, MERGE }

    public ClusteringConfig {
        Check.positive("k", k);
        Check.positive("restarts", restarts);
        Check.positive("maxIterations", maxIterations);
        Check.that(source != null, "source", "must be probabilities or logits");
        Check.that(statistic != null, "statistic", "must be covariance or correlation");
        Check.atLeast("overlap", overlap, 0);
        Check.atLeast("maxSubsetSize", maxSubsetSize, 2);
        Check.atLeast("minSubsetSize", minSubsetSize, 1);
        Check.that(minSubsetSize <= maxSubsetSize, "minSubsetSize", "must not exceed maxSubsetSize (" + maxSubsetSize + ")");
        Check.that(small != null, "small", "must be drop or merge");
        Check.that(diagonal != null, "diagonal", "must be keep or row_max");
        Check.inRange("minConfusion", minConfusion, 0, 1);
    }

    /** Every class clustered ({@code minConfusion = 0}). */
    public ClusteringConfig(int k, int restarts, int maxIterations, Source source, Statistic statistic, int overlap,
                            int maxSubsetSize, int minSubsetSize, Small small, Diagonal diagonal, long seed) {
        this(k, restarts, maxIterations, source, statistic, overlap, maxSubsetSize, minSubsetSize, small, diagonal,
                seed, 0);
    }

    public static ClusteringConfig defaults() {
        return new ClusteringConfig(2, 10, 100, Source.PROBABILITIES, Statistic.COVARIANCE, 0, 1_000_000, 2, Small.DROP,
                Diagonal.ROW_MAX, 1);
    }

    public ClusteringConfig withK(int newK) {
        return new ClusteringConfig(newK, restarts, maxIterations, source, statistic, overlap, maxSubsetSize,
                minSubsetSize, small, diagonal, seed, minConfusion);
    }

    public ClusteringConfig withDiagonal(Diagonal d) {
        return new ClusteringConfig(k, restarts, maxIterations, source, statistic, overlap, maxSubsetSize,
                minSubsetSize, small, d, seed, minConfusion);
    }

    public ClusteringConfig withMinConfusion(double share) {
        return new ClusteringConfig(k, restarts, maxIterations, source, statistic, overlap, maxSubsetSize,
                minSubsetSize, small, diagonal, seed, share);
    }

    public ClusteringConfig withOverlap(int extra, int maxSize) {
        return new ClusteringConfig(k, restarts, maxIterations, source, statistic, extra, maxSize,
                minSubsetSize, small, diagonal, seed, minConfusion);
    }
}
