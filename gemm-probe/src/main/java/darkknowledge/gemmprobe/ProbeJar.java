package darkknowledge.gemmprobe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;

/**
 * What a parent needs to run {@link GemmProbe} in a child JVM, without loading JavaCPP or MKL
 * itself: where this module's classes are, the class path Maven resolved for the probe's own MKL
 * build ({@code probe.classpath}, written at build time), and which builds those are
 * ({@code probe.properties}).
 */
public final class ProbeJar {
    /** The probe's main class, for {@code java -cp ... <MAIN>}. */
    public static final String MAIN = "darkknowledge.gemmprobe.GemmProbe";

    private ProbeJar() {
    }

    /** This module's jar (or classes directory in a reactor build). */
    public static Path location() {
        try {
            return Path.of(ProbeJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the gemm-probe classes", e);
        }
    }

    /** The JavaCPP and MKL jars of the probe's own build, as Maven resolved them ({@code File.pathSeparator}-joined). */
    public static String libraryClasspath() {
        return resource("probe.classpath").strip();
    }

    /** {@code mkl.artifact} and {@code javacpp.artifact}: the Maven coordinates of that class path's builds. */
    public static Properties builds() {
        Properties p = new Properties();
        try {
            p.load(new java.io.StringReader(resource("probe.properties")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static String resource(String name) {
        try (InputStream in = ProbeJar.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("darkknowledge/gemmprobe/" + name + " is missing from the gemm-probe "
                        + "jar: it is written by that module's Maven build (mvn -pl gemm-probe package)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " of the gemm-probe jar", e);
        }
    }
}
