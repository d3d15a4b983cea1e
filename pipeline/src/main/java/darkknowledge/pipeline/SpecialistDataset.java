package darkknowledge.pipeline;

import darkknowledge.data.Dataset;
import darkknowledge.data.DatasetSource;
import darkknowledge.data.Fonts;
import darkknowledge.data.GlyphDistortions;
import darkknowledge.data.GlyphSet;
import darkknowledge.data.Glyphs;
import darkknowledge.data.GlyphsConfig;
import darkknowledge.data.SyntheticClasses;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.factory.Nd4j;

/** The datasets the specialist experiments and the pipeline ship with. */
public enum SpecialistDataset {
    /** Fashion-MNIST, 10 classes. */
    FASHION,
    /** The 20-class union of MNIST and Fashion-MNIST. */
    MNIST_FASHION,
    /** {@link Synthetic}: many classes in planted groups, so cluster recovery can be scored. */
    SYNTHETIC,
    /**
     * {@link darkknowledge.data.Glyphs}: the 3,755 GB2312 level-1 Chinese characters rendered from
     * real typefaces, tested on typefaces never seen in training and, as a second test set, on fresh
     * images of the training typefaces; confusions nobody planted.
     */
    GLYPHS;

    /** The run's data, and for synthetic data the planted group of each class (else null). */
    public record Loaded(RunData data, int[] groupOfClass) {
    }

    /** Loads (and for synthetic data generates) this dataset, recording its provenance. */
    public Loaded load(DataConfig dataCfg, Synthetic synthetic, GlyphsConfig glyphs, RunContext ctx) {
        return load(dataCfg, synthetic, glyphs, ctx.data(), ctx.seeds(), ctx.provenance(), ctx.record().dir());
    }

    /**
     * Loads this dataset from {@code store} without a run context (an engine's executor rebuilding
     * a task's data): {@code seeds} are the run's, provenance goes to {@code provenance}.
     */
    public Loaded load(DataConfig dataCfg, Synthetic synthetic, GlyphsConfig glyphs, darkknowledge.data.DataStore store,
                       darkknowledge.core.Seeds seeds, darkknowledge.core.Provenance provenance, java.nio.file.Path runDir) {
        // The union and the synthetic set are made here, not read: a data.source other than the
        // fashion variant's default (which the pipeline's data section inherits) would be ignored.
        if (this != FASHION && (dataCfg.imageSize() != 0
                || !dataCfg.source().isEmpty() && !dataCfg.source().equals("fashion-mnist"))) {
            throw new darkknowledge.core.ConfigException("data.source=" + dataCfg.source() + ", data.imageSize="
                    + dataCfg.imageSize() + ": the " + name().toLowerCase(java.util.Locale.ROOT)
                    + " dataset makes its own data; run specialists-fashion (or pipeline with dataset=fashion) "
                    + "to read a data.source");
        }
        return switch (this) {
            case FASHION -> new Loaded(RunData.load(store, provenance, runDir, dataCfg), null);
            case MNIST_FASHION -> {
                List<DatasetSource> sources = List.of(DatasetSource.MNIST, DatasetSource.FASHION_MNIST);
                List<String> names = new ArrayList<>();
                for (DatasetSource src : sources) {
                    names.addAll(src.classNames().stream().map(n -> src.id() + ":" + n).toList());
                }
                Dataset[] train = new Dataset[2];
                Dataset[] test = new Dataset[2];
                for (int i = 0; i < 2; i++) {
                    DatasetSource src = sources.get(i);
                    int[] map = new int[10];
                    for (int j = 0; j < 10; j++) {
                        map[j] = 10 * i + j;
                    }
                    train[i] = store.load(src, true).relabel(map, names);
                    test[i] = store.load(src, false).relabel(map, names);
                    provenance.putAll("data." + src.id() + ".", store.checksums(src));
                }
                // Interleave so that a train or test limit keeps both halves.
                yield new Loaded(RunData.of(provenance, runDir, interleave(train[0], train[1]), interleave(test[0], test[1]), dataCfg),
                        null);
            }
            case SYNTHETIC -> {
                Synthetic y = synthetic;
                long seed = seeds.derive("synthetic");
                SyntheticClasses.Generated generated = SyntheticClasses.generate(new SyntheticClasses.Spec(y.classes(),
                        y.groups(), y.dimension(), y.similarity(), y.noise(), y.trainPerClass(), y.testPerClass(), seed));
                provenance.put("data.synthetic.seed", Long.toString(seed))
                        .put("data.synthetic.train_sha256", generated.train().sha256());
                yield new Loaded(RunData.of(provenance, runDir, generated.train(), generated.test(), dataCfg), generated.groupOfClass());
            }
            case GLYPHS -> {
                GlyphSet set = Glyphs.load(store, glyphs);
                provenance.putAll("data.glyphs.", set.provenance());
                RunData.FreshInputs fresh = null;
                if (glyphs.freshEachEpoch()) {
                    GlyphDistortions d = new GlyphDistortions(Fonts.of(store), set);
                    int dim = glyphs.imageSize() * glyphs.imageSize();
                    fresh = rows -> (epoch, seed) -> Nd4j.createFromArray(d.render(rows, seed, epoch))
                            .reshape('c', rows.length, dim);
                    provenance.put("data.glyphs.fresh_each_epoch", "training images drawn anew each epoch from "
                            + "(net seed, epoch, image), stream glyphs.fresh");
                }
                yield new Loaded(RunData.of(provenance, runDir, set.trainSet(), set.testSet(), set.seenTestSet(), fresh,
                        dataCfg), null);
            }
        };
    }

    private static Dataset interleave(Dataset a, Dataset b) {
        Dataset both = a.concat(b);
        int n = both.numExamples();
        int[] order = new int[n];
        int i = 0;
        int ia = 0;
        int ib = 0;
        while (i < n) {
            if (ia < a.numExamples()) {
                order[i++] = ia++;
            }
            if (ib < b.numExamples()) {
                order[i++] = a.numExamples() + ib++;
            }
        }
        return both.subset(order);
    }
}
