package darkknowledge.clustering;

import darkknowledge.core.ClassPartition;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SketchedCovarianceTest {

    /** With every entry kept, E = Σ R exactly: compare with the exact covariance times the same R. */
    @Test
    void withAllEntriesKeptTheSketchIsTheCovarianceTimesTheProjection() {
        int c = 9;
        int d = 4;
        SplittableRandom r = new SplittableRandom(2);
        double[][] x = new double[57][c];
        for (double[] row : x) {
            for (int j = 0; j < c; j++) {
                row[j] = r.nextDouble() * (j + 1);
            }
        }
        SketchedCovariance sketch = new SketchedCovariance(c, d, c, 5);
        for (int s = 0; s < x.length; s += 10) {
            sketch.add(Arrays.copyOfRange(x, s, Math.min(x.length, s + 10)));
        }
        double[][] cov = new ClassCovariance(c).add(x).covariance();
        double[][] e = sketch.embedding(ClusteringConfig.Diagonal.KEEP);
        double[][] rMatrix = projection(c, d, 5);
        for (int a = 0; a < c; a++) {
            for (int t = 0; t < d; t++) {
                double expected = 0;
                for (int b = 0; b < c; b++) {
                    expected += cov[a][b] * rMatrix[b][t];
                }
                assertEquals(expected, e[a][t], 1e-9 * (1 + Math.abs(expected)), "E[" + a + "][" + t + "]");
            }
        }
        assertEquals(0, sketch.droppedMass(), 1e-12);
    }

    /** R as the sketch draws it (same seed, same order). */
    private static double[][] projection(int c, int d, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double v = 1 / Math.sqrt(d);
        double[][] r = new double[c][d];
        for (int a = 0; a < c; a++) {
            for (int t = 0; t < d; t++) {
                r[a][t] = rng.nextBoolean() ? v : -v;
            }
        }
        return r;
    }

    /** With all entries kept and tracked, row_max moves each row by exactly (rowmax − Σ_aa) R_a. */
    @Test
    void rowMaxShiftsEachRowAlongItsOwnDirection() {
        int c = 6;
        SplittableRandom r = new SplittableRandom(9);
        double[][] x = new double[40][c];
        for (double[] row : x) {
            for (int j = 0; j < c; j++) {
                row[j] = r.nextDouble();
            }
        }
        SketchedCovariance sketch = new SketchedCovariance(c, 3, c, 4).add(x);
        double[][] cov = new ClassCovariance(c).add(x).covariance();
        double[][] points = ClassClustering.points(cov, ClusteringConfig.Diagonal.ROW_MAX);
        double[][] e = sketch.embedding(ClusteringConfig.Diagonal.ROW_MAX);
        double[][] rMatrix = projection(c, 3, 4);
        for (int a = 0; a < c; a++) {
            for (int t = 0; t < 3; t++) {
                double expected = 0;
                for (int b = 0; b < c; b++) {
                    expected += points[a][b] * rMatrix[b][t];
                }
                assertEquals(expected, e[a][t], 1e-9, "E[" + a + "][" + t + "]");
            }
        }
    }

    /** Planted groups: the sketch (32 dims, top 20 entries) finds the same partition as the exact path. */
    @Test
    void plantedGroupsAreRecoveredFromTheSketch() {
        int classes = 200;
        int groups = 10;
        SplittableRandom r = new SplittableRandom(3);
        int[] group = new int[classes];
        int[] perm = ClusteringTest.shuffled(classes, r);
        for (int i = 0; i < classes; i++) {
            group[perm[i]] = i % groups;
        }
        double[][] p = ClusteringTest.predictions(6000, group, groups, r);
        ClusteringConfig cfg = new ClusteringConfig(groups, 3, 100, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 0, 1_000_000, 2, ClusteringConfig.Small.DROP,
                ClusteringConfig.Diagonal.ROW_MAX, 1);
        SketchedCovariance sketch = new SketchedCovariance(classes, 32, 20, 7).add(p);
        ClassPartition sketched = ClassClustering.clusterSketch(sketch, cfg);
        ClassPartition exact = ClassClustering.fromPredictions(p, cfg);
        double ari = AdjustedRandIndex.of(sketched.clusterOf(), group);
        assertTrue(ari >= 0.95, "ARI " + ari + " vs planted, " + AdjustedRandIndex.of(sketched.clusterOf(), exact.clusterOf())
                + " vs exact; dropped mass " + sketch.droppedMass());
        assertTrue(sketched.method().contains("random"), sketched.method());
    }

    @Test
    void settingsASketchCannotHonourAreErrorsNamingThem() {
        SketchedCovariance s = new SketchedCovariance(4, 2, 2, 1).add(new double[][] {{1, 0, 0, 0}, {0, 1, 0, 0}});
        var corr = assertThrows(IllegalArgumentException.class, () -> ClassClustering.clusterSketch(s,
                new ClusteringConfig(2, 1, 10, ClusteringConfig.Source.PROBABILITIES,
                        ClusteringConfig.Statistic.CORRELATION, 0, 10, 1, ClusteringConfig.Small.DROP,
                        ClusteringConfig.Diagonal.KEEP, 1)));
        assertTrue(corr.getMessage().contains("clustering.statistic"), corr.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> s.add(new double[][] {{1, 2}}));
        assertTrue(bad.getMessage().contains("4 classes"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SketchedCovariance(10, 0, 3, 1));
    }
}
