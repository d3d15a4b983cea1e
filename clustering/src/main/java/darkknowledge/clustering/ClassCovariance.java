package darkknowledge.clustering;

import java.util.stream.IntStream;

/**
 * Streaming covariance of the class columns of an examples × classes matrix, fed in chunks so the
 * whole matrix never has to be in memory:
 * <pre>  Σ_ab = (1/(n−1)) Σ_i (x_ia − x̄_a)(x_ib − x̄_b)</pre>
 * computed by the shifted-data method: sums of {@code d = x − K} and {@code d dᵀ} with {@code K} the
 * first row, then {@code Σ = (S_dd − s_d s_dᵀ / n) / (n − 1)}; shifting by a typical row keeps the
 * subtraction well conditioned. Cost O(n·C²/2) time (upper triangle, in blocks of rows on all cores), O(C²) memory (C = 15,000
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

    /** Rows accumulated per pass over {@code S_dd}: one pass reads and writes the whole triangle. */
    static final int BLOCK = 64;

    /**
     * Adds rows (each of {@code classes} values). The rows go in blocks of {@link #BLOCK}: each row
     * {@code a} of the triangle is updated by the whole block while it is in cache, and the triangle's
     * rows are shared among the common pool's threads. Every entry still sums its products in row
     * order, so the result is bit for bit the one-row-at-a-time sum whatever the block or thread count.
     */
    public ClassCovariance add(double[][] rows) {
        for (double[] row : rows) {
            if (row.length != classes) {
                throw new IllegalArgumentException("row of " + row.length + " values for " + classes + " classes");
            }
        }
        for (int from = 0; from < rows.length; from += BLOCK) {
            addBlock(rows, from, Math.min(rows.length, from + BLOCK));
        }
        return this;
    }

    private void addBlock(double[][] rows, int from, int to) {
        if (shift == null) {
            shift = rows[from].clone();
        }
        double[][] d = new double[to - from][classes];
        for (int r = 0; r < d.length; r++) {
            double[] row = rows[from + r];
            for (int a = 0; a < classes; a++) {
                d[r][a] = row[a] - shift[a];
                sd[a] += d[r][a];
            }
        }
        // rows a and classes-1-a together: equal work per task (the triangle's rows shrink with a)
        IntStream.range(0, (classes + 1) / 2).parallel().forEach(i -> {
            updateRow(d, i);
            if (classes - 1 - i != i) {
                updateRow(d, classes - 1 - i);
            }
        });
        n += d.length;
    }

    private void updateRow(double[][] d, int a) {
        double[] s = sdd[a];
        for (double[] dr : d) {
            double da = dr[a];
            if (da == 0) {
                continue;
            }
            for (int b = a; b < classes; b++) {
                s[b - a] += da * dr[b];
            }
        }
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
