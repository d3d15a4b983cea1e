package darkknowledge.data;

import java.awt.Font;
import java.awt.FontFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import darkknowledge.core.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The font files of the {@link Typeface}s, cached under {@code <data dir>/fonts} the way
 * {@link DataStore} caches Fashion-MNIST: a missing file is taken from the installed package if its
 * checksum matches, else fetched with {@code apt-get download <package>=<version>} and
 * {@code dpkg-deb -x}; every file's SHA-256 is checked before it is moved (atomically) into the cache,
 * so the cache never holds a half-written or unverified file. A cached file whose checksum is wrong
 * is reported with the expected hash, never silently replaced.
 */
public final class Fonts {
    private static final Logger LOG = LoggerFactory.getLogger(Fonts.class);
    private static final Path INSTALLED_ROOT = Path.of("/");

    private final Path dir;
    private final Map<Typeface, String> verified = new EnumMap<>(Typeface.class);
    private final Map<Typeface, Font> faces = new EnumMap<>(Typeface.class);

    /** Fonts cached in {@code dataDir/fonts}. */
    public Fonts(Path dataDir) {
        this.dir = dataDir.toAbsolutePath().resolve("fonts");
    }

    /** The fonts beside {@code store}'s datasets. */
    public static Fonts of(DataStore store) {
        return new Fonts(store.cacheDir());
    }

    public Path directory() {
        return dir;
    }

    /** Makes sure {@code face}'s file is cached and verified; returns it. */
    public synchronized Path ensure(Typeface face) {
        Path file = dir.resolve(face.fileName());
        if (verified.containsKey(face)) {
            return file;
        }
        if (!Files.isRegularFile(file)) {
            fetch(face.debianPackage(), face.version());
        }
        verified.put(face, DataStore.verify(file, face.expectedSha256(), "delete it to fetch it again"));
        return file;
    }

    /** SHA-256 of {@code face}'s verified file, for provenance. */
    public String sha256(Typeface face) {
        ensure(face);
        synchronized (this) {
            return verified.get(face);
        }
    }

    /** The face of {@code face}'s file at size 1 (derive the size you need). */
    public synchronized Font font(Typeface face) {
        Font f = faces.get(face);
        if (f != null) {
            return f;
        }
        Path file = ensure(face);
        Font[] inFile;
        try {
            inFile = Font.createFonts(file.toFile());
        } catch (FontFormatException | IOException e) {
            throw new DataFileException(file, "a TrueType/OpenType font file", e.toString(), e);
        }
        List<String> names = new ArrayList<>();
        for (Font candidate : inFile) {
            names.add(candidate.getFontName(java.util.Locale.ROOT));
            if (candidate.getFontName(java.util.Locale.ROOT).equals(face.faceName())) {
                f = candidate;
            }
        }
        if (f == null) {
            throw new DataFileException(file, "a face named '" + face.faceName() + "'", "faces " + names);
        }
        faces.put(face, f);
        return f;
    }

    /** Installs every missing cached file that {@code debianPackage} holds. */
    private void fetch(String debianPackage, String version) {
        List<Typeface> wanted = new ArrayList<>();
        for (Typeface t : Typeface.values()) {
            if (t.debianPackage().equals(debianPackage) && !Files.isRegularFile(dir.resolve(t.fileName()))
                    && wanted.stream().noneMatch(w -> w.fileName().equals(t.fileName()))) {
                wanted.add(t);
            }
        }
        try {
            Files.createDirectories(dir);
            Path work = Files.createTempDirectory(dir, ".fetch-" + debianPackage + "-");
            try {
                Path root = installedCopies(wanted) ? INSTALLED_ROOT : download(work, debianPackage, version);
                for (Typeface t : wanted) {
                    Path src = root.resolve(t.pathInPackage());
                    if (!Files.isRegularFile(src)) {
                        throw new DataFileException(src, "file " + t.fileName() + " in package " + debianPackage
                                + "=" + version, "no such file");
                    }
                    DataStore.verify(src, t.expectedSha256(), "the package does not hold the expected font");
                    Path staged = work.resolve(".staged-" + t.fileName());
                    Files.copy(src, staged);
                    AtomicFiles.moveAtomically(staged, dir.resolve(t.fileName()));
                }
            } finally {
                darkknowledge.core.AtomicFiles.deleteTree(work);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + debianPackage + "=" + version + " into " + dir, e);
        }
    }

    /** True if the package is installed with exactly the expected files. */
    private static boolean installedCopies(List<Typeface> wanted) {
        for (Typeface t : wanted) {
            Path p = INSTALLED_ROOT.resolve(t.pathInPackage());
            if (!Files.isRegularFile(p) || !DataStore.sha256(p).equals(t.expectedSha256())) {
                return false;
            }
        }
        LOG.info("fonts: using the installed {}", wanted.stream().map(Typeface::fileName).toList());
        return true;
    }

    private static Path download(Path work, String debianPackage, String version) throws IOException {
        String pinned = debianPackage + "=" + version;
        LOG.info("fetching fonts: apt-get download {}", pinned);
        try {
            DataStore.run(work, List.of("apt-get", "download", pinned), "apt-get");
        } catch (IllegalStateException first) {
            LOG.info("apt-get download failed; refreshing the package lists (apt-get update) and retrying");
            DataStore.run(work, List.of("apt-get", "update", "-qq"), "apt-get update");
            DataStore.run(work, List.of("apt-get", "download", pinned), "apt-get");
        }
        Path deb;
        try (Stream<Path> s = Files.list(work)) {
            deb = s.filter(p -> p.getFileName().toString().endsWith(".deb")).findFirst()
                    .orElseThrow(() -> new DataFileException(work, "a .deb written by apt-get download " + pinned,
                            "none"));
        }
        Path root = work.resolve("root");
        DataStore.run(work, List.of("dpkg-deb", "-x", deb.getFileName().toString(), root.toString()), "dpkg-deb");
        return root;
    }
}
