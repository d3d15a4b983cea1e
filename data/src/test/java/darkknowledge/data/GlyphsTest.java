package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GlyphsTest {
    /** Fonts come from the shared data cache (fetched once by apt-get); sets go to a fresh directory. */
    private static final Fonts FONTS = Fonts.of(new DataStore(DataStore.defaultCacheDir()));
    private static final GlyphsConfig TINY = GlyphsConfig.tiny(200);

    @TempDir
    Path dir;

    @Test
    void level1IsThe3755CharactersOfGb2312InOrderWithTheNaturalConfusions() {
        List<String> all = Glyphs.level1();
        assertEquals(3755, all.size());
        assertEquals(3755, new HashSet<>(all).size());
        assertEquals("啊", all.get(0), "0xB0A1");
        assertEquals("座", all.get(3754), "0xD7F9");
        for (String c : List.of("己", "已", "未", "末", "土", "士", "日", "曰", "人", "入", "八")) {
            assertTrue(all.contains(c), c);
        }
        assertTrue(all.stream().allMatch(c -> c.length() == 1 && Character.isIdeographic(c.charAt(0))));
    }

    @Test
    void classSubsetIsSeededSortedAndNamedByItsCharacters() {
        int[] a = Glyphs.chooseClasses(TINY);
        assertArrayEquals(a, Glyphs.chooseClasses(TINY));
        assertEquals(200, a.length);
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, a);
        assertEquals(200, Arrays.stream(a).distinct().count());
        assertFalse(Arrays.equals(a, Glyphs.chooseClasses(TINY.withSeed(2))), "another seed, another subset");
        List<String> all = Glyphs.level1();
        assertEquals(Arrays.stream(a).mapToObj(all::get).toList(), Glyphs.characters(TINY));
        assertEquals(3755, Glyphs.chooseClasses(GlyphsConfig.defaults()).length);
    }

    @Test
    void tinySetIsDeterministicAcrossThreadsSplitByFaceAndReadBackFromTheCache() throws Exception {
        GlyphSet a = Glyphs.load(FONTS, dir.resolve("a"), TINY);
        // One worker instead of the common pool: the images must not depend on scheduling.
        GlyphSet b;
        ForkJoinPool one = new ForkJoinPool(1);
        try {
            b = one.submit(() -> Glyphs.load(FONTS, dir.resolve("b"), TINY)).get();
        } finally {
            one.shutdown();
        }
        assertEquals(a.sha256(), b.sha256());
        assertArrayEquals(a.train().pixels(), b.train().pixels());

        assertEquals(200, a.train().count());
        assertEquals(200, a.test().count());
        assertTrue(Arrays.stream(a.train().ofFace(Typeface.AR_PL_SUNGTI)).count() == 200);
        assertEquals(0, a.train().ofFace(Typeface.AR_PL_KAITI).length, "no test face in training");
        assertEquals(200, a.test().ofFace(Typeface.AR_PL_KAITI).length);
        assertEquals(200, a.seenTest().ofFace(Typeface.AR_PL_SUNGTI).length, "seen-typeface test: a training face");
        assertEquals(200, a.seenTestSet().numExamples());
        assertTrue(Arrays.stream(a.trainSet().classCounts()).allMatch(c -> c == 1));
        assertEquals(a.characters(), a.testSet().classNames());
        assertEquals(32, a.trainSet().imageWidth());
        assertEquals(a.sha256(), a.provenance().get("set.sha256"));
        assertEquals(Typeface.AR_PL_KAITI.expectedSha256(), a.provenance().get("font.ar_pl_kaiti.sha256"));
        assertEquals("200", a.provenance().get("config.classes"));
        assertEquals(String.join("", a.characters()), a.provenance().get("characters"));

        Object inode = Files.readAttributes(a.file(), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        GlyphSet again = Glyphs.load(FONTS, dir.resolve("a"), TINY);
        assertEquals(inode, Files.readAttributes(again.file(), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey(), "read back, not written again");
        assertEquals(a.provenance(), again.provenance());
        assertArrayEquals(a.test().pixels(), again.test().pixels());
        assertArrayEquals(a.test().labels(), again.test().labels());
        assertArrayEquals(a.seenTest().pixels(), again.seenTest().pixels());
        try (var files = Files.list(a.file().getParent())) {
            assertEquals(2, files.count(), "the set and its sidecar, no temporary files");
        }

        GlyphSet other = Glyphs.load(FONTS, dir.resolve("a"), TINY.withSeed(2));
        assertNotEquals(a.file(), other.file(), "another config, another cache entry");
    }

    @Test
    void seenTypefaceTestImagesAreOfTrainingFacesAndRepeatNoTrainingOrValidationDraw() {
        GlyphsConfig c = TINY.withClasses(30).withImagesPerFace(3, 1).withSeenTestImagesPerFace(2);
        GlyphSet s = Glyphs.load(FONTS, dir.resolve("a"), c);
        GlyphSet.Images seen = s.seenTest();
        assertEquals(30 * 2, seen.count());
        for (int i = 0; i < seen.count(); i++) {
            assertTrue(c.trainFaces().contains(seen.face(i)), "image " + i + " of face " + seen.face(i));
        }
        assertTrue(Arrays.stream(s.seenTestSet().classCounts()).allMatch(n -> n == 2), "two per class and face");
        // Pixel level: no seen-typeface image equals any training image (validation is carved from those)
        // or any unseen-face test image.
        int d = c.imageSize() * c.imageSize();
        java.util.Set<String> drawn = new HashSet<>();
        for (GlyphSet.Images part : List.of(s.train(), s.test())) {
            for (int i = 0; i < part.count(); i++) {
                drawn.add(Arrays.toString(Arrays.copyOfRange(part.pixels(), i * d, (i + 1) * d)));
            }
        }
        for (int i = 0; i < seen.count(); i++) {
            assertFalse(drawn.contains(Arrays.toString(Arrays.copyOfRange(seen.pixels(), i * d, (i + 1) * d))),
                    "seen-typeface image " + i + " repeats a training or test image");
        }
        // Seed level: the two streams share no seed over every face, many classes and far more images per
        // face than any preset draws.
        java.util.Set<Long> trainSeeds = new HashSet<>();
        java.util.Set<Long> seenSeeds = new HashSet<>();
        for (Typeface f : GlyphsConfig.defaults().allFaces()) {
            for (int cls = 0; cls < Glyphs.LEVEL1_SIZE; cls += 19) {
                for (int i = 0; i < 64; i++) {
                    trainSeeds.add(Glyphs.imageSeed(c, false, f, cls, i));
                    seenSeeds.add(Glyphs.imageSeed(c, true, f, cls, i));
                }
            }
        }
        int each = GlyphsConfig.defaults().allFaces().size() * ((Glyphs.LEVEL1_SIZE + 18) / 19) * 64;
        assertEquals(each, trainSeeds.size(), "distinct draws within the training stream");
        assertEquals(each, seenSeeds.size());
        seenSeeds.retainAll(trainSeeds);
        assertTrue(seenSeeds.isEmpty(), "seeds in both streams: " + seenSeeds);
        // Its own stream: the seen-typeface images do not move when the training set grows or shrinks.
        GlyphSet fewer = Glyphs.load(FONTS, dir.resolve("b"), c.withImagesPerFace(1, 1));
        assertArrayEquals(seen.pixels(), fewer.seenTest().pixels());
        for (int cls = 0; cls < 30; cls++) {  // and training image 0 of a class is the same in both
            assertArrayEquals(Arrays.copyOfRange(s.train().pixels(), 3 * cls * d, (3 * cls + 1) * d),
                    Arrays.copyOfRange(fewer.train().pixels(), cls * d, (cls + 1) * d), "class " + cls);
        }
        GlyphSet none = Glyphs.load(FONTS, dir.resolve("c"), c.withSeenTestImagesPerFace(0));
        assertEquals(0, none.seenTest().count());
        assertEquals(null, none.seenTestSet(), "no seen-typeface test set asked for");
        assertArrayEquals(s.train().pixels(), none.train().pixels(), "training images independent of the seen set");
        assertArrayEquals(s.test().pixels(), none.test().pixels());
    }

    @Test
    void freshDistortionsRedrawTheTrainingImagesPerSeedAndEpochOfTheSameFaceAndCharacter() {
        GlyphsConfig c = TINY.withClasses(20).withImagesPerFace(2, 1);
        GlyphSet s = Glyphs.load(FONTS, dir.resolve("a"), c);
        GlyphDistortions fresh = new GlyphDistortions(FONTS, s);
        int n = s.train().count();
        int d = c.imageSize() * c.imageSize();
        int[] all = java.util.stream.IntStream.range(0, n).toArray();
        float[] e0 = fresh.render(all, 11, 0);
        assertArrayEquals(e0, fresh.render(all, 11, 0), "a function of (seed, epoch, image)");
        float[] some = fresh.render(new int[] {7, 3}, 11, 0);
        assertArrayEquals(Arrays.copyOfRange(e0, 7 * d, 8 * d), Arrays.copyOfRange(some, 0, d), "whatever else is drawn");
        assertArrayEquals(Arrays.copyOfRange(e0, 3 * d, 4 * d), Arrays.copyOfRange(some, d, 2 * d));
        assertFalse(Arrays.equals(e0, fresh.render(all, 11, 1)), "another epoch, other images");
        assertFalse(Arrays.equals(e0, fresh.render(all, 12, 0)), "another net, other images");
        float[] cached = s.trainSet().features();
        for (int i = 0; i < n; i++) {
            assertFalse(Arrays.equals(Arrays.copyOfRange(e0, i * d, (i + 1) * d), Arrays.copyOfRange(cached, i * d,
                    (i + 1) * d)), "image " + i + " is redrawn, not the cached one");
        }
        // Without distortion every draw is the clean glyph: the fresh image i is the cached image i's face and
        // character exactly.
        GlyphsConfig clean = c.withDistortion(0, 0, 0, 0, 0, 0, 0);
        GlyphSet plain = Glyphs.load(FONTS, dir.resolve("b"), clean);
        assertArrayEquals(plain.trainSet().features(), new GlyphDistortions(FONTS, plain).render(all, 5, 3));
        var e = assertThrows(IndexOutOfBoundsException.class, () -> fresh.render(new int[] {n}, 1, 0));
        assertTrue(e.getMessage().contains("training image " + n), e.getMessage());
    }

    @Test
    void aCachedSetOfTheOldFormatIsRejectedNamingTheFileAndTheFormatExpected() throws IOException {
        GlyphsConfig c = TINY.withClasses(10);
        GlyphSet s = Glyphs.load(FONTS, dir, c);
        byte[] bytes = Files.readAllBytes(s.file());
        bytes[8 + 3] = 1;  // the format int after the 8-byte magic
        Files.write(s.file(), bytes);
        var e = assertThrows(DataFileException.class, () -> Glyphs.load(FONTS, dir, c));
        assertEquals(s.file(), e.file());
        assertTrue(e.getMessage().contains("format 2") && e.getMessage().contains("format 1 (no seen-typeface test set")
                && e.getMessage().contains("delete it"), e.getMessage());
    }

    @Test
    void imagesAreCentredInkOnDarkAndVaryWithinAClass() {
        GlyphsConfig c = TINY.withClasses(20).withImagesPerFace(3, 1);
        GlyphSet s = Glyphs.load(FONTS, dir, c);
        GlyphSet.Images train = s.train();
        int size = c.imageSize();
        double mx = 0;
        double my = 0;
        double total = 0;
        for (int i = 0; i < train.count(); i++) {
            for (int r = 0; r < size; r++) {
                for (int col = 0; col < size; col++) {
                    double v = train.pixel(i, r, col);
                    mx += v * col;
                    my += v * r;
                    total += v;
                }
            }
        }
        assertEquals((size - 1) / 2.0, mx / total, 1.5, "ink centred horizontally");
        assertEquals((size - 1) / 2.0, my / total, 1.5, "ink centred vertically");
        double meanInk = total / (train.count() * size * size);
        assertTrue(meanInk > 0.05 && meanInk < 0.5, "mostly dark background with bright strokes: " + meanInk);
        int d = size * size;
        assertFalse(Arrays.equals(Arrays.copyOfRange(train.pixels(), 0, d), Arrays.copyOfRange(train.pixels(), d, 2 * d)),
                "two images of one class and face differ");
        assertEquals(train.labels()[0], train.labels()[1]);
    }

    @Test
    void strokeWeightThickensAndThinsAndBlurKeepsInk() throws IOException {
        Path file = FONTS.ensure(Typeface.AR_PL_SUNGTI);
        var outline = GlyphRenderer.outline(FONTS.font(Typeface.AR_PL_SUNGTI), "国", Typeface.AR_PL_SUNGTI, file);
        GlyphRenderer r = new GlyphRenderer(32);
        byte[] out = new byte[32 * 32];
        SplittableRandom rng = new SplittableRandom(1);
        double plain = r.render(outline, GlyphRenderer.Distortion.NONE, rng, out, 0);
        double bold = r.render(outline, new GlyphRenderer.Distortion(1, 0, 0, 0, 0, 0.5, 0, 0), rng, out, 0);
        double thin = r.render(outline, new GlyphRenderer.Distortion(1, 0, 0, 0, 0, -0.25, 0, 0), rng, out, 0);
        double blurred = r.render(outline, new GlyphRenderer.Distortion(1, 0, 0, 0, 0, 0, 1, 0), rng, out, 0);
        assertTrue(bold > plain * 1.2 && thin < plain * 0.9, plain + " " + bold + " " + thin);
        assertEquals(plain, blurred, plain * 1e-9, "blur happens after the ink is counted");
    }

    @Test
    void corruptFontFileIsAClearErrorNamingTheFileAndTheExpectedHash() throws IOException {
        Path fonts = Files.createDirectories(dir.resolve("fonts"));
        Path victim = fonts.resolve(Typeface.AR_PL_SUNGTI.fileName());
        byte[] bytes = Files.readAllBytes(FONTS.ensure(Typeface.AR_PL_SUNGTI));
        bytes[bytes.length / 2] ^= 1;
        Files.write(victim, bytes);
        var e = assertThrows(DataFileException.class, () -> Glyphs.load(new Fonts(dir), dir, TINY));
        assertEquals(victim, e.file());
        assertTrue(e.getMessage().contains(victim.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("expected SHA-256 " + Typeface.AR_PL_SUNGTI.expectedSha256()), e.getMessage());
        assertFalse(Files.exists(dir.resolve("glyphs")), "nothing generated from a bad font");
    }

    @Test
    void corruptCachedSetIsReportedNotUsed() throws IOException {
        GlyphsConfig c = TINY.withClasses(10);
        GlyphSet s = Glyphs.load(FONTS, dir, c);
        byte[] bytes = Files.readAllBytes(s.file());
        bytes[bytes.length - 7] ^= 0x40;
        Files.write(s.file(), bytes);
        var e = assertThrows(DataFileException.class, () -> Glyphs.load(FONTS, dir, c));
        assertEquals(s.file(), e.file());
        assertTrue(e.getMessage().contains("expected SHA-256 " + s.sha256()), e.getMessage());
        Files.write(s.file(), Arrays.copyOf(bytes, bytes.length - 100));
        var truncated = assertThrows(DataFileException.class, () -> Glyphs.load(FONTS, dir, c));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
    }

    @Test
    void configRoundTripsThroughTheFlatKeysAndRejectsATestFaceInTraining() {
        GlyphsConfig c = TINY.withImageSize(28);
        Map<String, String> keys = Configs.write("glyphs", c);
        assertEquals("ar_pl_kaiti", keys.get("glyphs.testFaces"));
        assertEquals("200", keys.get("glyphs.classes"));
        Settings s = Settings.empty().overlay(keys, "test");
        assertEquals(c, Configs.read(s, "glyphs", GlyphsConfig.defaults()));

        Settings bad = Settings.empty().overlay(Map.of("glyphs.testFaces", "wqy-zenhei,noto_sans"), "--set");
        var e = assertThrows(ConfigException.class, () -> Configs.read(bad, "glyphs", GlyphsConfig.defaults()));
        assertTrue(e.getMessage().contains("glyphs.testFaces") && e.getMessage().contains("noto_sans"), e.getMessage());
        Settings unknown = Settings.empty().overlay(Map.of("glyphs.trainFaces", "comic_sans"), "--set");
        var u = assertThrows(ConfigException.class, () -> Configs.read(unknown, "glyphs", GlyphsConfig.defaults()));
        assertTrue(u.getMessage().contains("glyphs.trainFaces") && u.getMessage().contains("ar_pl_uming"), u.getMessage());
    }

    @Test
    void defaultSplitHoldsOutOneSongOneKaiAndOneHeiFace() {
        GlyphsConfig d = GlyphsConfig.defaults();
        assertEquals(11, d.allFaces().size(), "every design, once");
        assertEquals(List.of(Typeface.Style.SONG, Typeface.Style.KAI, Typeface.Style.HEI),
                d.testFaces().stream().map(Typeface::style).toList());
    }

    @Test
    void montageDrawsOneLabelledBandPerRowAsPng() throws IOException {
        GlyphSet s = Glyphs.load(FONTS, dir, TINY.withClasses(12));
        Path png = dir.resolve("montage.png");
        var style = GlyphMontage.Style.of(FONTS.font(Typeface.AR_PL_SUNGTI)).withSamples(s.testSet());
        GlyphMontage.writeRows(png, s.characters(), List.of(new GlyphMontage.Row("cluster 0", new int[] {0, 1, 2}),
                new GlyphMontage.Row("cluster 1", new int[] {3, 4, 5, 6, 7})), style);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(2 * 2 * 40 + 2 * 6 + 6, img.getHeight(), "two rows of a glyph band and a sample band");
        assertTrue(img.getWidth() > 5 * 40);
        int dark = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                dark += (img.getRGB(x, y) & 0xFF) < 128 ? 1 : 0;
            }
        }
        assertTrue(dark > 500, "glyphs and sample backgrounds were drawn: " + dark);

        Path pairs = dir.resolve("pairs.png");
        GlyphMontage.writePairs(pairs, s.characters(), List.of(new GlyphMontage.Pair(0, 1, "12%")),
                GlyphMontage.Style.of(FONTS.font(Typeface.AR_PL_KAITI)));
        assertEquals(40 + 12, ImageIO.read(pairs.toFile()).getHeight());
        assertThrows(IllegalArgumentException.class, () -> GlyphMontage.writeRows(png, s.characters(),
                List.of(new GlyphMontage.Row("bad", new int[] {12})), style));
    }

    /** Fetches every package (87 MB, Noto included) and renders each design's 3,755 glyphs once. */
    @Test
    @Tag("slow")
    void everyDesignDrawsEveryLevel1Character() throws IOException {
        GlyphRenderer r = new GlyphRenderer(32);
        byte[] out = new byte[32 * 32];
        for (Typeface t : Typeface.values()) {
            Path file = FONTS.ensure(t);
            for (String ch : Glyphs.level1()) {
                var outline = GlyphRenderer.outline(FONTS.font(t), ch, t, file);
                assertTrue(r.render(outline, GlyphRenderer.Distortion.NONE, null, out, 0) > 1, t + " " + ch);
            }
        }
    }
}
