package darkknowledge.data;

import darkknowledge.core.Check;
import java.util.EnumSet;
import java.util.List;

/**
 * How the {@code glyphs} data set is generated ({@link Glyphs}); keys {@code glyphs.<component>} in the
 * flat key space, e.g. {@code glyphs.classes=200}, {@code glyphs.testFaces=ar_pl_uming,ar_pl_kaiti}.
 * Each image is the class's glyph in one face under a seeded random distortion; every strength below
 * is the half-width of a uniform range, drawn independently per image.
 *
 * @param classes                number of classes: all 3,755 GB2312 level-1 characters, or a seeded subset
 * @param imageSize              side of the square grey image in pixels
 * @param trainFaces             faces whose images form the training set (validation is carved from it)
 * @param testFaces              held-out faces: the test set; never in {@code trainFaces}
 * @param trainImagesPerFace     images per class per training face
 * @param testImagesPerFace      images per class per test face
 * @param seenTestImagesPerFace  images per class per <em>training</em> face in a second test set, the
 *                               <em>seen typefaces</em>: the training faces under distortions drawn from a
 *                               stream of their own ({@code glyphs.seen}, never used for a training or
 *                               validation image), so that the set is i.i.d. with the training set as JFT's
 *                               test set was (Hinton et al. 2015, §5); 0 = none (the runs made before it
 *                               existed)
 * @param scale                  glyph size factor drawn from {@code [1 - scale, 1 + scale]}
 * @param rotation               rotation in degrees, from {@code [-rotation, rotation]}
 * @param shear                  horizontal shear {@code x += k·y}, k from {@code [-shear, shear]}
 * @param translation            shift in each direction as a fraction of {@code imageSize}
 * @param stroke                 stroke weight change per side in output pixels, from {@code [-stroke/2, stroke]}
 *                               (positive thickens, negative thins)
 * @param blur                   Gaussian blur σ in output pixels, from {@code [0, blur]}
 * @param noise                  additive Gaussian noise σ (intensity 0..1), from {@code [0, noise]}
 * @param freshEachEpoch         online augmentation: every net (generalist, specialists, controls) sees its
 *                               training images under distortions drawn anew each epoch, from its own seed
 *                               and the epoch ({@link GlyphDistortions}), instead of the set's fixed images;
 *                               the set itself (validation, both test sets) is unchanged
 * @param seed                   the data set's own seed (class subset and distortions); independent of the
 *                               run's seed so that runs over several seeds share one data set
 */
public record GlyphsConfig(int classes, int imageSize, List<Typeface> trainFaces, List<Typeface> testFaces,
                           int trainImagesPerFace, int testImagesPerFace, int seenTestImagesPerFace, double scale,
                           double rotation, double shear, double translation, double stroke, double blur, double noise,
                           boolean freshEachEpoch, long seed) implements java.io.Serializable {

    public GlyphsConfig {
        Check.inRange("classes", classes, 2, Glyphs.LEVEL1_SIZE);
        Check.inRange("imageSize", imageSize, 8, 256);
        trainFaces = distinct("trainFaces", trainFaces);
        testFaces = distinct("testFaces", testFaces);
        for (Typeface t : testFaces) {
            Check.that(!trainFaces.contains(t), "testFaces", "held-out face " + t.id()
                    + " is also a training face; the test faces must never appear in training");
        }
        Check.positive("trainImagesPerFace", trainImagesPerFace);
        Check.positive("testImagesPerFace", testImagesPerFace);
        Check.inRange("seenTestImagesPerFace", seenTestImagesPerFace, 0, 1000);
        Check.inHalfOpen("scale", scale, 0, 0.5);
        Check.inRange("rotation", rotation, 0, 45);
        Check.inRange("shear", shear, 0, 1);
        Check.inRange("translation", translation, 0, 0.25);
        Check.inRange("stroke", stroke, 0, 2);
        Check.inRange("blur", blur, 0, 3);
        Check.inRange("noise", noise, 0, 0.5);
    }

    /**
     * The full set: 3,755 classes at 32×32; eight training faces, and one Song/Ming, one Kai and one Hei
     * face held out for testing; 4 training and 2 test images per class and face (120,160 + 22,530), and
     * one seen-typeface test image per class and training face (30,040).
     */
    public static GlyphsConfig defaults() {
        return new GlyphsConfig(Glyphs.LEVEL1_SIZE, 32,
                List.of(Typeface.NOTO_SANS, Typeface.NOTO_SANS_BOLD, Typeface.NOTO_SERIF, Typeface.NOTO_SERIF_BOLD,
                        Typeface.AR_PL_UKAI, Typeface.AR_PL_SUNGTI, Typeface.WQY_MICROHEI, Typeface.DROID_SANS),
                List.of(Typeface.AR_PL_UMING, Typeface.AR_PL_KAITI, Typeface.WQY_ZENHEI),
                4, 2, 1, 0.12, 8, 0.15, 0.06, 0.4, 0.6, 0.05, false, 1);
    }

    /**
     * A set small enough for the default tests: {@code classes} classes, one Song face for training and
     * one Kai face for testing (the two smallest packages, 4 MB), one image each (and one seen-typeface
     * test image per class).
     */
    public static GlyphsConfig tiny(int classes) {
        return defaults().withClasses(classes).withFaces(List.of(Typeface.AR_PL_SUNGTI), List.of(Typeface.AR_PL_KAITI))
                .withImagesPerFace(1, 1);
    }

    public GlyphsConfig withClasses(int c) {
        return new GlyphsConfig(c, imageSize, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    public GlyphsConfig withImageSize(int size) {
        return new GlyphsConfig(classes, size, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    public GlyphsConfig withFaces(List<Typeface> train, List<Typeface> test) {
        return new GlyphsConfig(classes, imageSize, train, test, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    public GlyphsConfig withImagesPerFace(int train, int test) {
        return new GlyphsConfig(classes, imageSize, trainFaces, testFaces, train, test, seenTestImagesPerFace, scale,
                rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    /** The same set with {@code n} seen-typeface test images per class and training face (0: none). */
    public GlyphsConfig withSeenTestImagesPerFace(int n) {
        return new GlyphsConfig(classes, imageSize, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace, n,
                scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    /** The same set, its training images drawn anew every epoch ({@code fresh}) or fixed. */
    public GlyphsConfig withFreshEachEpoch(boolean fresh) {
        return new GlyphsConfig(classes, imageSize, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, fresh, seed);
    }

    /** The same faces and counts with every distortion strength set (all 0: the clean glyphs). */
    public GlyphsConfig withDistortion(double scale, double rotation, double shear, double translation, double stroke,
                                       double blur, double noise) {
        return new GlyphsConfig(classes, imageSize, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, seed);
    }

    public GlyphsConfig withSeed(long s) {
        return new GlyphsConfig(classes, imageSize, trainFaces, testFaces, trainImagesPerFace, testImagesPerFace,
                seenTestImagesPerFace, scale, rotation, shear, translation, stroke, blur, noise, freshEachEpoch, s);
    }

    /** Training faces, then test faces: the order faces are numbered in {@link GlyphSet}. */
    public List<Typeface> allFaces() {
        return java.util.stream.Stream.concat(trainFaces.stream(), testFaces.stream()).toList();
    }

    private static List<Typeface> distinct(String field, List<Typeface> faces) {
        List<Typeface> list = Check.nonEmpty(field, faces);
        Check.that(EnumSet.copyOf(list).size() == list.size(), field, "lists a face twice: " + list);
        return list;
    }
}
