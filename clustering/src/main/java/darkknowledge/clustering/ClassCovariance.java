package darkknowledge.clustering;

/**
 * Streaming covariance of the class columns of an examples × classes matrix, fed in chunks so the
 * whole matrix never has to be in memory:
 * <pre>  Σ_ab = (1/(n−1)) Σ_i (x_ia − x̄_a)(x_ib − x̄_b)</pre>
 * computed by the shifted-data method: sums of {@code d = x − K} and {@code d dᵀ} with {@code K} the
 * first row, then {@code Σ = (S_dd − s_d s_dᵀ / n) / (n − 1)}; shifting by a typical row keeps the
 * subtraction well conditioned. Cost O(n·C²/2) time (upper triangle), O(C²) memory (C = 15,000
 * classes: 1.8 GB). Exact zeros of {@code d} are skipped, which makes very peaked prediction rows cheap.
 */
public final class ClassCovariance {
    private final int classes;
    private final double[][] sdd;
    private final double[] sd;
    private double[] shift;
    private long n;

    public ClassCovariance(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes: expected >= 1, got " + classes);
        }
        this.classes = classes;
        this.sdd = new double[classes][];
        for (int a = 0; a < classes; a++) {
            sdd[a] = new double[classes - a];
        }
        this.sd = new double[classes];
    }

    /** Adds rows (each of {@code classes} values). */
    public ClassCovariance add(double[][] rows) {
        double[] d = new double[classes];
        for (double[] row : rows) {
            if (row.length != classes) {
                throw new IllegalArgumentException("row of " + row.length + " values for " + classes + " classes");
            }
            if (shift == null) {
                shift = row.clone();
            }
            for (int a = 0; a < classes; a++) {
                d[a] = row[a] - shift[a];
                sd[a] += d[a];
            }
            for (int a = 0; a < classes; a++) {
                double da = d[a];
                if (da == 0) {
                    continue;
                }
                double[] s = sdd[a];
                for (int b = a; b < classes; b++) {
                    s[b - a] += da * d[b];
                }
            }
            n++;
        }
        return this;
    }

    public long count() {
        return n;
    }

    public int classes() {
        return classes;
    }

    /** The C × C sample covariance (n − 1 denominator). */
    public double[][] covariance() {
        if (n < 2) {
            throw new IllegalStateException("covariance needs at least 2 rows, got " + n);
        }
        double[][] c = new double[classes][classes];
        for (int a = 0; a < classes; a++) {
            for (int b = a; b < classes; b++) {
                double v = (sdd[a][b - a] - sd[a] * sd[b] / n) / (n - 1);
                c[a][b] = v;
                c[b][a] = v;
            }
        }
        return c;
    }

    /** The C × C correlation; a constant column gets correlation 0 with others and 1 with itself. */
    public double[][] correlation() {
        double[][] c = covariance();
        double[] sdv = new double[classes];
        for (int a = 0; a < classes; a++) {
            sdv[a] = Math.sqrt(Math.max(c[a][a], 0));
        }
        for (int a = 0; a < classes; a++) {
            for (int b = 0; b < classes; b++) {
                c[a][b] = a == b ? 1 : sdv[a] == 0 || sdv[b] == 0 ? 0 : c[a][b] / (sdv[a] * sdv[b]);
            }
        }
        return c;
    }
}
