package darkknowledge.bench;

import darkknowledge.core.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The raw GEMM probe ({@link GemmProbe}) running in a child JVM on one BLAS library file: the same
 * JDK as this process ({@code ProcessHandle.current().info().command()}), a class path of the
 * bench's own classes only (the probe needs nothing but the JDK). It stays up between requests, so
 * the bench alternates rounds of it with its own measurements. A probe that stops
 * answering for {@link #REPLY_TIMEOUT} is killed and fails the bench, rather than hanging it.
 */
final class ProbeProcess implements AutoCloseable {
    /**
     * A BLAS build to probe: a name for the tables, its Maven coordinates, the shared library that
     * exports {@code cblas_sgemm}, and the settings the child needs to load and thread it.
     */
    record Library(String name, String artifact, Path file, Map<String, String> environment) {
    }

    /** Far above a request's time (best of 3 timings of about 2 GFLOP per product) or MKL's loading. */
    static final Duration REPLY_TIMEOUT = Duration.ofMinutes(10);

    private final Library library;
    private final ChildProcess.Running process;
    private final Map<String, String> environment;
    private final List<String> transcript = new ArrayList<>();
    private String version = "unknown";
    private int threads = -1;

    private ProbeProcess(Library library) {
        this.library = library;
        this.environment = library.environment();
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        process = ChildProcess.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
                classes().toString(), GemmProbe.class.getName(), library.file().toString())
                .environment(env -> env.putAll(environment)).start();
        try {
            for (String line = readLine(); !line.equals("ready"); line = readLine()) {
                if (line.startsWith("version ")) {
                    version = line.substring(8).strip();
                } else if (line.startsWith("threads ")) {
                    threads = Integer.parseInt(line.substring(8).strip());
                }
            }
        } catch (RuntimeException e) {
            process.close();  // nobody else holds it yet
            throw e;
        }
    }

    /**
     * Starts the probe on {@code library} with this process's environment plus the library's
     * settings, and waits for it to load the library.
     */
    static ProbeProcess start(Library library) {
        try {
            return new ProbeProcess(library);
        } catch (ChildProcess.StartFailure e) {
            throw new UncheckedIOException("cannot start the GEMM probe on " + library.artifact(), (IOException) e.getCause());
        }
    }

    Library library() {
        return library;
    }

    /** The version string the library reports of itself ({@code MKL_Get_Version_String}, {@code openblas_get_config}). */
    String version() {
        return version;
    }

    /** The threads the library will use ({@code MKL_Get_Max_Threads}, {@code openblas_get_num_threads}). */
    int threads() {
        return threads;
    }

    /** The settings given to the child on top of this process's environment. */
    Map<String, String> environment() {
        return environment;
    }

    /**
     * Seconds per call of each product in {@code bf16} (bfloat16 operands, fp32 accumulation) or
     * fp32, best of 3 timings of about {@code flopPerTiming} each.
     */
    Map<GemmCeiling.Product, Double> secondsPerCall(boolean bf16, double flopPerTiming, List<GemmCeiling.Product> products) {
        StringBuilder request = new StringBuilder(bf16 ? "bf16" : "fp32").append(' ').append(flopPerTiming);
        products.forEach(p -> request.append(' ').append(p.spec()));
        process.input().println(request);
        Map<String, Double> bySpec = new LinkedHashMap<>();
        for (String line = readLine(); !line.equals("done"); line = readLine()) {
            String[] f = line.split(" ");
            if (f.length == 2 && f[0].contains(":")) {
                bySpec.put(f[0], Double.parseDouble(f[1]));
            }
        }
        Map<GemmCeiling.Product, Double> seconds = new LinkedHashMap<>();
        for (GemmCeiling.Product p : products) {
            Double s = bySpec.get(p.spec());
            if (s == null) {
                throw new IllegalStateException("the GEMM probe on " + library.artifact() + " gave no time for " + p.spec()
                        + "; its output: " + String.join("\n", transcript));
            }
            seconds.put(p, s);
        }
        return seconds;
    }

    private String readLine() {
        String line;
        try {
            line = process.readLine(REPLY_TIMEOUT);
        } catch (ChildProcess.TimedOut e) {
            throw new IllegalStateException("the GEMM probe on " + library.artifact() + " gave no reply within "
                    + REPLY_TIMEOUT.toMinutes() + " min and was killed; its output:\n" + String.join("\n", transcript), e);
        }
        if (line == null) {
            int code;
            try {
                code = process.await(Duration.ofSeconds(10));
            } catch (ChildProcess.Failure e) {
                code = -1;
            }
            throw new IllegalStateException("the GEMM probe on " + library.artifact() + " (class path "
                    + classes() + ", library " + library.file() + ") ended with exit code " + code + "; its output:\n"
                    + String.join("\n", transcript));
        }
        transcript.add(line);
        if (transcript.size() > 200) {
            transcript.remove(0);
        }
        return line.strip();
    }

    /** The bench's classes (its jar, or its classes directory in a reactor build): the probe's class path. */
    static Path classes() {
        try {
            return Path.of(GemmProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException("cannot locate the bench's classes for the GEMM probe", e);
        }
    }

    @Override
    public void close() {
        process.input().println("quit");
        process.input().close();
        try {
            process.await(Duration.ofSeconds(10));
        } catch (ChildProcess.Failure e) {
            // killed: it did not quit in time, or we were interrupted (the flag stays set)
        } finally {
            process.close();
        }
    }
}

