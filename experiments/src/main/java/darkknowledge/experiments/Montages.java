package darkknowledge.experiments;

import darkknowledge.core.ClassPartition;
import darkknowledge.data.Fonts;
import darkknowledge.data.GlyphMontage;
import darkknowledge.data.GlyphsConfig;
import darkknowledge.generalist.Classifier;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import java.awt.Font;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The pictures of the glyphs experiment: what the clusters hold, and what the generalist confuses. */
final class Montages {
    private static final int ROWS = 16;
    private static final int PAIRS = 24;

    private Montages() {
    }

    /**
     * Writes {@code clusters.png} (the first subsets, one row each: every class in the first training
     * face, under it a test-face sample) and {@code confused-pairs.png} (the pairs of classes the
     * generalist confuses most often on the test faces, with the count) into the run directory.
     */
    static void clustersAndConfusions(RunContext ctx, ClassPartition partition, Classifier generalist, RunData s,
                                      GlyphsConfig glyphs) {
        Font font = Fonts.of(ctx.data()).font(glyphs.trainFaces().get(0));
        GlyphMontage.Style style = GlyphMontage.Style.of(font).withSamples(s.test());
        List<String> names = s.train().classNames();
        List<GlyphMontage.Row> rows = new ArrayList<>();
        for (int m = 0; m < Math.min(ROWS, partition.subsets().size()); m++) {
            rows.add(new GlyphMontage.Row("specialist " + m + " (" + partition.subsets().get(m).size() + ")",
                    partition.subset(m)));
        }
        GlyphMontage.writeRows(ctx.record().dir().resolve("clusters.png"), names, rows, style);

        int[] predicted = generalist.predict(s.testX());
        int[] labels = s.test().labels();
        Map<Long, Integer> counts = new HashMap<>();
        for (int i = 0; i < labels.length; i++) {
            if (predicted[i] != labels[i]) {
                int a = Math.min(labels[i], predicted[i]);
                int b = Math.max(labels[i], predicted[i]);
                counts.merge((long) a * names.size() + b, 1, Integer::sum);
            }
        }
        List<GlyphMontage.Pair> pairs = counts.entrySet().stream()
                .sorted(Map.Entry.<Long, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(PAIRS)
                .map(e -> new GlyphMontage.Pair((int) (e.getKey() / names.size()), (int) (e.getKey() % names.size()),
                        e.getValue() + " test confusions"))
                .toList();
        GlyphMontage.writePairs(ctx.record().dir().resolve("confused-pairs.png"), names, pairs, style);
    }
}
