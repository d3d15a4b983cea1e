package darkknowledge.kernels;

import darkknowledge.core.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The one place that knows which native libraries this process multiplies with: the BLAS JavaCPP
 * loads for ND4J ({@code org.bytedeco.openblas.load}; {@code ./dk} sets {@code mkl_rt}), Intel's
 * OpenMP runtime that MKL 2025 needs ({@link IntelOpenMp}), the MKL entry points our kernels call
 * through FFM ({@link Mkl}) and the CPU flags that decide which of them may run ({@link Cpu}).
 * oneDNN ({@link Dnnl}, for {@link DnnlConv}) is loaded from its jar by path, never through the class path.
 * {@code core} never loads a native library; a run's provenance gets these entries from here.
 */
public final class NativeLibraries {
    private NativeLibraries() {
    }

    /**
     * The BLAS behind ND4J's matrix products: JavaCPP's {@code org.bytedeco.openblas.load} ({@code
     * mkl_rt} = Intel MKL), else ND4J's bundled OpenBLAS.
     */
    public static String blas() {
        String load = System.getProperty("org.bytedeco.openblas.load");
        return load == null || load.isBlank() ? "openblas (bundled with ND4J)" : load;
    }

    /**
     * Makes the process ready for its first matrix product (Intel's OpenMP runtime global when ND4J
     * multiplies through MKL) and says how: call before ND4J's first product.
     */
    public static String prepare() {
        return IntelOpenMp.ensure();
    }

    /**
     * For a run's provenance: the CPU's model and flags ({@link Cpu#info()}), {@code native.blas}
     * ({@link #blas()}: ND4J's products), {@code native.gemm} (our kernels' fp32 products and why that
     * library, {@link Gemm#describe()}) and {@code native.openmp} (how Intel's OpenMP runtime got
     * loaded, or "not needed"). Prepares the process as {@link #prepare()} does.
     */
    public static SortedMap<String, String> describe() {
        SortedMap<String, String> p = new TreeMap<>(Cpu.info());
        p.put("native.blas", blas());
        p.put("native.openmp", prepare());
        p.put("native.gemm", Gemm.describe());
        return p;
    }

    /**
     * The entries of {@code jar} that {@code wanted} accepts, as files of one directory (their base
     * names): {@code into} if given, else {@code extractionDir("blas", jar)}. A file is reused only at the entry's size, and written aside and moved
     * in whole, so no process ever loads half a library.
     */
    public static Path extract(Path jar, Predicate<String> wanted, Path into) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            Path dir = into != null ? into : extractionDir("blas", jar);
            Files.createDirectories(dir);
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                if (e.isDirectory() || !wanted.test(e.getName())) {
                    continue;
                }
                Path file = dir.resolve(e.getName().substring(e.getName().lastIndexOf('/') + 1));
                if (Files.isRegularFile(file) && Files.size(file) == e.getSize()) {
                    continue;
                }
                Path tmp = Files.createTempFile(dir, "extract", ".tmp");
                try (InputStream in = zip.getInputStream(e)) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the native libraries of " + jar, e);
        }
    }

    /**
     * A {@code .properties} resource of this package that the kernels module's build filters (the jars
     * of oneDNN and OpenBLAS it fetched into the local repository); an error naming it when absent.
     */
    static Properties buildProperties(String name) {
        Properties p = new Properties();
        try (InputStream in = NativeLibraries.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("darkknowledge/kernels/" + name + " is missing from the kernels' "
                        + "classes: the kernels module's Maven build writes it");
            }
            p.load(new StringReader(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name, e);
        }
        return p;
    }

    /** Where the application jar of {@code spark-submit} keeps the native jars that are never on a class path. */
    public static final String PACKED = "darkknowledge/natives/";

    /**
     * The jar that property {@code key} of {@code p} names: packed into the application jar (resource
     * {@link #PACKED}{@code <file name>}, as {@code ./dk package} builds it for a cluster's workers,
     * which have no Maven repository), copied out once to the temporary folder; else the file the
     * build fetched into the local Maven repository (which the caller reports if it is missing).
     */
    static Path jar(Properties p, String key) {
        Path jar = Path.of(p.getProperty(key));
        String resource = PACKED + jar.getFileName();
        // the packed copy first: an application jar never reads the path of the machine it was built on
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return jar;
            }
            return written(in.readAllBytes(), "packed", jar.getFileName().toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + resource + " out of the application jar", e);
        }
    }

    /**
     * {@code bytes} as the file {@code name} in a directory of the temporary folder named by
     * {@code kind}, the user and the bytes' hash, written (atomically) unless a file there already
     * holds exactly these bytes: a file planted or left half-written under that name is replaced,
     * never loaded.
     */
    static Path written(byte[] bytes, String kind, String name) throws IOException {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "dk-" + kind + "-" + System.getProperty("user.name", "user")
                + "-" + Sha256.of(bytes).substring(0, 16));
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file) || Files.size(file) != bytes.length
                || !java.util.Arrays.equals(Files.readAllBytes(file), bytes)) {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, name, ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return file;
    }

    /**
     * The directory of the temporary folder where {@code jar}'s libraries are extracted: named by
     * {@code kind}, the user, and the jar's path, size and date, so a changed jar gets a new one.
     */
    public static Path extractionDir(String kind, Path jar) {
        try {
            String key = jar.toAbsolutePath() + " " + Files.size(jar) + " " + Files.getLastModifiedTime(jar);
            return Path.of(System.getProperty("java.io.tmpdir"), "dk-" + kind + "-" + System.getProperty("user.name", "user")
                    + "-" + Sha256.of(key.getBytes(StandardCharsets.UTF_8)).substring(0, 16));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + jar, e);
        }
    }
}
