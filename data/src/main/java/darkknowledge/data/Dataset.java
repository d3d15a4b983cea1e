package darkknowledge.data;

import darkknowledge.core.Sha256;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A labelled dataset held as one row-major {@code float[]} of features (pixels scaled to [0, 1]) and
 * an {@code int[]} of labels. Immutable by convention: no method changes the arrays it holds;
 * {@link #subset}, {@link #relabel} and {@link #concat} return new datasets.
 *
 * <p>An image example is stored channel-planar: its {@code channels × height × width} values in
 * that order ({@code c·h·w + y·w + x}), the layout of a {@code [n, c, h, w]} tensor flattened in C
 * order (what DL4J's {@code InputType.convolutionalFlat(h, w, c)} reshapes back). Grey images have
 * one channel, colour images three (R, G, B).
 *
 * @param imageWidth    width of an image, or 0 when examples are not images (jitter needs images)
 * @param imageHeight   height of an image, or 0
 * @param imageChannels channels of an image (1 grey, 3 colour), or 0 when examples are not images
 */
public record Dataset(String name, float[] features, int[] labels, int numExamples, int numFeatures, int numClasses,
                      int imageWidth, int imageHeight, int imageChannels, List<String> classNames) {

    /** A dataset of grey images ({@code imageWidth·imageHeight > 0}, one channel) or of plain vectors. */
    public Dataset(String name, float[] features, int[] labels, int numExamples, int numFeatures, int numClasses,
                   int imageWidth, int imageHeight, List<String> classNames) {
        this(name, features, labels, numExamples, numFeatures, numClasses, imageWidth, imageHeight,
                imageWidth * imageHeight == 0 ? 0 : 1, classNames);
    }

    public Dataset {
        if (numExamples < 0 || numFeatures <= 0 || numClasses <= 0) {
            throw new IllegalArgumentException(name + ": need examples >= 0, features > 0, classes > 0; got "
                    + numExamples + ", " + numFeatures + ", " + numClasses);
        }
        if (features.length != (long) numExamples * numFeatures || labels.length != numExamples) {
            throw new IllegalArgumentException(name + ": " + numExamples + " examples of " + numFeatures
                    + " features need " + (long) numExamples * numFeatures + " values and " + numExamples
                    + " labels; got " + features.length + " and " + labels.length);
        }
        boolean image = imageWidth * imageHeight * imageChannels != 0;
        if (image ? (long) imageWidth * imageHeight * imageChannels != numFeatures
                : imageWidth != 0 || imageHeight != 0 || imageChannels != 0) {
            throw new IllegalArgumentException(name + ": image " + imageWidth + "x" + imageHeight + "x"
                    + imageChannels + " (width x height x channels, all 0 for non-images) does not match "
                    + numFeatures + " features");
        }
        if (classNames.size() != numClasses) {
            throw new IllegalArgumentException(name + ": " + numClasses + " classes but " + classNames.size() + " names");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of example " + i
                        + " is outside 0.." + (numClasses - 1));
            }
        }
        classNames = List.copyOf(classNames);
    }

    /** The examples at {@code rows}, in that order. */
    public Dataset subset(int[] rows) {
        float[] f = new float[rows.length * numFeatures];
        int[] l = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(features, rows[i] * numFeatures, f, i * numFeatures, numFeatures);
            l[i] = labels[rows[i]];
        }
        return new Dataset(name, f, l, rows.length, numFeatures, numClasses, imageWidth, imageHeight, imageChannels,
                classNames);
    }

    /** Number of examples of each class. */
    public int[] classCounts() {
        int[] c = new int[numClasses];
        for (int y : labels) {
            c[y]++;
        }
        return c;
    }

    /** Rows whose label is one of {@code classes}, in dataset order. */
    public int[] rowsOfClasses(java.util.Collection<Integer> classes) {
        boolean[] keep = new boolean[numClasses];
        classes.forEach(c -> keep[c] = true);
        return java.util.stream.IntStream.range(0, numExamples).filter(i -> keep[labels[i]]).toArray();
    }

    /**
     * The same examples with labels mapped through {@code mapping} (old label → new label), e.g. a
     * specialist's subset classes to 0..k-1 and every other class to the dustbin k (§5.2).
     */
    public Dataset relabel(int[] mapping, List<String> newClassNames) {
        if (mapping.length != numClasses) {
            throw new IllegalArgumentException("mapping has " + mapping.length + " entries for " + numClasses + " classes");
        }
        int[] l = new int[numExamples];
        for (int i = 0; i < numExamples; i++) {
            l[i] = mapping[labels[i]];
        }
        return new Dataset(name, features, l, numExamples, numFeatures, newClassNames.size(), imageWidth, imageHeight,
                imageChannels, newClassNames);
    }

    /** This dataset's examples followed by {@code other}'s (same features and classes). */
    public Dataset concat(Dataset other) {
        if (other.numFeatures != numFeatures || other.numClasses != numClasses || other.imageWidth != imageWidth
                || other.imageHeight != imageHeight || other.imageChannels != imageChannels) {
            throw new IllegalArgumentException("cannot concatenate " + this + " (" + imageShape() + ") with " + other
                    + " (" + other.imageShape() + ")");
        }
        float[] f = java.util.Arrays.copyOf(features, features.length + other.features.length);
        System.arraycopy(other.features, 0, f, features.length, other.features.length);
        int[] l = java.util.Arrays.copyOf(labels, numExamples + other.numExamples);
        System.arraycopy(other.labels, 0, l, numExamples, other.numExamples);
        return new Dataset(name, f, l, numExamples + other.numExamples, numFeatures, numClasses, imageWidth,
                imageHeight, imageChannels, classNames);
    }

    /** Features as an {@code [numExamples, numFeatures]} float matrix (a copy). */
    public INDArray featuresMatrix() {
        return Nd4j.createFromArray(features).reshape('c', numExamples, numFeatures);
    }

    /** Labels as an {@code [numExamples, numClasses]} one-hot float matrix. */
    public INDArray oneHot() {
        float[] y = new float[numExamples * numClasses];
        for (int i = 0; i < numExamples; i++) {
            y[i * numClasses + labels[i]] = 1f;
        }
        return Nd4j.createFromArray(y).reshape('c', numExamples, numClasses);
    }

    /** SHA-256 over the features' bits and the labels: identifies exactly which examples these are. */
    public String sha256() {
        return Sha256.begin().update(features).update(labels).hex();
    }

    /** {@code width x height x channels}, or {@code "not images"}. */
    public String imageShape() {
        return imageChannels == 0 ? "not images" : imageWidth + "x" + imageHeight + "x" + imageChannels;
    }

    @Override
    public String toString() {
        return name + "[" + numExamples + " x " + numFeatures + ", " + numClasses + " classes]";
    }
}
