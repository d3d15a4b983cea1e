package darkknowledge.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * How an artifact was made: git commit and dirty flag, JVM, library versions, machine, seeds,
 * dataset checksums, config hash and the hashes of its inputs (a student records its teachers).
 * Stored as sorted {@code key=value} pairs in {@code provenance.properties}.
 */
public final class Provenance {
    /** Libraries whose versions every run records: group, artifact. */
    private static final List<String[]> LIBRARIES = List.of(
            new String[] {"org.deeplearning4j", "deeplearning4j-nn"},
            new String[] {"org.nd4j", "nd4j-native"},
            new String[] {"org.bytedeco", "openblas"},
            new String[] {"org.bytedeco", "mkl"},
            new String[] {"com.github.haifengl", "smile-core"},
            new String[] {"org.apache.commons", "commons-math3"});

    private final SortedMap<String, String> entries = new TreeMap<>();

    private Provenance() {
    }

    /** An empty record (e.g. for an executor rebuilding a task's data, whose provenance the driver keeps). */
    public static Provenance empty() {
        return new Provenance();
    }

    /**
     * Captures the environment now: git state of {@code repoDir}, JVM, OS, cores, libraries. Pure
     * Java: the CPU flags and the native libraries loaded are added by the caller from the kernels
     * module ({@code NativeLibraries.describe()}), so that {@code core} never loads a native library.
     */
    public static Provenance capture(Path repoDir) {
        Provenance p = new Provenance();
        p.put("time.start", Instant.now().toString());
        p.put("git.commit", git(repoDir, "rev-parse", "HEAD"));
        String status = git(repoDir, "status", "--porcelain", "--untracked-files=no");
        p.put("git.dirty", status.equals("unknown") ? "unknown" : String.valueOf(!status.isBlank()));
        p.put("jvm.version", System.getProperty("java.runtime.version", "?"));
        p.put("jvm.vendor", System.getProperty("java.vendor", "?"));
        p.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        p.put("machine.cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
        p.put("machine.max_heap_mb", String.valueOf(Runtime.getRuntime().maxMemory() >> 20));
        p.put("env.OMP_NUM_THREADS", String.valueOf(System.getenv("OMP_NUM_THREADS")));
        p.put("env.MKL_NUM_THREADS", String.valueOf(System.getenv("MKL_NUM_THREADS")));
        p.put("env.MKL_THREADING_LAYER", String.valueOf(System.getenv("MKL_THREADING_LAYER")));
        for (String[] lib : LIBRARIES) {
            p.put("lib." + lib[1], libraryVersion(lib[0], lib[1]));
        }
        return p;
    }

    /** The repository directory: system property {@code dk.repo}, else the working directory. */
    public static Path repoDir() {
        return Path.of(System.getProperty("dk.repo", ".")).toAbsolutePath().normalize();
    }

    public Provenance put(String key, String value) {
        entries.put(key, value == null ? "" : value);
        return this;
    }

    public Provenance putAll(String prefix, java.util.Map<String, String> values) {
        values.forEach((k, v) -> put(prefix + k, v));
        return this;
    }

    public SortedMap<String, String> entries() {
        return Collections.unmodifiableSortedMap(entries);
    }

    /** The version in the jar's Maven metadata, or "absent" when the library is not on the classpath. */
    /** Jars without Maven metadata (Smile) name themselves in their manifest's Implementation-Title. */
    private static String manifestVersion(ClassLoader cl, String artifact) {
        if (cl == null) {
            return "absent";
        }
        try {
            var manifests = cl.getResources("META-INF/MANIFEST.MF");
            while (manifests.hasMoreElements()) {
                try (InputStream m = manifests.nextElement().openStream()) {
                    var attrs = new java.util.jar.Manifest(m).getMainAttributes();
                    if (artifact.equals(attrs.getValue("Implementation-Title"))
                            && attrs.getValue("Implementation-Version") != null) {
                        return attrs.getValue("Implementation-Version");
                    }
                }
            }
        } catch (IOException e) {
            return "unreadable";
        }
        return "absent";
    }

    public static String libraryVersion(String group, String artifact) {
        String resource = "META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        try (InputStream in = cl == null ? null : cl.getResourceAsStream(resource)) {
            if (in == null) {
                return manifestVersion(cl, artifact);
            }
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version", "?");
        } catch (IOException e) {
            return "unreadable";
        }
    }

    private static String git(Path repoDir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", repoDir.toString()));
        cmd.addAll(List.of(args));
        try {
            ChildProcess.Result r = ChildProcess.of(cmd).mergeErrors().timeout(Duration.ofSeconds(10)).run();
            return r.exitCode() == 0 ? r.output().trim() : "unknown";
        } catch (ChildProcess.Failure e) {
            return "unknown";  // no git, not a repository, hung: the record says so rather than failing the run
        }
    }
}
