package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@code data.source}: parsing, IDX directories and image folders written here, and every bad input. */
class DataSourceTest {
    private static final DataStore NO_STORE = new DataStore(Path.of("unused-cache"));

    @TempDir
    Path dir;

    // ---- parsing

    @Test
    void parsesEveryFormAndRoundTripsTheSpec() {
        assertEquals(new DataSource.Builtin(DatasetSource.MNIST), DataSource.parse("mnist"));
        assertEquals(new DataSource.Builtin(DatasetSource.FASHION_MNIST), DataSource.parse("fashion-mnist"));
        assertEquals(new DataSource.IdxDirectory(Path.of("/data/digits")), DataSource.parse("idx:/data/digits"));
        assertEquals(new DataSource.ImageFolder(Path.of("pets")), DataSource.parse("images:pets"));
        for (String s : List.of("mnist", "fashion-mnist", "idx:/a/b", "images:rel/dir")) {
            assertEquals(s, DataSource.parse(s).spec());
        }
    }

    @Test
    void unknownSourceNamesTheKeyAndTheAllowedForms() {
        for (String bad : List.of("cifar", "png:/x", "", "MNIST")) {
            var e = assertThrows(IllegalArgumentException.class, () -> DataSource.parse(bad));
            assertTrue(e.getMessage().contains("data.source") && e.getMessage().contains("idx:<dir>")
                    && e.getMessage().contains("images:<dir>") && e.getMessage().contains("fashion-mnist"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> DataSource.parse("images:"));
        assertTrue(e.getMessage().contains("data.source") && e.getMessage().contains("no directory"), e.getMessage());
    }

    // ---- IDX directories

    /** 3×2 images whose pixel p of image i is (10·i + p) / 255, labels as given. */
    private static byte[] images(int n) {
        byte[] px = new byte[n * 6];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (10 * (i / 6) + i % 6);
        }
        return idx(new int[] {n, 2, 3}, px);
    }

    private static byte[] labels(int... y) {
        byte[] b = new byte[y.length];
        for (int i = 0; i < y.length; i++) {
            b[i] = (byte) y[i];
        }
        return idx(new int[] {y.length}, b);
    }

    private static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        }
        return out.toByteArray();
    }

    /** A valid IDX directory: 5 training images of 3 classes, 3 test images; the test labels gzipped. */
    private Path idxDir() throws IOException {
        Path d = Files.createDirectories(dir.resolve("digits"));
        Files.write(d.resolve("train-images-idx3-ubyte"), images(5));
        Files.write(d.resolve("train-labels-idx1-ubyte"), labels(2, 0, 1, 2, 0));
        Files.write(d.resolve("t10k-images-idx3-ubyte"), images(3));
        Files.write(d.resolve("t10k-labels-idx1-ubyte.gz"), gzip(labels(1, 1, 0)));
        return d;
    }

    @Test
    void idxDirectoryLoadsPixelsLabelsAndClassesFromTheFiles() throws IOException {
        Path d = idxDir();
        DataSource.Loaded l = DataSource.parse("idx:" + d).load(NO_STORE, 0);
        Dataset train = l.train();
        assertEquals(5, train.numExamples());
        assertEquals(3, train.numClasses(), "classes = 1 + the largest training label");
        assertEquals(List.of("0", "1", "2"), train.classNames());
        assertEquals(List.of(3, 2, 1), List.of(train.imageWidth(), train.imageHeight(), train.imageChannels()));
        assertArrayEquals(new int[] {2, 0, 1, 2, 0}, train.labels());
        assertEquals((10 * 4 + 5) / 255f, train.features()[4 * 6 + 5], 1e-7f);
        assertArrayEquals(new int[] {1, 1, 0}, l.test().labels());
        assertEquals(DataStore.sha256(d.resolve("t10k-labels-idx1-ubyte.gz")),
                l.provenance().get("data.idx.t10k-labels-idx1-ubyte.gz"));
        assertEquals(DataStore.sha256(d.resolve("train-images-idx3-ubyte")),
                l.provenance().get("data.idx.train-images-idx3-ubyte"));
        assertEquals("idx:" + d, l.provenance().get(DataSource.PROVENANCE_KEY));
    }

    private void assertNamesFile(Path file, Executable load, String... phrases) {
        var e = assertThrows(DataFileException.class, load);
        assertEquals(file.toAbsolutePath().normalize(), e.file().toAbsolutePath().normalize(), e.getMessage());
        assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
        for (String p : phrases) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void idxTestLabelOutsideTheTrainingClassesNamesTheLabelFile() throws IOException {
        Path d = idxDir();
        Path f = d.resolve("t10k-labels-idx1-ubyte.gz");
        Files.write(f, gzip(labels(1, 3, 0)));
        assertNamesFile(f, () -> DataSource.parse("idx:" + d).load(NO_STORE, 0), "labels 0..2", "label 3 at position 1");
    }

    @Test
    void idxTrainingLabelsMustUseEveryClassFromZero() throws IOException {
        Path d = idxDir();
        Path f = d.resolve("train-labels-idx1-ubyte");
        Files.write(f, labels(1, 2, 1, 2, 1));
        assertNamesFile(f, () -> DataSource.parse("idx:" + d).load(NO_STORE, 0), "no example of label 0");
    }

    @Test
    void idxLabelCountMismatchNamesTheLabelFile() throws IOException {
        Path d = idxDir();
        Path f = d.resolve("train-labels-idx1-ubyte");
        Files.write(f, labels(2, 0, 1, 2));
        assertNamesFile(f, () -> DataSource.parse("idx:" + d).load(NO_STORE, 0), "5 labels", "found 4 labels");
    }

    @Test
    void idxTruncatedFileNamesIt() throws IOException {
        Path d = idxDir();
        Path f = d.resolve("t10k-images-idx3-ubyte");
        byte[] full = images(3);
        Files.write(f, Arrays.copyOf(full, full.length - 4));
        assertNamesFile(f, () -> DataSource.parse("idx:" + d).load(NO_STORE, 0), "truncated");
    }

    @Test
    void idxMissingOrDoubledFileNamesIt() throws IOException {
        Path d = idxDir();
        Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(labels(2, 0, 1, 2, 0)));
        assertNamesFile(d.resolve("train-labels-idx1-ubyte"), () -> DataSource.parse("idx:" + d).load(NO_STORE, 0),
                "both");
        Files.delete(d.resolve("train-labels-idx1-ubyte"));
        Files.delete(d.resolve("train-labels-idx1-ubyte.gz"));
        assertNamesFile(d.resolve("train-labels-idx1-ubyte"), () -> DataSource.parse("idx:" + d).load(NO_STORE, 0),
                "no such file");
        assertNamesFile(dir.resolve("nowhere"), () -> DataSource.parse("idx:" + dir.resolve("nowhere")).load(NO_STORE, 0),
                "no such directory");
    }

    // ---- image folders

    private static void png(Path file, int w, int h, int[] rgb, boolean grey) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage im = new BufferedImage(w, h, grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < w * h; i++) {
            if (grey) {
                im.getRaster().setSample(i % w, i / w, 0, rgb[i]);
            } else {
                im.setRGB(i % w, i / w, rgb[i]);
            }
        }
        String format = file.toString().endsWith(".png") ? "png" : "jpg";
        assertTrue(ImageIO.write(im, format, file.toFile()), format);
    }

    /** Grey values v, v+1, ... for a w×h image. */
    private static int[] ramp(int v, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = v + i;
        }
        return p;
    }

    /** Two classes "cat" and "ant" (sorted: ant = 0), grey 4×3 PNGs: 2 + 1 training, 1 + 1 test images. */
    private Path greyFolder() throws IOException {
        Path d = dir.resolve("pets");
        png(d.resolve("train/cat/a.png"), 4, 3, ramp(100, 12), true);
        png(d.resolve("train/cat/b.png"), 4, 3, ramp(120, 12), true);
        png(d.resolve("train/ant/z.png"), 4, 3, ramp(10, 12), true);
        png(d.resolve("test/cat/c.png"), 4, 3, ramp(200, 12), true);
        png(d.resolve("test/ant/y.png"), 4, 3, ramp(0, 12), true);
        Files.writeString(d.resolve("train/README.txt"), "ignored: not a class folder");
        Files.writeString(d.resolve("train/cat/notes.txt"), "ignored: not an image");
        return d;
    }

    @Test
    void greyImageFolderKeepsStoredValuesSortedClassesAndInterleavesThem() throws IOException {
        Path d = greyFolder();
        DataSource.Loaded l = DataSource.parse("images:" + d).load(NO_STORE, 0);
        Dataset train = l.train();
        assertEquals(List.of("ant", "cat"), train.classNames());
        assertEquals(List.of(4, 3, 1), List.of(train.imageWidth(), train.imageHeight(), train.imageChannels()));
        // ant/z, cat/a, then cat/b: each class's first file, then the second.
        assertArrayEquals(new int[] {0, 1, 1}, train.labels());
        assertEquals(10 / 255f, train.features()[0], 1e-7f);
        assertEquals(111 / 255f, train.features()[12 + 11], 1e-7f, "grey samples as stored, not sRGB-brightened");
        assertEquals(131 / 255f, train.features()[24 + 11], 1e-7f);
        assertArrayEquals(new int[] {0, 1}, l.test().labels());
        assertEquals(200 / 255f, l.test().features()[12], 1e-7f);
        assertEquals(64, l.provenance().get("data.images.train").length());
        assertEquals("images:" + d, l.provenance().get(DataSource.PROVENANCE_KEY));
    }

    @Test
    void folderHashCoversPathsAndContents() throws IOException {
        Path d = greyFolder();
        String before = DataSource.parse("images:" + d).load(NO_STORE, 0).provenance().get("data.images.train");
        assertEquals(before, DataSource.parse("images:" + d).load(NO_STORE, 0).provenance().get("data.images.train"));
        Files.move(d.resolve("train/cat/b.png"), d.resolve("train/cat/c.png"));
        String renamed = DataSource.parse("images:" + d).load(NO_STORE, 0).provenance().get("data.images.train");
        assertNotEquals(before, renamed);
        png(d.resolve("train/cat/c.png"), 4, 3, ramp(121, 12), true);
        assertNotEquals(renamed, DataSource.parse("images:" + d).load(NO_STORE, 0).provenance().get("data.images.train"));
    }

    @Test
    void colourImageBecomesThreePlanesAndGreyImagesAreRepeatedInEach() throws IOException {
        Path d = greyFolder();
        int[] rgb = new int[12];
        Arrays.fill(rgb, (200 << 16) | (100 << 8) | 50);
        png(d.resolve("train/ant/colour.png"), 4, 3, rgb, false);
        Dataset train = DataSource.parse("images:" + d).load(NO_STORE, 0).train();
        assertEquals(3, train.imageChannels());
        assertEquals(36, train.numFeatures());
        // rows: ant/colour, cat/a, ant/z, cat/b
        float[] x = train.features();
        assertEquals(200 / 255f, x[0], 1e-7f);
        assertEquals(100 / 255f, x[12], 1e-7f);
        assertEquals(50 / 255f, x[24], 1e-7f);
        for (int c = 0; c < 3; c++) {
            assertEquals(100 / 255f, x[36 + 12 * c], 1e-7f, "grey image cat/a, plane " + c);
        }
    }

    @Test
    void jpegImagesAreRead() throws IOException {
        Path d = dir.resolve("jpegs");
        int[] flat = new int[64];
        Arrays.fill(flat, 180);
        for (String f : List.of("train/a/1.jpg", "train/b/1.jpeg", "test/a/1.JPG", "test/b/1.jpg")) {
            png(d.resolve(f), 8, 8, flat, true);
        }
        Dataset test = DataSource.parse("images:" + d).load(NO_STORE, 0).test();
        assertEquals(2, test.numExamples());
        for (float v : test.features()) {
            assertEquals(180 / 255f, v, 3 / 255f, "JPEG is lossy; a flat grey survives within 3 levels");
        }
    }

    @Test
    void imageSizeResizesMixedSizesAndKeepsFlatImagesFlat() throws IOException {
        Path d = greyFolder();
        int[] flat = new int[81];
        Arrays.fill(flat, 90);
        png(d.resolve("train/ant/zz.png"), 9, 9, flat, true);
        assertNamesFile(d.resolve("train/ant/zz.png"), () -> DataSource.parse("images:" + d).load(NO_STORE, 0),
                "4x3 pixels like", "data.imageSize", "found 9x9");
        Dataset train = DataSource.parse("images:" + d).load(NO_STORE, 5).train();
        assertEquals(List.of(5, 5, 25), List.of(train.imageWidth(), train.imageHeight(), train.numFeatures()));
        // rows: ant/z, cat/a, ant/zz, cat/b
        for (int i = 0; i < 25; i++) {
            assertEquals(90 / 255f, train.features()[2 * 25 + i], 1e-6f, "a flat image stays flat");
        }
    }

    @Test
    void imageSizeResizesBuiltinShapedIdxToo() throws IOException {
        Path d = idxDir();
        Dataset train = DataSource.parse("idx:" + d).load(NO_STORE, 6).train();
        assertEquals(List.of(6, 6, 1), List.of(train.imageWidth(), train.imageHeight(), train.imageChannels()));
        assertEquals(5, train.numExamples());
    }

    @Test
    void missingFolderOrSplitNamesIt() throws IOException {
        assertNamesFile(dir.resolve("none"), () -> DataSource.parse("images:" + dir.resolve("none")).load(NO_STORE, 0),
                "no such directory");
        Path d = greyFolder();
        deleteTree(d.resolve("test"));
        assertNamesFile(d.resolve("test"), () -> DataSource.parse("images:" + d).load(NO_STORE, 0), "no such directory");
    }

    @Test
    void splitWithoutClassFoldersNamesIt() throws IOException {
        Path d = greyFolder();
        deleteTree(d.resolve("train/cat"));
        deleteTree(d.resolve("train/ant"));
        assertNamesFile(d.resolve("train"), () -> DataSource.parse("images:" + d).load(NO_STORE, 0), "no class folders");
    }

    @Test
    void classFolderWithoutImagesNamesIt() throws IOException {
        Path d = greyFolder();
        Files.createDirectories(d.resolve("train/bee"));
        Files.createDirectories(d.resolve("test/bee"));
        Files.writeString(d.resolve("train/bee/photo.gif"), "not a png or jpeg");
        assertNamesFile(d.resolve("train/bee"), () -> DataSource.parse("images:" + d).load(NO_STORE, 0),
                "at least one image", "none");
    }

    @Test
    void differentClassesInTestNameTheTestFolderAndTheDifference() throws IOException {
        Path d = greyFolder();
        Files.move(d.resolve("test/cat"), d.resolve("test/dog"));
        assertNamesFile(d.resolve("test"), () -> DataSource.parse("images:" + d).load(NO_STORE, 0),
                "missing [cat]", "extra [dog]");
    }

    @Test
    void corruptOrTruncatedImageNamesIt() throws IOException {
        Path d = greyFolder();
        Path junk = d.resolve("train/cat/junk.png");
        Files.writeString(junk, "this is no image");
        assertNamesFile(junk, () -> DataSource.parse("images:" + d).load(NO_STORE, 0), "PNG or JPEG");
        Files.delete(junk);
        Path cut = d.resolve("test/cat/c.png");
        byte[] png = Files.readAllBytes(cut);
        Files.write(cut, Arrays.copyOf(png, png.length / 2));
        assertNamesFile(cut, () -> DataSource.parse("images:" + d).load(NO_STORE, 0), "PNG or JPEG");
    }

    // ---- pieces

    @Test
    void resamplingKeepsAConstantAndAveragesWhenShrinking() {
        float[] checker = new float[64];
        for (int i = 0; i < 64; i++) {
            checker[i] = ((i % 8) + (i / 8)) % 2;
        }
        float[] small = Resampling.planes(checker, 8, 8, 1, 4);
        for (float v : small) {
            assertEquals(0.5f, v, 0.13f, "a 2x-shrunk checkerboard is grey, not aliased to 0 or 1");
        }
        float[] flat = new float[2 * 6];
        Arrays.fill(flat, 0.25f);
        for (float v : Resampling.planes(flat, 3, 2, 2, 7)) {
            assertEquals(0.25f, v, 1e-6f);
        }
    }

    @Test
    void jitterShiftsEveryChannelPlaneAlike() {
        Jitter j = new Jitter(5, 5, 2);
        float[] img = new float[50];
        for (int i = 0; i < 25; i++) {
            img[i] = i + 1;
            img[25 + i] = -(i + 1);
        }
        INDArray batch = Nd4j.createFromArray(img).reshape('c', 1, 50).repeat(0, 20);
        j.apply(batch, new SplittableRandom(3));
        for (int r = 0; r < 20; r++) {
            float[] row = batch.getRow(r).toFloatVector();
            for (int i = 0; i < 25; i++) {
                assertEquals(row[i], -row[25 + i], 0f, "row " + r + " pixel " + i);
            }
        }
    }

    @Test
    void datasetChecksItsImageShape() {
        var ok = new Dataset("c", new float[12], new int[] {0, 1}, 2, 6, 2, 2, 1, 3, List.of("a", "b"));
        assertEquals("2x1x3", ok.imageShape());
        assertEquals(1, new Dataset("g", new float[4], new int[] {0, 1}, 2, 2, 2, 2, 1, List.of("a", "b")).imageChannels());
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Dataset("c", new float[12], new int[] {0, 1}, 2, 6, 2, 2, 1, 2, List.of("a", "b")));
        assertTrue(e.getMessage().contains("2x1x2"), e.getMessage());
    }

    private static void deleteTree(Path root) throws IOException {
        try (var s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void builtinSourceGivesTheVerifiedSetsAndTheirChecksums() {
        DataStore store = IdxTest.store();
        DataSource.Loaded l = DataSource.parse("mnist").load(store, 0);
        assertEquals(60000, l.train().numExamples());
        assertEquals(1, l.train().imageChannels());
        assertEquals(DatasetSource.MNIST.expectedSha256("t10k-labels-idx1-ubyte"),
                l.provenance().get("data.mnist.t10k-labels-idx1-ubyte"));
        assertInstanceOf(DataSource.Builtin.class, DataSource.parse("fashion-mnist"));
    }
}
