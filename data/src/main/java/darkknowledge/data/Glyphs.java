package darkknowledge.data;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.Seeds;
import java.awt.Font;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code glyphs} data set: the 3,755 Chinese characters of GB2312 level 1 (the class set of the
 * CASIA handwriting benchmarks) rendered from real typefaces ({@link Typeface}) under seeded
 * distortions ({@link GlyphRenderer}), with two test sets: the <em>unseen typefaces</em>, faces that
 * never appear in training (a domain shift), and the <em>seen typefaces</em>, the training faces under
 * distortions drawn from a seed stream of their own (i.i.d. with the training images, the regime of
 * JFT's test set). It is the many-class problem with natural, unplanted confusions (己/已/巳, 未/末, 土/士,
 * 日/曰) that the specialists of Hinton et al. (2015, §5) are for.
 *
 * <p>Generated once and cached as {@code <data dir>/glyphs/<key>.bin} with a sidecar
 * {@code <key>.properties}; the key hashes the config, the generator's version and the font files'
 * hashes, so a changed input gives a new file and an unchanged one is read back. Both files are
 * written by atomic rename, the sidecar last; the sidecar records the {@code .bin}'s SHA-256, which is
 * checked on every read.
 *
 * <p>Image i of a face is a function of (seed, face, character, i) only, never of the thread that drew
 * it or of which other classes were chosen: a smaller set's images are those of the larger one.
 * Training (and so validation) and unseen-face test images draw their distortions from the stream
 * {@value #IMAGE_STREAM}, seen-typeface test images from {@value #SEEN_STREAM}: streams derived from
 * different names ({@link Seeds#derive}), so no seen-typeface image repeats a training draw whatever
 * {@code trainImagesPerFace} is, and its images stay the same when that count changes.
 */
public final class Glyphs {
    /** Number of GB2312 level-1 characters. */
    public static final int LEVEL1_SIZE = 3755;
    /** Changes whenever the generator would draw different images for the same config. */
    static final String GENERATOR = "glyphs-1";
    /** The seed stream of the training and unseen-face test images' distortions. */
    static final String IMAGE_STREAM = "glyphs.image";
    /** The seed stream of the seen-typeface test images' distortions: no training image draws from it. */
    static final String SEEN_STREAM = "glyphs.seen";
    /** The cached file's layout version: 2 has the seen-typeface test images as a third part. */
    static final int FORMAT = 2;
    private static final byte[] MAGIC = "DKGLYPHS".getBytes(StandardCharsets.US_ASCII);
    private static final Logger LOG = LoggerFactory.getLogger(Glyphs.class);

    private Glyphs() {
    }

    /**
     * The 3,755 level-1 characters in GB2312 order, decoded by Java's {@code GB2312} charset from rows
     * 0xB0–0xD7 and columns 0xA1–0xFE, without 0xD7FA–0xD7FE (unassigned).
     */
    public static List<String> level1() {
        var decoder = Charset.forName("GB2312").newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        List<String> out = new ArrayList<>(LEVEL1_SIZE);
        for (int row = 0xB0; row <= 0xD7; row++) {
            for (int col = 0xA1; col <= 0xFE; col++) {
                if (row == 0xD7 && col >= 0xFA) {
                    continue;
                }
                try {
                    out.add(decoder.decode(java.nio.ByteBuffer.wrap(new byte[] {(byte) row, (byte) col})).toString());
                } catch (CharacterCodingException e) {
                    throw new IllegalStateException(String.format("GB2312 does not decode 0x%02X%02X", row, col), e);
                }
            }
        }
        if (out.size() != LEVEL1_SIZE) {
            throw new IllegalStateException("GB2312 level 1 decoded to " + out.size() + " characters, not " + LEVEL1_SIZE);
        }
        return List.copyOf(out);
    }

    /**
     * Indices into {@link #level1()} of the classes of {@code config}: all of them, or a subset drawn by
     * a seeded permutation, in GB2312 order.
     */
    public static int[] chooseClasses(GlyphsConfig config) {
        if (config.classes() == LEVEL1_SIZE) {
            return IntStream.range(0, LEVEL1_SIZE).toArray();
        }
        int[] perm = Sampling.permutation(LEVEL1_SIZE, new Seeds(config.seed()).derive("glyphs.classes"));
        int[] chosen = Arrays.copyOf(perm, config.classes());
        Arrays.sort(chosen);
        return chosen;
    }

    /** The set for {@code config}, from the cache beside {@code store}'s datasets or generated there. */
    public static GlyphSet load(DataStore store, GlyphsConfig config) {
        return load(Fonts.of(store), store.cacheDir(), config);
    }

    /** The set for {@code config}, read from {@code dataDir/glyphs} or generated into it. */
    public static GlyphSet load(Fonts fonts, Path dataDir, GlyphsConfig config) {
        SortedMap<String, String> inputs = inputs(fonts, config);
        String key = darkknowledge.core.Sha256.of(Configs.toText(inputs)).substring(0, 16);
        Path dir = dataDir.toAbsolutePath().resolve("glyphs");
        Path bin = dir.resolve(key + ".bin");
        Path side = dir.resolve(key + ".properties");
        if (Files.isRegularFile(side) && Files.isRegularFile(bin)) {
            SortedMap<String, String> recorded = readProperties(side);
            return read(bin, config, recorded);
        }
        long start = System.nanoTime();
        List<String> characters = characters(config);
        Generated g = generate(fonts, config);
        double seconds = (System.nanoTime() - start) / 1e9;
        String sha = write(bin, config, characters, List.of(g.train, g.test, g.seenTest));
        SortedMap<String, String> provenance = new TreeMap<>(inputs);
        provenance.put("characters", String.join("", characters));
        provenance.put("characters.sha256", darkknowledge.core.Sha256.of(String.join("", characters)));
        provenance.put("set.sha256", sha);
        provenance.put("set.file", bin.getFileName().toString());
        provenance.put("set.train_images", String.valueOf(g.train.count()));
        provenance.put("set.test_images", String.valueOf(g.test.count()));
        provenance.put("set.seen_test_images", String.valueOf(g.seenTest.count()));
        provenance.put("set.seen_test_stream", SEEN_STREAM);
        provenance.put("set.generated_by_jvm", System.getProperty("java.runtime.version", "?"));
        provenance.put("set.generation_seconds", String.format(java.util.Locale.ROOT, "%.1f", seconds));
        AtomicFiles.writeString(side, Configs.toText(provenance));
        LOG.info("glyphs: {} training + {} unseen-face test + {} seen-face test images of {} classes in {} s -> {}",
                g.train.count(), g.test.count(), g.seenTest.count(), characters.size(),
                String.format(java.util.Locale.ROOT, "%.1f", seconds), bin);
        return new GlyphSet(config, characters, g.train, g.test, g.seenTest, sha, bin, provenance);
    }

    /** The class names of {@code config}: its chosen characters. */
    public static List<String> characters(GlyphsConfig config) {
        List<String> all = level1();
        return Arrays.stream(chooseClasses(config)).mapToObj(all::get).toList();
    }

    /** What the set depends on: generator version, config and every used font file's hash. */
    private static SortedMap<String, String> inputs(Fonts fonts, GlyphsConfig config) {
        SortedMap<String, String> in = new TreeMap<>(Configs.write("config", config));
        in.remove("config.freshEachEpoch");  // how nets are fed the set, not what is in it
        in.put("set.generator", GENERATOR);
        in.put("set.oversample", String.valueOf(GlyphRenderer.OVERSAMPLE));
        in.put("set.em_fraction", String.valueOf(GlyphRenderer.EM_FRACTION));
        in.put("set.bright_share", String.valueOf(GlyphRenderer.BRIGHT_SHARE));
        for (Typeface t : config.allFaces()) {
            String p = "font." + t.id() + ".";
            in.put(p + "file", t.fileName());
            in.put(p + "sha256", fonts.sha256(t));
            in.put(p + "face", t.faceName());
            in.put(p + "package", t.debianPackage() + "=" + t.version());
        }
        return in;
    }

    private record Generated(GlyphSet.Images train, GlyphSet.Images test, GlyphSet.Images seenTest) {
    }

    /**
     * The seed of image {@code i} of class {@code level1Index} in {@code face}: from {@link #SEEN_STREAM}
     * for a seen-typeface test image, else from {@link #IMAGE_STREAM}.
     */
    static long imageSeed(GlyphsConfig config, boolean seenTest, Typeface face, int level1Index, int i) {
        return new Seeds(config.seed()).derive(seenTest ? SEEN_STREAM : IMAGE_STREAM, face.ordinal(), level1Index, i);
    }

    /**
     * Renders every image; (face, class) pairs are independent tasks spread over the common pool. A
     * training face's task also renders its seen-typeface test images, from their own stream.
     */
    static Generated generate(Fonts fonts, GlyphsConfig config) {
        int[] classes = chooseClasses(config);
        List<String> all = level1();
        int size = config.imageSize();
        List<Typeface> faces = config.allFaces();
        Font[] font = new Font[faces.size()];
        Path[] file = new Path[faces.size()];
        for (int f = 0; f < faces.size(); f++) {
            font[f] = fonts.font(faces.get(f));
            file[f] = fonts.ensure(faces.get(f));
        }
        int nTrainFaces = config.trainFaces().size();
        GlyphSet.Images train = allocate(config, nTrainFaces, config.trainImagesPerFace());
        GlyphSet.Images test = allocate(config, faces.size() - nTrainFaces, config.testImagesPerFace());
        GlyphSet.Images seenTest = allocate(config, nTrainFaces, config.seenTestImagesPerFace());
        ThreadLocal<GlyphRenderer> renderers = ThreadLocal.withInitial(() -> new GlyphRenderer(size));
        int k = classes.length;
        LOG.info("glyphs: rendering {} classes in {} faces at {}x{}", k, faces.size(), size, size);
        IntStream.range(0, faces.size() * k).parallel().forEach(task -> {
            int f = task / k;
            int c = task % k;
            boolean isTrain = f < nTrainFaces;
            Typeface face = faces.get(f);
            String ch = all.get(classes[c]);
            GlyphRenderer.Outline outline = GlyphRenderer.outline(font[f], ch, face, file[f]);
            GlyphRenderer renderer = renderers.get();
            if (isTrain) {
                draw(config, renderer, outline, train, config.trainImagesPerFace(), f, k, c, classes[c], face, false,
                        file[f], ch);
                draw(config, renderer, outline, seenTest, config.seenTestImagesPerFace(), f, k, c, classes[c], face,
                        true, file[f], ch);
            } else {
                draw(config, renderer, outline, test, config.testImagesPerFace(), f - nTrainFaces, k, c, classes[c],
                        face, false, file[f], ch);
            }
        });
        return new Generated(train, test, seenTest);
    }

    /**
     * Renders the {@code perFace} images of class {@code c} (of {@code k}; {@code level1Index} in GB2312
     * level 1) in the face at {@code faceSlot} of {@code into}.
     */
    private static void draw(GlyphsConfig config, GlyphRenderer renderer, GlyphRenderer.Outline outline,
                             GlyphSet.Images into, int perFace, int faceSlot, int k, int c, int level1Index,
                             Typeface face, boolean seenTest, Path file, String ch) {
        int size = config.imageSize();
        for (int i = 0; i < perFace; i++) {
            int row = (faceSlot * k + c) * perFace + i;
            SplittableRandom r = new SplittableRandom(imageSeed(config, seenTest, face, level1Index, i));
            double ink = renderer.render(outline, GlyphRenderer.Distortion.draw(config, r), r, into.pixels(),
                    row * size * size);
            if (!(ink > 0)) {
                throw new DataFileException(file, face.faceName() + " to draw ink for " + ch, "a blank image");
            }
            into.labels()[row] = c;
            into.faces()[row] = (byte) face.ordinal();
        }
    }

    private static GlyphSet.Images allocate(GlyphsConfig config, int faces, int perFace) {
        int n = Math.multiplyExact(Math.multiplyExact(faces, config.classes()), perFace);
        int size = config.imageSize();
        return new GlyphSet.Images(size, new byte[Math.multiplyExact(n, size * size)], new int[n], new byte[n]);
    }

    /*
     * File layout (big-endian): "DKGLYPHS", int format 2, int imageSize, int classes, int byte count and
     * the UTF-8 class characters; then for train, unseen-face test and seen-face test: int count, count
     * labels (u16), count face ordinals (u8), count·imageSize² pixels (u8). Format 1 (before the
     * seen-typeface test set) had the first two parts only.
     */

    private static String write(Path bin, GlyphsConfig config, List<String> characters, List<GlyphSet.Images> parts) {
        MessageDigest md = sha256();
        AtomicFiles.write(bin, raw -> {
            DataOutputStream out = new DataOutputStream(new DigestOutputStream(raw, md));
            out.write(MAGIC);
            out.writeInt(FORMAT);
            out.writeInt(config.imageSize());
            out.writeInt(characters.size());
            byte[] chars = String.join("", characters).getBytes(StandardCharsets.UTF_8);
            out.writeInt(chars.length);
            out.write(chars);
            for (GlyphSet.Images images : parts) {
                out.writeInt(images.count());
                byte[] labels = new byte[2 * images.count()];
                for (int i = 0; i < images.count(); i++) {
                    labels[2 * i] = (byte) (images.labels()[i] >>> 8);
                    labels[2 * i + 1] = (byte) images.labels()[i];
                }
                out.write(labels);
                out.write(images.faces());
                out.write(images.pixels());
            }
            out.flush();
        });
        return HexFormat.of().formatHex(md.digest());
    }

    private static GlyphSet read(Path bin, GlyphsConfig config, SortedMap<String, String> recorded) {
        String expected = recorded.get("set.sha256");
        if (expected == null) {
            throw new DataFileException(bin.resolveSibling(bin.getFileName().toString().replace(".bin", ".properties")),
                    "a set.sha256 entry", "none (delete both files to generate the set again)");
        }
        MessageDigest md = sha256();
        int k = config.classes();
        int size = config.imageSize();
        try (InputStream raw = Files.newInputStream(bin);
             DataInputStream in = new DataInputStream(new BufferedInputStream(new DigestInputStream(raw, md), 1 << 16))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new DataFileException(bin, "a glyphs file (DKGLYPHS, format " + FORMAT + ")", "another header");
            }
            int format = in.readInt();
            if (format != FORMAT) {
                throw new DataFileException(bin, "a glyphs file of format " + FORMAT + " (training, unseen-face test "
                        + "and seen-face test images)", "format " + format + (format == 1 ? " (no seen-typeface test "
                        + "set: written before it existed)" : "") + "; delete it and its .properties to generate the "
                        + "set again");
            }
            int fileSize = in.readInt();
            int fileClasses = in.readInt();
            if (fileSize != size || fileClasses != k) {
                throw new DataFileException(bin, k + " classes of " + size + "x" + size,
                        fileClasses + " classes of " + fileSize + "x" + fileSize);
            }
            byte[] chars = new byte[in.readInt()];
            in.readFully(chars);
            List<String> characters = new String(chars, StandardCharsets.UTF_8).codePoints()
                    .mapToObj(Character::toString).toList();
            List<GlyphSet.Images> parts = new ArrayList<>();
            int trainFaces = config.trainFaces().size();
            long[] expectedCounts = {(long) trainFaces * k * config.trainImagesPerFace(),
                (long) config.testFaces().size() * k * config.testImagesPerFace(),
                (long) trainFaces * k * config.seenTestImagesPerFace()};
            String[] partNames = {"training", "unseen-face test", "seen-face test"};
            for (int p = 0; p < expectedCounts.length; p++) {
                int n = in.readInt();
                if (n != expectedCounts[p] || (long) n * size * size > Integer.MAX_VALUE) {
                    throw new DataFileException(bin, expectedCounts[p] + " " + partNames[p] + " images",
                            String.valueOf(n));
                }
                byte[] labelBytes = new byte[2 * n];
                in.readFully(labelBytes);
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) {
                    labels[i] = ((labelBytes[2 * i] & 0xFF) << 8) | (labelBytes[2 * i + 1] & 0xFF);
                    if (labels[i] >= k) {
                        throw new DataFileException(bin, "labels 0.." + (k - 1), "label " + labels[i]);
                    }
                }
                byte[] faces = new byte[n];
                in.readFully(faces);
                byte[] pixels = new byte[n * size * size];
                in.readFully(pixels);
                parts.add(new GlyphSet.Images(size, pixels, labels, faces));
            }
            if (in.read() != -1) {
                throw new DataFileException(bin, "the end of the file after the seen-face test images", "trailing bytes");
            }
            String found = HexFormat.of().formatHex(md.digest());
            if (!found.equals(expected)) {
                throw new DataFileException(bin, "SHA-256 " + expected, "SHA-256 " + found
                        + " (delete it to generate the set again)");
            }
            if (!characters.equals(characters(config))) {
                throw new DataFileException(bin, "the classes " + config.classes() + " chosen by seed "
                        + config.seed(), "other characters");
            }
            return new GlyphSet(config, characters, parts.get(0), parts.get(1), parts.get(2), found, bin, recorded);
        } catch (EOFException e) {
            throw new DataFileException(bin, "a complete glyphs file", "end of file (truncated)", e);
        } catch (IOException e) {
            throw new DataFileException(bin, "a readable glyphs file", e.toString(), e);
        }
    }

    private static SortedMap<String, String> readProperties(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new DataFileException(file, "a readable properties file", e.toString(), e);
        }
        SortedMap<String, String> m = new TreeMap<>();
        p.stringPropertyNames().forEach(key -> m.put(key, p.getProperty(key)));
        return m;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
