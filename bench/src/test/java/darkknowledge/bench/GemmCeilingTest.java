package darkknowledge.bench;

import darkknowledge.kernels.Cpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The raw GEMM probes: a training step's products, and both BLAS libraries (MKL, ND4J's build;
 * OpenBLAS), each in its own child JVM, giving sane rates, the ceiling the faster of the two, and bf16
 * measured exactly where the CPU has bf16 units.
 */
class GemmCeilingTest {

    @Test
    void aTrainingStepHasEachLayersForwardAndBothGradientProducts() {
        List<GemmCeiling.Product> step = GemmCeiling.trainingStep(List.of(784, 800, 800, 10), 128);
        assertEquals(9, step.size());
        assertEquals(new GemmCeiling.Product("fwd", 128, 800, 784, false, false), step.get(0));
        assertEquals(new GemmCeiling.Product("dW", 784, 800, 128, true, false), step.get(1));
        assertEquals(new GemmCeiling.Product("dX", 128, 784, 800, false, true), step.get(2));
        assertEquals("128x784x800:NT", step.get(2).spec());
        // 6 flop per weight per example: what the training rows count as effective work
        long weights = 784 * 800 + 800 * 800 + 800 * 10;
        assertEquals(6.0 * weights * 128, step.stream().mapToDouble(GemmCeiling.Product::flop).sum(), 1e-6);
    }

    @Test
    void bf16IsMeasuredWhereEitherBf16FlagIsSetAndOtherwiseSaysWhy() {
        assertNull(GemmCeiling.bf16Unsupported(Map.of("cpu.flag.avx512_bf16", "true", "cpu.flag.amx_bf16", "false")));
        assertNull(GemmCeiling.bf16Unsupported(Map.of("cpu.flag.avx512_bf16", "false", "cpu.flag.amx_bf16", "true")));
        assertTrue(GemmCeiling.bf16Unsupported(Map.of("cpu.flag.avx512_bf16", "false", "cpu.flag.amx_bf16", "false"))
                .startsWith("not supported on this CPU"));
        assertTrue(GemmCeiling.bf16Unsupported(Map.of("cpu.flag.avx512_bf16", "unknown", "cpu.flag.amx_bf16", "unknown"))
                .contains("unknown"));
        assertEquals("MKL 2025.0", GemmCeiling.name("org.bytedeco:mkl:2025.0-1.5.11"));
        assertEquals("OpenBLAS 0.3.31", GemmCeiling.name("org.bytedeco:openblas:0.3.31-1.5.13"));
    }

    @Test
    void mklAndOpenblasGiveAPositiveFp32RateTheCeilingIsTheFasterAndBf16FollowsTheCpuFlags() {
        Path cpuinfo = Cpu.CPUINFO;
        List<GemmCeiling.Product> small = List.of(new GemmCeiling.Product("fwd", 64, 96, 80, false, false),
                new GemmCeiling.Product("dW", 80, 96, 64, true, false));
        try (GemmCeiling ceiling = GemmCeiling.start(cpuinfo, 1e6)) {
            GemmCeiling.Round round = ceiling.measure(small);
            assertEquals(Math.max(GemmCeiling.gflops(round.mkl()), GemmCeiling.gflops(round.openblas())),
                    GemmCeiling.gflops(round.best()));
            for (var rates : List.of(round.mkl(), round.openblas())) {
                assertEquals(small, List.copyOf(rates.keySet()));
                // a measured time per call and so a rate; how fast is the bench's to say, not a test's
                // (a busy machine is slower)
                rates.values().forEach(s -> assertTrue(s > 0 && Double.isFinite(s), "seconds per call " + rates));
                double gflops = GemmCeiling.gflops(rates);
                assertTrue(gflops > 0 && Double.isFinite(gflops), "fp32 " + gflops + " GFLOP/s");
            }
            String why = GemmCeiling.bf16Unsupported(Cpu.info(cpuinfo));
            assertEquals(why, ceiling.bf16Unsupported());
            if (why == null) {
                assertNotNull(round.bf16());
                assertEquals(small, List.copyOf(round.bf16().keySet()));
                double gflops = GemmCeiling.gflops(round.bf16());
                assertTrue(gflops > 0 && Double.isFinite(gflops), "bf16 " + gflops + " GFLOP/s");
            } else {
                assertNull(round.bf16());
            }
            var p = ceiling.provenance();
            String build = System.getProperty("dk.mkl.version");  // the pom's mkl.version, which ND4J trains on
            assertTrue(p.get("gemm.mkl.version").contains(build.substring(0, 4)), p.toString());
            assertEquals("org.bytedeco:mkl:" + build, p.get("gemm.mkl.artifact"));
            assertTrue(p.get("gemm.openblas.version").startsWith("OpenBLAS"), p.toString());
            assertTrue(p.get("gemm.openblas.artifact").startsWith("org.bytedeco:openblas:"), p.toString());
            assertEquals(why == null ? "measured" : why, p.get("gemm.bf16"));
            assertTrue(ceiling.mkl().threads() >= 1, p.toString());
            assertTrue(ceiling.openblas().threads() >= 1, p.toString());
        }
    }
}
