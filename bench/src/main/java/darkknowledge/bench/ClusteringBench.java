package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.clustering.AdjustedRandIndex;
import darkknowledge.clustering.ClassClustering;
import darkknowledge.clustering.ClassCovariance;
import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.clustering.SketchedCovariance;
import darkknowledge.core.Seeds;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * §5.3 (covariance of the generalist's predictions, then K-means on its rows) at many classes, on
 * a synthetic many-class problem: peaked prediction rows whose mass sits on the true class's
 * planted group (class c belongs to group c mod k, k = classes / 20).
 * <ul>
 * <li>{@link #exact}: streamed exact covariance ({@link ClassCovariance}) + K-means with 3 restarts.
 *     O(n·C²) time, O(C²) memory, K-means in C dimensions: 4,000 classes took minutes, so the bench
 *     stops at 1,000.
 * <li>{@link #sketched}: {@link SketchedCovariance} (top 64 entries per row, 64 random directions)
 *     + one K-means run, up to 15,000 classes (JFT's size).
 * </ul>
 * Each reports time, the heap the step needed and the adjusted Rand index against the planted groups.
 */
final class ClusteringBench {
    private ClusteringBench() {
    }

    static Row exact(int classes, Seeds seeds) {
        int groups = classes / 20;
        int n = classes * 5;
        SplittableRandom r = new SplittableRandom(seeds.derive("clustering-rows", classes));
        int[] group = plantedGroups(classes, groups);
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long t0 = System.nanoTime();
        var cov = new ClassCovariance(classes);
        double[][] chunk = new double[500][];
        for (int done = 0; done < n; done += chunk.length) {
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = predictionRow(r, group, groups);
            }
            cov.add(chunk);
        }
        double covSeconds = (System.nanoTime() - t0) / 1e9;
        var defaults = ClusteringConfig.defaults();
        var cfg = new ClusteringConfig(groups, 3, 100, defaults.source(), defaults.statistic(), 0,
                defaults.maxSubsetSize(), defaults.minSubsetSize(), defaults.small(), defaults.diagonal(),
                seeds.derive("kmeans", classes));
        long t1 = System.nanoTime();
        var partition = ClassClustering.cluster(cov.covariance(), cfg);
        double kmSeconds = (System.nanoTime() - t1) / 1e9;
        long after = rt.totalMemory() - rt.freeMemory();
        double ari = AdjustedRandIndex.of(partition.clusterOf(), group);
        return new Row("clustering " + classes + " classes", covSeconds + kmSeconds, "s", Double.NaN, "",
                String.format(Locale.ROOT, "covariance of %d rows %.1f s, k-means k=%d x3 %.1f s, heap +%.0f MB, ARI %.3f",
                        n, covSeconds, groups, kmSeconds, (after - before) / 1e6, ari));
    }

    /**
     * Prediction rows streamed in chunks into a {@link SketchedCovariance} (64 random directions, top
     * 64 entries per row), then K-means (k = classes / 20, one run). Time without generating the rows,
     * peak heap of the step, ARI against the planted groups.
     */
    static Row sketched(int classes, Seeds seeds) {
        int groups = classes / 20;
        int n = classes * 5;
        SplittableRandom r = new SplittableRandom(seeds.derive("clustering-rows", classes));
        int[] group = plantedGroups(classes, groups);
        System.gc();
        var pools = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
        long before = pools.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
        pools.forEach(MemoryPoolMXBean::resetPeakUsage);
        long t0 = System.nanoTime();
        var sketch = new SketchedCovariance(classes, 64, 64, seeds.derive("sketch", classes));
        double[][] chunk = new double[200][];
        double generate = 0;
        for (int done = 0; done < n; done += chunk.length) {
            long g0 = System.nanoTime();
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = predictionRow(r, group, groups);
            }
            generate += (System.nanoTime() - g0) / 1e9;
            sketch.add(chunk);
        }
        double sketchSeconds = (System.nanoTime() - t0) / 1e9 - generate;
        var cfg = new ClusteringConfig(groups, 1, 50, ClusteringConfig.Source.PROBABILITIES,
                ClusteringConfig.Statistic.COVARIANCE, 0, 1_000_000, 2, ClusteringConfig.Small.DROP,
                ClusteringConfig.Diagonal.ROW_MAX, seeds.derive("kmeans", classes));
        long t1 = System.nanoTime();
        var partition = ClassClustering.clusterSketch(sketch, cfg);
        double kmSeconds = (System.nanoTime() - t1) / 1e9;
        long peak = pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        double ari = AdjustedRandIndex.of(partition.clusterOf(), group);
        return new Row("clustering " + classes + " classes, sketched", sketchSeconds + kmSeconds, "s", Double.NaN, "",
                String.format(Locale.ROOT, "%d rows streamed in chunks of %d: sketch %.1f s (+%.1f s generating rows), "
                        + "k-means k=%d x1 %.1f s, peak heap +%.0f MB, ARI %.3f, dropped mass %.1f%%", n, chunk.length,
                        sketchSeconds, generate, groups, kmSeconds, (peak - before) / 1e6, ari,
                        100 * sketch.droppedMass()));
    }

    /** Class c belongs to planted group c mod groups. */
    static int[] plantedGroups(int classes, int groups) {
        return IntStream.range(0, classes).map(c -> c % groups).toArray();
    }

    /**
     * One prediction row: the true class y uniform; mass {@code 2 + u} on y, {@code u} on the rest of
     * its group and {@code 10⁻³ u} elsewhere (u uniform on [0, 1)), normalised to sum to 1.
     */
    static double[] predictionRow(SplittableRandom r, int[] group, int groups) {
        int classes = group.length;
        int y = r.nextInt(classes);
        double[] p = new double[classes];
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            p[c] = group[c] == group[y] ? (c == y ? 2 : 0) + r.nextDouble() : 1e-3 * r.nextDouble();
            sum += p[c];
        }
        for (int c = 0; c < classes; c++) {
            p[c] /= sum;
        }
        return p;
    }
}
