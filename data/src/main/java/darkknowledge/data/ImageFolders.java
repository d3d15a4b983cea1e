package darkknowledge.data;

import darkknowledge.core.Sha256;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads an image folder, {@code <dir>/train/<class>/*.png|jpg|jpeg} and {@code <dir>/test/<class>/...}.
 * <ul>
 *   <li>Classes are the sub-folders of {@code train/} in sorted (code point) order, label = index;
 *       {@code test/} must have the same ones. Regular files beside the class folders and files of
 *       other types inside them (README, .DS_Store) are ignored; sub-folders of a class folder are
 *       not searched. Every class folder must hold at least one image.</li>
 *   <li>Pixels are scaled to [0, 1]. Grey PNG/JPEG samples are read as stored (not through the
 *       sRGB conversion of {@code BufferedImage.getRGB}, which brightens them); alpha is
 *       composited onto black. If every pixel of every image has R = G = B the set is grey (one
 *       channel), otherwise colour: three planes R, G, B per image ({@link Dataset}'s layout).</li>
 *   <li>Without {@code imageSize} all images must share one size; with it each is resized to
 *       {@code imageSize²} ({@link Resampling}).</li>
 *   <li>Examples are interleaved across classes (the first file of each class, then the second...),
 *       so that a prefix ({@code data.trainLimit}, {@code data.testLimit}) keeps every class.</li>
 *   <li>Provenance: {@code data.images.train} and {@code data.images.test}, each a SHA-256 over the
 *       split's image files in sorted order of relative path, each contributing its path (UTF-8,
 *       '/'-separated), a zero byte, its length (8 bytes) and its contents.</li>
 * </ul>
 */
final class ImageFolders {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

    private ImageFolders() {
    }

    /** A decoded image: {@code channels} planes of {@code width × height} values in [0, 1]. */
    private record Image(Path file, int width, int height, int channels, float[] planes) {
    }

    /** The files of one split: for each class (in class order) its image files, sorted. */
    private record Split(Path dir, List<String> classes, List<List<Path>> files) {
    }

    static DataSource.Loaded load(Path dir, int imageSize) {
        Split train = list(dir.resolve("train"), null);
        Split test = list(dir.resolve("test"), train);
        List<List<Image>> trainImages = decode(train, imageSize);
        List<List<Image>> testImages = decode(test, imageSize);
        boolean colour = anyColour(trainImages) || anyColour(testImages);
        int size = imageSize;
        Image reference = null;
        if (size == 0) {
            reference = trainImages.get(0).get(0);
            for (List<List<Image>> split : List.of(trainImages, testImages)) {
                for (List<Image> cls : split) {
                    for (Image im : cls) {
                        if (im.width != reference.width || im.height != reference.height) {
                            throw new DataFileException(im.file, reference.width + "x" + reference.height
                                    + " pixels like " + dir.relativize(reference.file)
                                    + " (set data.imageSize to resize images of mixed sizes)",
                                    im.width + "x" + im.height);
                        }
                    }
                }
            }
        }
        int width = size == 0 ? reference.width : size;
        int height = size == 0 ? reference.height : size;
        String name = "images:" + dir.getFileName();
        SortedMap<String, String> prov = new TreeMap<>();
        prov.put("data.images.train", sha256(train));
        prov.put("data.images.test", sha256(test));
        prov.put(DataSource.PROVENANCE_KEY, "images:" + dir);
        return new DataSource.Loaded(assemble(name, trainImages, train.classes, width, height, colour ? 3 : 1),
                assemble(name, testImages, train.classes, width, height, colour ? 3 : 1), prov);
    }

    /** The class folders of {@code splitDir} and their image files; the same classes as {@code like}. */
    private static Split list(Path splitDir, Split like) {
        if (!Files.isDirectory(splitDir)) {
            throw new DataFileException(splitDir, "a folder of class folders (" + splitDir.getFileName()
                    + "/<class>/*.png|jpg)", Files.exists(splitDir) ? "not a directory" : "no such directory");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(splitDir)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new DataFileException(splitDir, "a readable directory", e.toString(), e);
        }
        List<String> classes = classDirs.stream().map(p -> p.getFileName().toString()).toList();
        if (classes.isEmpty()) {
            throw new DataFileException(splitDir, "one folder per class holding its images", "no class folders");
        }
        if (like != null && !classes.equals(like.classes)) {
            List<String> missing = new ArrayList<>(like.classes);
            missing.removeAll(classes);
            List<String> extra = new ArrayList<>(classes);
            extra.removeAll(like.classes);
            throw new DataFileException(splitDir, "the class folders of " + like.dir + " " + like.classes,
                    classes + (missing.isEmpty() ? "" : "; missing " + missing) + (extra.isEmpty() ? "" : "; extra "
                    + extra));
        }
        List<List<Path>> files = new ArrayList<>();
        for (Path c : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.list(c)) {
                images = s.filter(Files::isRegularFile).filter(ImageFolders::isImage).sorted().toList();
            } catch (IOException e) {
                throw new DataFileException(c, "a readable directory", e.toString(), e);
            }
            if (images.isEmpty()) {
                throw new DataFileException(c, "at least one image (*.png, *.jpg, *.jpeg)", "none");
            }
            files.add(images);
        }
        return new Split(splitDir, classes, files);
    }

    private static boolean isImage(Path p) {
        String n = p.getFileName().toString();
        String lower = n.toLowerCase(Locale.ROOT);
        return !n.startsWith(".") && EXTENSIONS.stream().anyMatch(lower::endsWith);
    }

    /** The split's images, each resized to {@code size²} at once (to hold only the small copies) unless 0. */
    private static List<List<Image>> decode(Split split, int size) {
        List<List<Image>> out = new ArrayList<>();
        for (List<Path> cls : split.files) {
            List<Image> images = new ArrayList<>(cls.size());
            for (Path f : cls) {
                Image im = decode(f);
                if (size > 0 && (im.width != size || im.height != size)) {
                    im = new Image(f, size, size, im.channels,
                            Resampling.planes(im.planes, im.width, im.height, im.channels, size));
                }
                images.add(im);
            }
            out.add(images);
        }
        return out;
    }

    /** One image as planes in [0, 1]: one plane if every pixel is grey, else R, G, B. */
    static Image decode(Path file) {
        BufferedImage im;
        try {
            im = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new DataFileException(file, "a readable PNG or JPEG image", "undecodable (" + e.getMessage() + ")", e);
        }
        if (im == null) {
            throw new DataFileException(file, "a PNG or JPEG image", "a file no image reader recognises");
        }
        int w = im.getWidth();
        int h = im.getHeight();
        int n = w * h;
        ColorModel cm = im.getColorModel();
        Raster raster = im.getRaster();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // Grey (and grey + alpha): the samples as stored, scaled by the sample depth.
            float max = (1 << cm.getComponentSize(0)) - 1;
            float maxAlpha = cm.hasAlpha() ? (1 << cm.getComponentSize(cm.getNumComponents() - 1)) - 1 : 1;
            float[] grey = new float[n];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float a = cm.hasAlpha() ? raster.getSample(x, y, cm.getNumComponents() - 1) / maxAlpha : 1;
                    grey[y * w + x] = raster.getSample(x, y, 0) / max * a;
                }
            }
            return new Image(file, w, h, 1, grey);
        }
        float[] rgb = new float[3 * n];
        boolean grey = true;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int argb = im.getRGB(x, y);
                int a = cm.hasAlpha() ? argb >>> 24 : 255;
                int r = (argb >> 16) & 0xFF;
                int g = (argb >> 8) & 0xFF;
                int b = argb & 0xFF;
                grey &= r == g && g == b;
                int i = y * w + x;
                rgb[i] = r * a / (255f * 255f);
                rgb[n + i] = g * a / (255f * 255f);
                rgb[2 * n + i] = b * a / (255f * 255f);
            }
        }
        return grey ? new Image(file, w, h, 1, java.util.Arrays.copyOf(rgb, n)) : new Image(file, w, h, 3, rgb);
    }

    private static boolean anyColour(List<List<Image>> split) {
        return split.stream().flatMap(List::stream).anyMatch(im -> im.channels == 3);
    }

    /** The examples, interleaved across classes, with {@code channels} planes of {@code width × height}. */
    private static Dataset assemble(String name, List<List<Image>> byClass, List<String> classes, int width,
                                    int height, int channels) {
        int n = byClass.stream().mapToInt(List::size).sum();
        int d = channels * width * height;
        float[] x = new float[Math.multiplyExact(n, d)];
        int[] y = new int[n];
        int row = 0;
        for (int rank = 0; row < n; rank++) {
            for (int c = 0; c < byClass.size(); c++) {
                if (rank < byClass.get(c).size()) {
                    Image im = byClass.get(c).get(rank);
                    float[] planes = im.planes;
                    for (int ch = 0; ch < channels; ch++) {
                        // A grey image in a colour set is the same plane in R, G and B.
                        int from = im.channels == 1 ? 0 : ch;
                        System.arraycopy(planes, from * width * height, x, row * d + ch * width * height,
                                width * height);
                    }
                    y[row++] = c;
                }
            }
        }
        return new Dataset(name, x, y, n, d, classes.size(), width, height, channels, classes);
    }

    /** SHA-256 over the split's image files: relative path, 0, length, contents, in sorted path order. */
    private static String sha256(Split split) {
        List<Path> all = split.files.stream().flatMap(List::stream).sorted((a, b) -> relative(split.dir, a)
                .compareTo(relative(split.dir, b))).toList();
        Sha256 sha = Sha256.begin();
        byte[] buf = new byte[1 << 16];
        for (Path f : all) {
            sha.update(relative(split.dir, f).getBytes(StandardCharsets.UTF_8));
            sha.update(new byte[] {0});
            try (InputStream in = Files.newInputStream(f)) {
                sha.update(ByteBuffer.allocate(8).putLong(Files.size(f)).array());
                for (int r; (r = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, r);
                }
            } catch (IOException e) {
                throw new DataFileException(f, "a readable file", e.toString(), e);
            }
        }
        return sha.hex();
    }

    private static String relative(Path dir, Path file) {
        return dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }
}
