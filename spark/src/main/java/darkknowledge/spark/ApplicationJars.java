package darkknowledge.spark;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * What the driver ships to a cluster's executors ({@code SparkConf.setJars}): the project's own code,
 * i.e. every class directory on the classpath (packed into a jar, as Spark ships jars only) and every
 * {@code darkknowledge} jar. Third-party libraries (ND4J, DL4J, Smile, Spark itself) are the cluster's:
 * they are large (hundreds of MB with the native BLAS) and change rarely, so the cluster holds them
 * (scripts/cluster.sh links them into its {@code SPARK_HOME/jars}), while our code, which changes with
 * every commit, always comes from the driver and never from a stale copy on a long-lived cluster.
 */
final class ApplicationJars {
    private ApplicationJars() {
    }

    /** The jars to ship for {@code classpath} (entries separated by the path separator), packing directories into {@code packDir}. */
    static List<String> of(String classpath, Path packDir) {
        List<String> jars = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path p = Path.of(entry).toAbsolutePath().normalize();
            if (Files.isDirectory(p)) {
                jars.add(pack(p, packDir.resolve(jarName(p))).toString());
            } else if (p.toString().endsWith(".jar") && isOurs(p) && Files.isRegularFile(p)) {
                jars.add(p.toString());
            }
        }
        return jars;
    }

    /** Maven's local repository keeps our jars under {@code darkknowledge/<module>/}. */
    static boolean isOurs(Path jar) {
        return jar.toString().replace('\\', '/').contains("/darkknowledge/");
    }

    /** {@code core/target/classes} → {@code core-classes.jar}; {@code spark/target/test-classes} → {@code spark-test-classes.jar}. */
    static String jarName(Path dir) {
        Path parent = dir.getParent();
        String module = parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("target")
                && parent.getParent() != null && parent.getParent().getFileName() != null
                ? parent.getParent().getFileName().toString() : "dir" + Math.abs(dir.toString().hashCode());
        return module + "-" + dir.getFileName() + ".jar";
    }

    static Path pack(Path dir, Path jar) {
        try {
            Files.createDirectories(jar.getParent());
            Manifest mf = new Manifest();
            mf.getMainAttributes().putValue("Manifest-Version", "1.0");
            try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, mf);
                 Stream<Path> files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                    if (f.equals(dir)) {
                        continue;
                    }
                    String name = dir.relativize(f).toString().replace('\\', '/') + (Files.isDirectory(f) ? "/" : "");
                    if (name.equals("META-INF/") || name.equals("META-INF/MANIFEST.MF")) {
                        continue;
                    }
                    out.putNextEntry(new JarEntry(name));
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, out);
                    }
                    out.closeEntry();
                }
            }
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack " + dir + " into " + jar, e);
        }
    }
}
