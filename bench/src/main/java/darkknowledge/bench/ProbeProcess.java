package darkknowledge.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The raw GEMM probe ({@link GemmProbe}) running in a child JVM on one BLAS library file: the same
 * JDK as this process ({@code ProcessHandle.current().info().command()}), a class path of the
 * bench's own classes only (the probe needs nothing but the JDK). It stays up between requests, so
 * the bench alternates rounds of it with its own measurements.
 */
final class ProbeProcess implements AutoCloseable {
    /**
     * A BLAS build to probe: a name for the tables, its Maven coordinates, the shared library that
     * exports {@code cblas_sgemm}, and the settings the child needs to load and thread it.
     */
    record Library(String name, String artifact, Path file, Map<String, String> environment) {
    }

    private final Library library;
    private final Process process;
    private final BufferedReader out;
    private final PrintStream in;
    private final Map<String, String> environment;
    private final List<String> transcript = new ArrayList<>();
    private String version = "unknown";
    private int threads = -1;

    private ProbeProcess(Library library) throws IOException {
        this.library = library;
        this.environment = library.environment();
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp",
                classes().toString(), GemmProbe.class.getName(), library.file().toString()).redirectErrorStream(true);
        pb.environment().putAll(environment);
        process = pb.start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        for (String line = readLine(); !line.equals("ready"); line = readLine()) {
            if (line.startsWith("version ")) {
                version = line.substring(8).strip();
            } else if (line.startsWith("threads ")) {
                threads = Integer.parseInt(line.substring(8).strip());
            }
        }
    }

    /**
     * Starts the probe on {@code library} with this process's environment plus the library's
     * settings, and waits for it to load the library.
     */
    static ProbeProcess start(Library library) {
        try {
            return new ProbeProcess(library);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the GEMM probe on " + library.artifact(), e);
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
        in.println(request);
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
        try {
            String line = out.readLine();
            if (line == null) {
                int code = process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
                throw new IllegalStateException("the GEMM probe on " + library.artifact() + " (class path "
                        + classes() + ", library " + library.file() + ") ended with exit code " + code + "; its output:\n"
                        + String.join("\n", transcript));
            }
            transcript.add(line);
            if (transcript.size() > 200) {
                transcript.remove(0);
            }
            return line.strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the GEMM probe's output", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the GEMM probe", e);
        }
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
        in.println("quit");
        in.close();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
