package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a run's provenance learns from the one place that loads native libraries. */
class NativeLibrariesTest {

    @Test
    void describeNamesTheCpuTheBlasAndHowIntelOpenMpWasLoaded() {
        var d = NativeLibraries.describe();
        for (String key : Set.of("cpu.model", "cpu.flag.avx512f", "cpu.flag.avx512_bf16", "cpu.flag.amx_bf16",
                "native.blas", "native.openmp", "native.gemm")) {
            assertTrue(d.containsKey(key), key + " missing from " + d);
        }
        assertEquals(NativeLibraries.blas(), d.get("native.blas"));
        assertEquals(Cpu.info().get("cpu.model"), d.get("cpu.model"));
        // the kernels' tests multiply through MKL with Intel's OpenMP preloaded (the pom's LD_PRELOAD)
        assertEquals("mkl_rt", d.get("native.blas"));
        assertTrue(d.get("native.openmp").startsWith("LD_PRELOAD"), d.get("native.openmp"));
        assertTrue(d.get("native.gemm").startsWith(Gemm.name() + " ("), d.get("native.gemm"));
    }

    @Test
    void theBlasIsNd4jsBundledOpenblasUnlessJavacppIsToldToLoadAnother() {
        String before = System.getProperty("org.bytedeco.openblas.load");
        try {
            System.clearProperty("org.bytedeco.openblas.load");
            assertEquals("openblas (bundled with ND4J)", NativeLibraries.blas());
            System.setProperty("org.bytedeco.openblas.load", "mkl_rt");
            assertEquals("mkl_rt", NativeLibraries.blas());
        } finally {
            if (before == null) {
                System.clearProperty("org.bytedeco.openblas.load");
            } else {
                System.setProperty("org.bytedeco.openblas.load", before);
            }
        }
    }
}
