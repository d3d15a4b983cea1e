package darkknowledge.clustering;

import it.unimi.dsi.fastutil.longs.Long2DoubleMap;
import it.unimi.dsi.fastutil.longs.Long2DoubleOpenHashMap;
import java.util.SplittableRandom;

/**
 * The rows of the class covariance matrix at JFT's scale (§5.3: 15,000 classes), without the
 * matrix: each row {@code Σ_a·} is projected onto {@code d} random directions,
 *
 * <pre>
 *   E = Σ R,   R ∈ {±1/√d}^{C×d} (seeded),   E_a· = Σ_a· R
 *   Σ R = (1/(n−1)) · ( Σ_i x_i (x_iᵀ R) − n x̄ (x̄ᵀ R) )
 * </pre>
 *
 * accumulated in one streaming pass. K-means on the rows of Σ compares them by squared Euclidean
 * distance, and a random projection keeps every such distance within a factor (1 ± ε) with high
 * probability once {@code d = O(log C / ε²)} (Johnson–Lindenstrauss; Achlioptas 2003 for ±1
 * entries), so K-means on the rows of {@code E} (C × d) sees nearly the same geometry as on Σ
 * (C × C), at O(C·d) memory instead of O(C²).
 *
 * <p>Rows are <b>sparsified</b>: each prediction row keeps its {@code keep} largest entries and the
 * rest count as 0 (their mass is reported by {@link #droppedMass()}); a generalist's softmax over
 * 15,000 classes puts almost all its mass on a few, and this makes a row cost O(C) to select plus
 * O(keep·d) to accumulate, instead of O(C²) for the exact covariance ({@link ClassCovariance}).
 *
 * <p>The diagonal option {@code row_max} (each class's own entry replaced by its largest
 * off-diagonal covariance, see {@link ClusteringConfig}) is honoured as
 * {@code E_a· + (rowmax_a − Σ_aa) R_a·}: {@code Σ_aa} is accumulated exactly (of the kept entries)
 * and {@code rowmax_a} over the classes that shared a row's top {@value #PAIR_ENTRIES} entries with
 * {@code a} (a sparse map of those products; 0 for a class that never did).
 */
public final class SketchedCovariance {
    /** Entries per row whose pairwise products are tracked for {@code row_max}. */
    public static final int PAIR_ENTRIES = 16;

    private final int classes;
    private final int dims;
    private final int keep;
    private final long seed;
    private final double[] r;       // C × d, row-major
    private final double[] sum;     // Σ_i x_i (kept entries)
    private final double[] sxr;     // C × d: Σ_i x_i (x_iᵀ R)
    private final double[] sumSq;   // Σ_i x_ia²
    private final Long2DoubleOpenHashMap pairs = new Long2DoubleOpenHashMap();  // a·C + b (a < b) -> Σ_i x_ia x_ib
    private double dropped;
    private double total;
    private long n;

    /**
     * @param classes C, the prediction row length
     * @param dims    d, the number of random directions
     * @param keep    entries kept per row (the largest)
     * @param seed    seed of the projection
     */
    public SketchedCovariance(int classes, int dims, int keep, long seed) {
        if (classes < 2 || dims < 1 || keep < 1) {
            throw new IllegalArgumentException("sketch needs classes >= 2, dims >= 1 and keep >= 1; got classes="
                    + classes + " dims=" + dims + " keep=" + keep);
        }
        this.classes = classes;
        this.dims = dims;
        this.keep = Math.min(keep, classes);
        this.seed = seed;
        this.r = new double[Math.multiplyExact(classes, dims)];
        SplittableRandom rng = new SplittableRandom(seed);
        double v = 1 / Math.sqrt(dims);
        for (int i = 0; i < r.length; i++) {
            r[i] = rng.nextBoolean() ? v : -v;
        }
        this.sum = new double[classes];
        this.sxr = new double[Math.multiplyExact(classes, dims)];
        this.sumSq = new double[classes];
    }

    /** Adds prediction rows (each of {@code classes} values). */
    public SketchedCovariance add(double[][] rows) {
        int[] idx = new int[keep];
        double[] val = new double[keep];
        double[] xr = new double[dims];
        for (double[] row : rows) {
            if (row.length != classes) {
                throw new IllegalArgumentException("row of " + row.length + " values for " + classes + " classes");
            }
            int m = topEntries(row, idx, val);
            java.util.Arrays.fill(xr, 0);
            for (int j = 0; j < m; j++) {
                int off = idx[j] * dims;
                double x = val[j];
                for (int t = 0; t < dims; t++) {
                    xr[t] += x * r[off + t];
                }
            }
            sortDescending(idx, val, m);
            for (int j = 0; j < Math.min(m, PAIR_ENTRIES); j++) {
                for (int l = j + 1; l < Math.min(m, PAIR_ENTRIES); l++) {
                    int a = Math.min(idx[j], idx[l]);
                    int b = Math.max(idx[j], idx[l]);
                    pairs.addTo((long) a * classes + b, val[j] * val[l]);
                }
            }
            for (int j = 0; j < m; j++) {
                int a = idx[j];
                double x = val[j];
                sum[a] += x;
                sumSq[a] += x * x;
                int off = a * dims;
                for (int t = 0; t < dims; t++) {
                    sxr[off + t] += x * xr[t];
                }
            }
            n++;
        }
        return this;
    }

    /** The {@code keep} largest entries of {@code row} into idx/val (a min-heap on val); returns how many. */
    private int topEntries(double[] row, int[] idx, double[] val) {
        int size = 0;
        double rowSum = 0;
        for (int c = 0; c < row.length; c++) {
            double x = row[c];
            rowSum += Math.abs(x);
            if (size < keep) {
                idx[size] = c;
                val[size] = x;
                siftUp(idx, val, size++);
            } else if (x > val[0]) {
                idx[0] = c;
                val[0] = x;
                siftDown(idx, val, size);
            }
        }
        double kept = 0;
        for (int j = 0; j < size; j++) {
            kept += Math.abs(val[j]);
        }
        dropped += rowSum - kept;
        total += rowSum;
        return size;
    }

    private static void sortDescending(int[] idx, double[] val, int m) {
        for (int i = 1; i < m; i++) {  // insertion sort: m is small
            for (int j = i; j > 0 && val[j] > val[j - 1]; j--) {
                swap(idx, val, j, j - 1);
            }
        }
    }

    private static void siftUp(int[] idx, double[] val, int i) {
        while (i > 0) {
            int p = (i - 1) / 2;
            if (val[p] <= val[i]) {
                return;
            }
            swap(idx, val, i, p);
            i = p;
        }
    }

    private static void siftDown(int[] idx, double[] val, int size) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int s = i;
            if (l < size && val[l] < val[s]) {
                s = l;
            }
            if (l + 1 < size && val[l + 1] < val[s]) {
                s = l + 1;
            }
            if (s == i) {
                return;
            }
            swap(idx, val, i, s);
            i = s;
        }
    }

    private static void swap(int[] idx, double[] val, int a, int b) {
        int ti = idx[a];
        idx[a] = idx[b];
        idx[b] = ti;
        double tv = val[a];
        val[a] = val[b];
        val[b] = tv;
    }

    /** The C × d projected covariance rows {@code E = Σ R}, with the diagonal as {@code diagonal} says. */
    public double[][] embedding(ClusteringConfig.Diagonal diagonal) {
        if (n < 2) {
            throw new IllegalStateException("covariance needs at least 2 rows, got " + n);
        }
        double[] mean = new double[classes];
        double[] meanR = new double[dims];
        for (int a = 0; a < classes; a++) {
            mean[a] = sum[a] / n;
            if (mean[a] != 0) {
                for (int t = 0; t < dims; t++) {
                    meanR[t] += mean[a] * r[a * dims + t];
                }
            }
        }
        double[][] e = new double[classes][dims];
        for (int a = 0; a < classes; a++) {
            for (int t = 0; t < dims; t++) {
                e[a][t] = (sxr[a * dims + t] - n * mean[a] * meanR[t]) / (n - 1);
            }
        }
        if (diagonal == ClusteringConfig.Diagonal.ROW_MAX) {
            double[] rowMax = new double[classes];
            boolean[] seen = new boolean[classes];
            for (Long2DoubleMap.Entry p : pairs.long2DoubleEntrySet()) {
                int a = (int) (p.getLongKey() / classes);
                int b = (int) (p.getLongKey() % classes);
                double cov = (p.getDoubleValue() - n * mean[a] * mean[b]) / (n - 1);
                rowMax[a] = seen[a] ? Math.max(rowMax[a], cov) : cov;
                rowMax[b] = seen[b] ? Math.max(rowMax[b], cov) : cov;
                seen[a] = true;
                seen[b] = true;
            }
            for (int a = 0; a < classes; a++) {
                double shift = rowMax[a] - (sumSq[a] - n * mean[a] * mean[a]) / (n - 1);
                for (int t = 0; t < dims; t++) {
                    e[a][t] += shift * r[a * dims + t];
                }
            }
        }
        return e;
    }

    /** Share of the rows' absolute mass that sparsification dropped. */
    public double droppedMass() {
        return total == 0 ? 0 : dropped / total;
    }

    public long count() {
        return n;
    }

    public int classes() {
        return classes;
    }

    /** What was computed, for provenance. */
    public String describe() {
        return String.format(java.util.Locale.ROOT,
                "covariance rows projected on %d random ±1/√d directions (seed %d), top %d entries per row kept "
                        + "(%.2f%% of the mass dropped), %d rows, %d tracked class pairs", dims, seed, keep,
                100 * droppedMass(), n, pairs.size());
    }
}
