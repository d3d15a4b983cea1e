package darkknowledge.data;

import darkknowledge.core.engine.LocalEngine;
import darkknowledge.core.Seeds;
import java.awt.Font;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;

/**
 * Fresh distortions of the training images of a {@link GlyphSet}, for online augmentation: training
 * image {@code r} (its face and class) rendered again under a distortion drawn from the stream
 * {@value #STREAM} of {@code (seed, epoch, r)}, where {@code seed} is the training net's own seed
 * (derived from the run's seed and the net's name). Every epoch of every net thus sees new images of
 * the same faces and characters with the same labels, reproducibly: epoch e's images depend on
 * {@code (seed, e)} alone, so a resumed training draws them again. The stream is another name than
 * the set's own ({@code glyphs.image}, {@code glyphs.seen}).
 *
 * <p>Renders in parallel on the common pool; one renderer per thread, outlines built once per (face,
 * class) on first use.
 */
public final class GlyphDistortions {
    /** The seed stream of the fresh distortions. */
    static final String STREAM = "glyphs.fresh";

    private final GlyphsConfig config;
    private final GlyphSet.Images train;
    private final List<Typeface> faces;
    private final Font[] fonts;
    private final Path[] files;
    private final List<String> characters;
    private final AtomicReferenceArray<GlyphRenderer.Outline> outlines;
    private final ThreadLocal<GlyphRenderer> renderers;

    public GlyphDistortions(Fonts fonts, GlyphSet set) {
        this.config = set.config();
        this.train = set.train();
        this.faces = config.trainFaces();
        this.fonts = new Font[faces.size()];
        this.files = new Path[faces.size()];
        for (int f = 0; f < faces.size(); f++) {
            this.fonts[f] = fonts.font(faces.get(f));
            this.files[f] = fonts.ensure(faces.get(f));
        }
        this.characters = set.characters();
        this.outlines = new AtomicReferenceArray<>(faces.size() * characters.size());
        int size = config.imageSize();
        this.renderers = ThreadLocal.withInitial(() -> new GlyphRenderer(size));
    }

    /** Number of training images: rows are {@code 0..count()-1} of {@link GlyphSet#train()}. */
    public int count() {
        return train.count();
    }

    /**
     * Training images {@code rows} (indices into {@link GlyphSet#train()}) under fresh distortions for
     * {@code epoch} of the net seeded {@code seed}: {@code rows.length × imageSize²} floats in [0, 1],
     * row-major, as {@link GlyphSet#trainSet()} holds them.
     */
    public float[] render(int[] rows, long seed, int epoch) {
        int d = config.imageSize() * config.imageSize();
        float[] out = new float[rows.length * d];
        Seeds seeds = new Seeds(seed);
        // In parallel, unless on an engine worker whose siblings already keep every core busy (the
        // specialists stage): images are seeded each on its own, so the order changes nothing.
        IntStream indices = IntStream.range(0, rows.length);
        (LocalEngine.mayFork() ? indices.parallel() : indices).forEach(i -> {
            int r = rows[i];
            if (r < 0 || r >= train.count()) {
                throw new IndexOutOfBoundsException("training image " + r + " of " + train.count());
            }
            byte[] pixels = new byte[d];
            SplittableRandom random = new SplittableRandom(seeds.derive(STREAM, epoch, r));
            GlyphRenderer.Outline outline = outline(faceSlot(train.face(r)), train.labels()[r]);
            double ink = renderers.get().render(outline, GlyphRenderer.Distortion.draw(config, random), random, pixels, 0);
            if (!(ink > 0)) {
                throw new IllegalStateException("a blank fresh image of training image " + r + " ("
                        + characters.get(train.labels()[r]) + " in " + train.face(r).faceName() + ")");
            }
            for (int j = 0; j < d; j++) {
                out[i * d + j] = (pixels[j] & 0xFF) / 255f;
            }
        });
        return out;
    }

    private int faceSlot(Typeface face) {
        int f = faces.indexOf(face);
        if (f < 0) {
            throw new IllegalStateException(face.id() + " is not a training face of " + faces);
        }
        return f;
    }

    private GlyphRenderer.Outline outline(int face, int cls) {
        int at = face * characters.size() + cls;
        GlyphRenderer.Outline o = outlines.get(at);
        if (o == null) {
            o = GlyphRenderer.outline(fonts[face], characters.get(cls), faces.get(face), files[face]);
            outlines.compareAndSet(at, null, o);
        }
        return o;
    }
}
