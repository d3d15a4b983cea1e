package darkknowledge.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Where an experiment's images come from: the value of the config key {@value #KEY}. One of
 * <ul>
 *   <li>{@code mnist}, {@code fashion-mnist}: the built-in sets ({@link DatasetSource}), fetched and
 *       verified by {@link DataStore};</li>
 *   <li>{@code idx:<dir>}: LeCun's IDX format, {@code train-images-idx3-ubyte},
 *       {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte} and
 *       {@code t10k-labels-idx1-ubyte} in {@code <dir>}, each optionally gzipped ({@code .gz});
 *       grey images, labels 0..k−1 with k = 1 + the largest training label;</li>
 *   <li>{@code images:<dir>}: the image-folder convention, {@code <dir>/train/<class>/*.png|jpg|jpeg}
 *       and {@code <dir>/test/<class>/...}; class names are the sorted folder names, the same in
 *       both. Colour is kept: a set in which every pixel of every image has R = G = B is grey (one
 *       channel), otherwise each image becomes three planes R, G, B (a grey image repeated in all
 *       three); alpha is composited onto black, the background of MNIST.</li>
 * </ul>
 * A relative {@code <dir>} is resolved against the working directory.
 *
 * <p>{@link #load} returns the training and test sets and the provenance entries of the files read:
 * {@code data.<set>.<file>} → SHA-256 for IDX files (the keys the built-in sets have always had),
 * {@code data.images.train} / {@code data.images.test} → a SHA-256 over the sorted relative paths and
 * contents of an image folder's files, and {@code dataset.source} → the spec with its absolute path.
 * With {@code imageSize > 0} every image is resized to {@code imageSize × imageSize} (aspect ratio
 * not kept; a bilinear filter widened by the reduction factor, so that shrinking averages all source
 * pixels); 0 keeps the files' size, and an image folder of mixed sizes is then an error.
 */
public sealed interface DataSource permits DataSource.Builtin, DataSource.IdxDirectory, DataSource.ImageFolder {

    /** The config key that names a source. */
    String KEY = "data.source";

    /** The forms a source may take, for error messages. */
    String FORMS = "mnist, fashion-mnist, idx:<dir> (IDX files) or images:<dir> (train/<class>/*.png|jpg, "
            + "test/<class>/...)";

    /** The provenance key of the source spec. */
    String PROVENANCE_KEY = "dataset.source";

    /** What {@link #load} read: the two sets and the provenance entries of their files. */
    record Loaded(Dataset train, Dataset test, SortedMap<String, String> provenance) {
        public Loaded {
            provenance = Collections.unmodifiableSortedMap(new TreeMap<>(provenance));
        }
    }

    /** The spec as written in a config ({@code parse(s.spec())} equals {@code s}). */
    String spec();

    /** Reads the training and test sets, resized to {@code imageSize} squared unless it is 0. */
    Loaded load(DataStore store, int imageSize);

    /**
     * The source {@code spec} names.
     *
     * @throws IllegalArgumentException naming {@value #KEY} and the allowed forms
     */
    static DataSource parse(String spec) {
        String s = spec == null ? "" : spec.strip();
        for (DatasetSource b : DatasetSource.values()) {
            if (b.id().equals(s)) {
                return new Builtin(b);
            }
        }
        int colon = s.indexOf(':');
        String prefix = colon < 0 ? "" : s.substring(0, colon);
        String dir = colon < 0 ? "" : s.substring(colon + 1).strip();
        if ((prefix.equals("idx") || prefix.equals("images")) && dir.isEmpty()) {
            throw new IllegalArgumentException(KEY + " '" + spec + "' names no directory; expected " + prefix
                    + ":<dir>");
        }
        return switch (prefix) {
            case "idx" -> new IdxDirectory(Path.of(dir));
            case "images" -> new ImageFolder(Path.of(dir));
            default -> throw new IllegalArgumentException("unknown " + KEY + " '" + spec + "'; expected " + FORMS);
        };
    }

    /** MNIST or Fashion-MNIST from the verified cache. */
    record Builtin(DatasetSource source) implements DataSource {
        @Override
        public String spec() {
            return source.id();
        }

        @Override
        public Loaded load(DataStore store, int imageSize) {
            SortedMap<String, String> prov = new TreeMap<>();
            store.checksums(source).forEach((f, sha) -> prov.put("data." + source.id() + "." + f, sha));
            prov.put(PROVENANCE_KEY, spec());
            return new Loaded(Resampling.resize(store.load(source, true), imageSize),
                    Resampling.resize(store.load(source, false), imageSize), prov);
        }
    }

    /**
     * A directory of IDX files in MNIST's names. The number of classes is 1 + the largest training
     * label; every class 0..k−1 must occur in the training labels (a label file numbered from 1
     * would otherwise gain an empty class 0) and every test label must be one of them.
     */
    record IdxDirectory(Path dir) implements DataSource {
        static final List<String> FILES = DatasetSource.MNIST.files();

        @Override
        public String spec() {
            return "idx:" + dir;
        }

        @Override
        public Loaded load(DataStore store, int imageSize) {
            Path d = existingDirectory(dir, "a directory holding " + String.join(", ", FILES) + " (each optionally .gz)");
            Path[] files = new Path[FILES.size()];
            SortedMap<String, String> prov = new TreeMap<>();
            for (int i = 0; i < files.length; i++) {
                files[i] = oneOf(d, FILES.get(i));
                prov.put("data.idx." + files[i].getFileName(), DataStore.sha256(files[i]));
            }
            prov.put(PROVENANCE_KEY, "idx:" + d);
            Idx.IdxArray trainLabels = Idx.read(files[1]);
            int k = numClasses(files[1], trainLabels);
            List<String> names = new ArrayList<>();
            for (int c = 0; c < k; c++) {
                names.add(Integer.toString(c));
            }
            String name = "idx:" + d.getFileName();
            Dataset train = Idx.dataset(name, files[0], Idx.read(files[0]), files[1], trainLabels, names);
            Dataset test = Idx.dataset(name, files[2], Idx.read(files[2]), files[3], Idx.read(files[3]), names);
            if (train.imageWidth() != test.imageWidth() || train.imageHeight() != test.imageHeight()) {
                throw new DataFileException(files[2], train.imageWidth() + "x" + train.imageHeight() + " images like "
                        + files[0].getFileName(), test.imageWidth() + "x" + test.imageHeight());
            }
            return new Loaded(Resampling.resize(train, imageSize), Resampling.resize(test, imageSize), prov);
        }

        /** {@code dir/name} or {@code dir/name.gz}, exactly one of them. */
        private static Path oneOf(Path dir, String name) {
            Path plain = dir.resolve(name);
            Path gz = dir.resolve(name + ".gz");
            boolean p = Files.isRegularFile(plain);
            boolean g = Files.isRegularFile(gz);
            if (p && g) {
                throw new DataFileException(plain, "either " + name + " or " + name + ".gz",
                        "both (remove one so that it is clear which was read)");
            }
            if (!p && !g) {
                throw new DataFileException(plain, "an IDX file (or " + gz.getFileName() + ")", "no such file");
            }
            return p ? plain : gz;
        }

        private static int numClasses(Path file, Idx.IdxArray labels) {
            if (labels.dims().length != 1) {
                throw new DataFileException(file, "1 dimension (labels)", labels.dims().length + " dimensions");
            }
            int max = 0;
            for (int i = 0; i < labels.dim(0); i++) {
                max = Math.max(max, labels.unsigned(i));
            }
            int[] count = new int[max + 1];
            for (int i = 0; i < labels.dim(0); i++) {
                count[labels.unsigned(i)]++;
            }
            for (int c = 0; c <= max; c++) {
                if (count[c] == 0) {
                    throw new DataFileException(file, "every label 0.." + max + " at least once (classes are "
                            + "numbered from 0; the largest label is " + max + ")", "no example of label " + c);
                }
            }
            if (max == 0) {
                throw new DataFileException(file, "at least two classes", "only label 0");
            }
            return max + 1;
        }
    }

    /**
     * An image folder, {@code <dir>/train/<class>/*} and {@code <dir>/test/<class>/*}. Examples are
     * interleaved across classes (each class's first file, then its second...) so that a
     * {@code data.trainLimit} or {@code data.testLimit} prefix keeps every class; class folders'
     * sub-folders are not searched, other files (README, .DS_Store) are ignored.
     */
    record ImageFolder(Path dir) implements DataSource {
        @Override
        public String spec() {
            return "images:" + dir;
        }

        @Override
        public Loaded load(DataStore store, int imageSize) {
            return ImageFolders.load(existingDirectory(dir, "a directory holding train/<class>/ and test/<class>/ "
                    + "folders of PNG or JPEG images"), imageSize);
        }
    }

    private static Path existingDirectory(Path dir, String expected) {
        Path d = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(d)) {
            throw new DataFileException(d, expected, Files.exists(d) ? "not a directory" : "no such directory");
        }
        return d;
    }
}
