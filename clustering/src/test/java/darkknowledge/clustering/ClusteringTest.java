package darkknowledge.clustering;

import darkknowledge.core.ClassPartition;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Check;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.commons.math3.stat.correlation.Covariance;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.junit.jupiter.api.Test;

class ClusteringTest {

    static ClusteringConfig cfg(int k) {
        return ClusteringConfig.defaults().withK(k);
    }

    @Test
    void streamingCovarianceEqualsCommonsMath() {
        SplittableRandom r = new SplittableRandom(1);
        double[][] x = new double[103][7];
        for (double[] row : x) {
            for (int j = 0; j < row.length; j++) {
                row[j] = 5 + r.nextGaussian() * (j + 1);
            }
        }
        ClassCovariance streamed = new ClassCovariance(7);
        for (int start = 0; start < x.length; start += 10) {
            streamed.add(Arrays.copyOfRange(x, start, Math.min(x.length, start + 10)));
        }
        assertEquals(103, streamed.count());
        double[][] expected = new Covariance(x).getCovarianceMatrix().getData();
        double[][] got = streamed.covariance();
        double[][] corr = new PearsonsCorrelation(x).getCorrelationMatrix().getData();
        for (int a = 0; a < 7; a++) {
            assertArrayEquals(expected[a], got[a], 1e-9);
            assertArrayEquals(corr[a], streamed.correlation()[a], 1e-9);
        }
    }

    @Test
    void blockedParallelCovarianceIsBitForBitTheRowByRowSum() {
        // more rows than a block, an odd class count (the paired triangle rows meet in the middle),
        // and exact zeros (skipped products) in some columns
        SplittableRandom r = new SplittableRandom(2);
        int c = 37;
        double[][] x = new double[3 * ClassCovariance.BLOCK + 5][c];
        for (double[] row : x) {
            for (int j = 0; j < c; j++) {
                row[j] = j % 5 == 0 ? 0 : r.nextDouble();
            }
        }
        ClassCovariance blocked = new ClassCovariance(c).add(x);
        ClassCovariance oneByOne = new ClassCovariance(c);
        for (double[] row : x) {
            oneByOne.add(new double[][] {row});
        }
        assertEquals(x.length, blocked.count());
        double[][] want = oneByOne.covariance();
        double[][] got = blocked.covariance();
        for (int a = 0; a < c; a++) {
            assertArrayEquals(want[a], got[a], 0.0, "row " + a);
        }
        double[][] bad = {new double[c], new double[c - 1]};
        ClassCovariance untouched = new ClassCovariance(c);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> untouched.add(bad));
        assertTrue(e.getMessage().contains("row of 36 values for 37 classes"), e.getMessage());
        assertEquals(0, untouched.count(), "a bad row adds nothing");
    }

    @Test
    void blockStructuredCovarianceIsRecovered() {
        int[] truth = {0, 1, 2, 0, 1, 2, 0, 1, 0, 1, 2, 1};  // blocks of sizes 4, 5, 3, interleaved
        int c = truth.length;
        double[][] m = new double[c][c];
        for (int a = 0; a < c; a++) {
            for (int b = 0; b < c; b++) {
                m[a][b] = a == b ? 1.0 : truth[a] == truth[b] ? 0.6 : 0.02;
            }
        }
        ClassPartition p = ClassClustering.cluster(m, cfg(3).withDiagonal(ClusteringConfig.Diagonal.KEEP));
        assertEquals(p.subsets(), ClassClustering.cluster(m, cfg(3)).subsets(), "row_max agrees on clear blocks");
        assertEquals(1.0, AdjustedRandIndex.of(p.clusterOf(), truth), 1e-12);
        assertEquals(List.of(0, 3, 6, 8), p.subsets().get(0));
    }

    @Test
    void plantedGroupsAreRecoveredFromPredictedProbabilities() {
        int classes = 60;
        int groups = 6;
        SplittableRandom r = new SplittableRandom(3);
        int[] group = new int[classes];
        int[] perm = shuffled(classes, r);
        for (int i = 0; i < classes; i++) {
            group[perm[i]] = i % groups;
        }
        double[][] p = predictions(4000, group, groups, r);
        ClassPartition part = ClassClustering.fromPredictions(p, cfg(groups));
        double ari = AdjustedRandIndex.of(part.clusterOf(), group);
        assertTrue(ari >= 0.95, "ARI " + ari + " (" + part.subsets().size() + " subsets)");
        ClassPartition again = ClassClustering.fromPredictions(p, cfg(groups));
        assertEquals(part.subsets(), again.subsets(), "same seed, same partition");
    }

    /** Rows where mass is spread within the true class's group (a generalist confusing within groups). */
    static double[][] predictions(int n, int[] group, int groups, SplittableRandom r) {
        int classes = group.length;
        double[][] p = new double[n][classes];
        for (int i = 0; i < n; i++) {
            int y = r.nextInt(classes);
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                double w = group[c] == group[y] ? (c == y ? 2 : 0) + r.nextDouble() : 0.01 * r.nextDouble();
                p[i][c] = w;
                sum += w;
            }
            for (int c = 0; c < classes; c++) {
                p[i][c] /= sum;
            }
        }
        return p;
    }

    static int[] shuffled(int n, SplittableRandom r) {
        List<Integer> p = new ArrayList<>(java.util.stream.IntStream.range(0, n).boxed().toList());
        java.util.Collections.shuffle(p, new java.util.Random(r.nextLong()));
        return p.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void rowMaxDiagonalGroupsByConfusionNotByVariance() {
        // Pairs {0,1} and {2,3} confused with each other; classes 0 and 2 are far more uncertain
        // (variance) than 1 and 3. Keeping the diagonal, K-means pairs the uncertain classes together.
        double[][] m = {
            {1.0, 0.05, 0, 0}, {0.05, 0.06, 0, 0}, {0, 0, 1.0, 0.05}, {0, 0, 0.05, 0.06}};
        int[] truth = {0, 0, 1, 1};
        ClassPartition rowMax = ClassClustering.cluster(m, cfg(2));
        assertEquals(1.0, AdjustedRandIndex.of(rowMax.clusterOf(), truth), 1e-12);
        ClassPartition keep = ClassClustering.cluster(m, cfg(2).withDiagonal(ClusteringConfig.Diagonal.KEEP));
        assertTrue(AdjustedRandIndex.of(keep.clusterOf(), truth) < 1, "the literal reading fails here: " + keep.subsets());
    }

    @Test
    void smallClustersAreDroppedOrMergedAndLargeOnesSplit() {
        // Two confusable pairs and two loners.
        double[][] m = {
            {1, .8, 0, 0, 0, 0}, {.8, 1, 0, 0, 0, 0}, {0, 0, 1, .8, 0, 0}, {0, 0, .8, 1, 0, 0},
            {0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 1}};
        ClusteringConfig four = cfg(4).withDiagonal(ClusteringConfig.Diagonal.KEEP);
        ClassPartition dropped = ClassClustering.cluster(m, four);
        assertEquals(List.of(List.of(0, 1), List.of(2, 3)), dropped.subsets());
        assertEquals(-1, dropped.clusterOf()[4]);
        ClusteringConfig merge = new ClusteringConfig(4, 5, 100, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 0, 100, 2, ClusteringConfig.Small.MERGE, ClusteringConfig.Diagonal.KEEP, 1);
        ClassPartition merged = ClassClustering.cluster(m, merge);
        assertEquals(6, merged.subsets().stream().mapToInt(List::size).sum());
        ClusteringConfig capped = new ClusteringConfig(1, 5, 100, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 0, 2, 1, ClusteringConfig.Small.DROP, ClusteringConfig.Diagonal.KEEP, 1);
        assertTrue(ClassClustering.cluster(m, capped).subsets().stream().allMatch(s -> s.size() <= 2));
    }

    @Test
    void oversizedClusterIsBisectedIntoConfusableGroupsNeverIntoConsecutiveChunks() {
        // 24 classes in four interleaved groups of six (class a in group a % 4), confused within groups
        // at two strengths so that the groups pair up: one K-means cluster of all 24 must come apart
        // along the groups, not into runs of consecutive indices.
        int c = 24;
        double[][] m = new double[c][c];
        for (int a = 0; a < c; a++) {
            for (int b = 0; b < c; b++) {
                m[a][b] = a == b ? 1 : a % 4 == b % 4 ? 0.6 : a % 2 == b % 2 ? 0.2 : 0.01;
            }
        }
        ClusteringConfig oneCluster = new ClusteringConfig(1, 3, 100, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 0, 6, 2, ClusteringConfig.Small.DROP,
                ClusteringConfig.Diagonal.ROW_MAX, 1);
        ClassPartition p = ClassClustering.cluster(m, oneCluster);
        assertEquals(4, p.subsets().size(), p.subsets().toString());
        for (List<Integer> s : p.subsets()) {
            assertEquals(6, s.size());
            assertTrue(s.stream().allMatch(a -> a % 4 == s.get(0) % 4), "one group per subset: " + s);
        }
        assertTrue(p.method().contains("recursive-bisection"), p.method());
    }

    @Test
    void classesTheGeneralistDoesNotConfuseGetNoSpecialist() {
        // Pairs {0,1} and {2,3} strongly confused, {4,5} barely; classes 6 and 7 never.
        double[][] m = new double[8][8];
        m[0][1] = m[1][0] = 0.5;
        m[2][3] = m[3][2] = 0.4;
        m[4][5] = m[5][4] = 0.01;
        for (int a = 0; a < 8; a++) {
            m[a][a] = 1;
        }
        ClusteringConfig all = cfg(3);
        ClassPartition everyClass = ClassClustering.cluster(m, all);
        assertTrue(everyClass.subsets().stream().mapToInt(List::size).sum() >= 6, everyClass.subsets().toString());
        ClassPartition confused = ClassClustering.cluster(m, all.withMinConfusion(0.1));
        assertEquals(List.of(List.of(0, 1), List.of(2, 3)), confused.subsets());
        for (int a = 4; a < 8; a++) {
            assertEquals(-1, confused.clusterOf()[a], "class " + a + " is not confused enough for a specialist");
        }
        var e = assertThrows(Check.InvalidValue.class, () -> all.withMinConfusion(1.5));
        assertEquals("minConfusion", e.field());
    }

    @Test
    void overlapAddsMostConfusedNeighboursUpToTheCap() {
        double[][] m = {
            {1, .8, .3, 0}, {.8, 1, 0, 0}, {.3, 0, 1, .7}, {0, 0, .7, 1}};
        ClusteringConfig overlap = new ClusteringConfig(2, 5, 100, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 1, 3, 1, ClusteringConfig.Small.DROP, ClusteringConfig.Diagonal.KEEP, 1);
        ClassPartition p = ClassClustering.cluster(m, overlap);
        assertEquals(List.of(List.of(0, 1, 2), List.of(0, 2, 3)), p.subsets());
        assertEquals(2, p.coverage(0));
        assertEquals(1, p.coverage(1));
    }

    @Test
    void configValidationNamesTheField() {
        var e = assertThrows(Check.InvalidValue.class, () -> new ClusteringConfig(0, 1, 1,
                ClusteringConfig.Source.PROBABILITIES, ClusteringConfig.Statistic.COVARIANCE, 0, 10, 1,
                ClusteringConfig.Small.DROP, ClusteringConfig.Diagonal.KEEP, 1));
        assertEquals("k", e.field());
        var e2 = assertThrows(Check.InvalidValue.class, () -> new ClusteringConfig(2, 1, 1,
                ClusteringConfig.Source.PROBABILITIES, ClusteringConfig.Statistic.COVARIANCE, 0, 3, 5,
                ClusteringConfig.Small.DROP, ClusteringConfig.Diagonal.KEEP, 1));
        assertEquals("minSubsetSize", e2.field());
    }

    @Test
    void partitionTextRoundTripsAndValidates() {
        ClassPartition p = new ClassPartition(List.of(List.of(3, 0), List.of(1, 2)), 5, "hand", 0.5);
        assertEquals("0,3|1,2", p.subsetsText());
        assertEquals(p.subsets(), ClassPartition.parse(p.subsetsText(), 5, "hand").subsets());
        assertArrayEquals(new int[]{0, 1, 1, 0, -1}, p.clusterOf());
        assertEquals("0,3|1,2", p.provenance().get("clustering.subsets"));
        assertThrows(IllegalArgumentException.class, () -> ClassPartition.parse("0,7", 5, "x"));
        assertThrows(IllegalArgumentException.class, () -> ClassPartition.parse("0,0", 5, "x"));
        assertThrows(IllegalArgumentException.class, () -> ClassPartition.parse("0,a", 5, "x"));
        assertTrue(p.toText().contains("specialist 1: [1, 2]"));
        List<List<Integer>> none = new ArrayList<>();
        assertEquals(0, ClassPartition.parse("", 5, "x").subsets().size(), none.toString());
    }

    @Test
    void adjustedRandIndexKnownValues() {
        assertEquals(1.0, AdjustedRandIndex.of(new int[]{0, 0, 1, 1}, new int[]{5, 5, 2, 2}), 1e-12);
        // Hubert & Arabie example as tabulated by scikit-learn's docs: [0,0,1,1] vs [0,0,1,2] -> 0.5714...
        assertEquals(0.5714285714, AdjustedRandIndex.of(new int[]{0, 0, 1, 1}, new int[]{0, 0, 1, 2}), 1e-9);
        assertEquals(0.0, AdjustedRandIndex.of(new int[]{0, 0, 0, 0}, new int[]{0, 1, 2, 3}), 1e-12);
    }
}
