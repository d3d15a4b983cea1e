package darkknowledge.data;

import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;

/**
 * A generated {@code glyphs} data set ({@link Glyphs#load}): pixels kept as bytes (a quarter of the
 * floats a {@link Dataset} holds), turned into datasets on request.
 *
 * @param characters the class names: class k is the character {@code characters.get(k)}
 * @param train      images of the training faces (validation is to be carved from these)
 * @param test       images of the held-out faces: the unseen-typeface test set
 * @param seenTest   further images of the training faces, distortions from a stream no training image
 *                   draws from: the seen-typeface (i.i.d.) test set; empty with
 *                   {@code seenTestImagesPerFace = 0}
 * @param sha256     SHA-256 of the cached file: identifies the set's content exactly
 * @param file       the cached file
 * @param provenance how the set was made: font files and their hashes, the generator's config, the
 *                   set's hash, the JVM and time it took (keys relative; prefix them when recording)
 */
public record GlyphSet(GlyphsConfig config, List<String> characters, Images train, Images test, Images seenTest,
                       String sha256, Path file, SortedMap<String, String> provenance) {

    public GlyphSet {
        characters = List.copyOf(characters);
        provenance = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(provenance));
    }

    /**
     * Square grey images, row-major, one byte each (0 background .. 255 ink), with their labels and the
     * face each was rendered in.
     *
     * @param faces {@link Typeface#ordinal()} of each image's face
     */
    public record Images(int imageSize, byte[] pixels, int[] labels, byte[] faces) {
        public Images {
            int d = imageSize * imageSize;
            if (labels.length != faces.length || pixels.length != (long) labels.length * d) {
                throw new IllegalArgumentException(labels.length + " labels, " + faces.length + " faces and "
                        + pixels.length + " pixels do not make images of " + imageSize + "x" + imageSize);
            }
        }

        public int count() {
            return labels.length;
        }

        public Typeface face(int image) {
            return Typeface.values()[faces[image]];
        }

        /** Pixel (row, column) of {@code image} as 0..1. */
        public float pixel(int image, int row, int column) {
            return (pixels[(image * imageSize + row) * imageSize + column] & 0xFF) / 255f;
        }

        /** Indices of the images of {@code face}, ascending. */
        public int[] ofFace(Typeface face) {
            return java.util.stream.IntStream.range(0, count()).filter(i -> faces[i] == face.ordinal()).toArray();
        }
    }

    public int numClasses() {
        return characters.size();
    }

    /** The training images as a {@link Dataset} named {@code glyphs}, pixels scaled to [0, 1]. */
    public Dataset trainSet() {
        return dataset(train);
    }

    /** The held-out faces' images (the unseen-typeface test set) as a {@link Dataset}. */
    public Dataset testSet() {
        return dataset(test);
    }

    /** The seen-typeface test images as a {@link Dataset}; null when the config asks for none. */
    public Dataset seenTestSet() {
        return seenTest.count() == 0 ? null : dataset(seenTest);
    }

    private Dataset dataset(Images images) {
        int d = images.imageSize() * images.imageSize();
        float[] x = new float[images.pixels().length];
        byte[] p = images.pixels();
        for (int i = 0; i < x.length; i++) {
            x[i] = (p[i] & 0xFF) / 255f;
        }
        return new Dataset("glyphs", x, images.labels().clone(), images.count(), d, characters.size(),
                images.imageSize(), images.imageSize(), characters);
    }
}
