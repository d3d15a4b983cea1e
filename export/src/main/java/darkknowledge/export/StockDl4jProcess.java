package darkknowledge.export;

import darkknowledge.core.ChildProcess;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * An exported stock DL4J zip ({@link StockDl4j}) restored and run by DL4J alone: a child JVM (the same
 * JDK) whose class path is stock DL4J as Maven resolved it for this module — deeplearning4j-nn, ND4J's
 * CPU backend and its OpenBLAS, none of this project's modules (the build writes it to
 * {@value #CLASSPATH_RESOURCE}) — runs {@code StockDl4jLogits.java} (a resource, started by the JDK's
 * source launcher), which restores the zip with {@code ModelSerializer} and fails if any class of ours
 * is loadable. What it returns is what a DL4J user of the file gets.
 */
public final class StockDl4jProcess {
    static final String CLASSPATH_RESOURCE = "stock-dl4j.classpath";
    static final String SOURCE_RESOURCE = "StockDl4jLogits.java";
    /** Far above the seconds a test set takes; a hung child is killed rather than hanging the caller. */
    static final Duration TIMEOUT = Duration.ofMinutes(20);

    private StockDl4jProcess() {
    }

    /** Logits and probabilities of {@code rows} rows of {@code x} (row-major) from stock DL4J on {@code zip}. */
    public static Outputs run(Path zip, float[] x, int rows) {
        if (rows <= 0 || x.length % rows != 0) {
            throw new IllegalArgumentException(x.length + " values are not " + rows + " equal rows");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("dk-stock-dl4j");
            Path source = dir.resolve(SOURCE_RESOURCE);
            try (InputStream in = resource(SOURCE_RESOURCE)) {
                Files.copy(in, source);
            }
            Path input = dir.resolve("input.bin");
            Path output = dir.resolve("output.bin");
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(input)))) {
                out.writeInt(rows);
                out.writeInt(x.length / rows);
                for (float v : x) {
                    out.writeFloat(v);
                }
            }
            String javaBin = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            ChildProcess.of(javaBin, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                            "-Xmx2g", "-cp", String.join(java.io.File.pathSeparator, classPath()), source.toString(),
                            zip.toAbsolutePath().toString(), input.toString(), output.toString())
                    .unsetEnv(List.of("LD_PRELOAD")).mergeErrors().timeout(TIMEOUT).run().requireSuccess();
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(output)))) {
                int n = in.readInt();
                int classes = in.readInt();
                float[] logits = new float[n * classes];
                float[] probabilities = new float[n * classes];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = in.readFloat();
                }
                for (int i = 0; i < probabilities.length; i++) {
                    probabilities[i] = in.readFloat();
                }
                return new Outputs(n, classes, logits, probabilities);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run stock DL4J on " + zip, e);
        } finally {
            if (dir != null) {
                try {
                    darkknowledge.core.AtomicFiles.deleteTree(dir);
                } catch (IOException ignored) {
                    // a temporary directory left behind is harmless
                }
            }
        }
    }

    /** The stock DL4J jars, as the build resolved them; an error naming the resource when they are missing. */
    static List<String> classPath() {
        String text;
        try (InputStream in = resource(CLASSPATH_RESOURCE)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + CLASSPATH_RESOURCE, e);
        }
        List<String> jars = Arrays.stream(text.split(java.io.File.pathSeparator)).filter(s -> !s.isBlank()).toList();
        List<String> missing = jars.stream().filter(j -> !Files.isRegularFile(Path.of(j))).toList();
        if (jars.stream().noneMatch(j -> j.contains("deeplearning4j-nn")) || !missing.isEmpty()) {
            throw new IllegalStateException("the stock DL4J class path written by the build (" + CLASSPATH_RESOURCE
                    + ") lacks deeplearning4j-nn or names missing jars " + missing + "; rebuild the export module");
        }
        return jars;
    }

    private static InputStream resource(String name) {
        InputStream in = StockDl4jProcess.class.getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("resource " + name + " of the export module is missing; rebuild it");
        }
        return in;
    }
}
