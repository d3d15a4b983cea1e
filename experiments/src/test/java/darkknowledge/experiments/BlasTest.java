package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Provenance;
import darkknowledge.kernels.NativeLibraries;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The BLAS that dk selects is the one ND4J multiplies with, and its products are right. */
class BlasTest {

    @Test
    void theConfiguredBlasIsLoadedAndItsProductsMatchADoublePrecisionReference() {
        Nd4j.getRandom().setSeed(1);
        int n = 67;
        int k = 301;
        int m = 45;
        INDArray a = Nd4j.randn(DataType.FLOAT, n, k);
        INDArray b = Nd4j.randn(DataType.FLOAT, k, m).dup('f');
        INDArray c = a.mmul(b);
        INDArray dw = Nd4j.create(DataType.FLOAT, new long[] {k, m}, 'f');
        Nd4j.gemm(a, c, dw, true, false, 1.0, 0.0);  // the weight-gradient layout: aᵀ c into an 'f' array
        float[][] af = a.toFloatMatrix();
        float[][] bf = b.toFloatMatrix();
        float[][] cf = c.toFloatMatrix();
        double worst = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double ref = 0;
                double scale = 0;  // Σ|terms|: float rounding error is bounded relative to it
                for (int t = 0; t < k; t++) {
                    ref += (double) af[i][t] * bf[t][j];
                    scale += Math.abs((double) af[i][t] * bf[t][j]);
                }
                worst = Math.max(worst, Math.abs(ref - cf[i][j]) / scale);
            }
        }
        assertTrue(worst < 1e-5, "a·b differs from the double-precision product by " + worst);
        double worstDw = 0;
        for (int t = 0; t < k; t += 7) {
            for (int j = 0; j < m; j++) {
                double ref = 0;
                double scale = 0;
                for (int i = 0; i < n; i++) {
                    ref += (double) af[i][t] * cf[i][j];
                    scale += Math.abs((double) af[i][t] * cf[i][j]);
                }
                worstDw = Math.max(worstDw, Math.abs(ref - dw.getDouble(t, j)) / scale);
            }
        }
        assertTrue(worstDw < 1e-5, "aᵀ·c differs by " + worstDw);
        String configured = System.getProperty("org.bytedeco.openblas.load");
        if (configured != null) {
            assertEquals(configured, NativeLibraries.blas());
            assertTrue(org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet().stream().anyMatch(l -> l.contains(configured)),
                    configured + " is not among JavaCPP's loaded libraries: "
                            + org.bytedeco.javacpp.Loader.getLoadedLibraries().keySet());
        }
        if ("mkl_rt".equals(configured)) {
            // the build's MKL (pom: mkl.version), on Intel's OpenMP runtime made global before the first product
            String version = System.getProperty("dk.mkl.version");
            String loaded = org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet().stream()
                    .filter(e -> e.getKey().startsWith("mkl_rt")).map(e -> e.getValue()).findFirst().orElseThrow();
            assertTrue(version != null && loaded.contains("mkl-" + version), "mkl_rt loaded from " + loaded
                    + ", expected the build's org.bytedeco:mkl:" + version);
            assertTrue(darkknowledge.kernels.IntelOpenMp.present(), "Intel's OpenMP runtime is not global");
            assertTrue(darkknowledge.kernels.IntelOpenMp.ensure().startsWith("LD_PRELOAD"),
                    "the tests preload it (surefire's LD_PRELOAD): " + darkknowledge.kernels.IntelOpenMp.ensure());
        }
    }
}
