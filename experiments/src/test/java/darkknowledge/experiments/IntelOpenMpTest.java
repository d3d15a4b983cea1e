package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ChildProcess;
import darkknowledge.kernels.IntelOpenMp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MKL 2025 under ND4J without {@code LD_PRELOAD} (a launcher other than dk, an IDE): a JVM that calls
 * {@link IntelOpenMp#ensure} first multiplies correctly; it loads the runtime from the class path.
 */
class IntelOpenMpTest {

    /** The child: ensure, then one product checked against a hand computation. */
    public static void main(String[] args) {
        System.out.println("openmp " + IntelOpenMp.ensure());
        INDArray a = Nd4j.create(new float[][] {{1, 2, 3}, {4, 5, 6}});
        INDArray b = Nd4j.create(new float[][] {{1, 0}, {0, 1}, {1, 1}});
        INDArray c = a.mmul(b);
        System.out.println("product " + (c.equalsWithEps(Nd4j.create(new float[][] {{4, 5}, {10, 11}}), 1e-6) ? "right" : "wrong " + c));
        System.out.println("present " + IntelOpenMp.present());
    }

    @Test
    void withoutThePreloadEnsureLoadsTheRuntimeAndMklMultiplies() {
        String java = ProcessHandle.current().info().command().orElse("java");
        ChildProcess.Result r = ChildProcess.of(java, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xmx512m", "-Dorg.bytedeco.openblas.load=mkl_rt",
                "-cp", System.getProperty("java.class.path"), IntelOpenMpTest.class.getName())
                .mergeErrors().unsetEnv(List.of("LD_PRELOAD")).env("OMP_NUM_THREADS", "1").env("MKL_NUM_THREADS", "1")
                .timeout(Duration.ofSeconds(120)).run();
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        List<String> lines = out.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("openmp dlopen ") && l.endsWith("libiomp5.so")), out);
        assertTrue(lines.contains("product right"), out);
        assertTrue(lines.contains("present true"), out);
    }

    @Test
    void anotherBlasNeedsNothing() {
        String before = System.getProperty("org.bytedeco.openblas.load");
        try {
            System.clearProperty("org.bytedeco.openblas.load");
            assertEquals("not needed", IntelOpenMp.ensure());
        } finally {
            if (before != null) {
                System.setProperty("org.bytedeco.openblas.load", before);
            }
        }
    }
}
