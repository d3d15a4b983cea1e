package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two BLAS libraries our kernels can multiply with, and how one of them is chosen. */
class GemmTest {

    @Test
    void bothLibrariesComputeTheSameProductsAsADoubleReferenceWithEveryTranspose() {
        for (Cblas lib : new Cblas[] {Mkl.library(), OpenBlas.library()}) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    double err = maxRelativeError(lib, ta, tb, 37, 41, 29);
                    assertTrue(err < 1e-5, lib.name() + " ta=" + ta + " tb=" + tb + ": relative error " + err);
                }
            }
        }
    }

    @Test
    void openblasReportsItsBuildThreadsAndTheCoreTypeItWasGiven() {
        Cblas o = OpenBlas.library();
        assertTrue(o.name().startsWith("OpenBLAS 0.3."), o.name());
        assertTrue(o.version().contains("DYNAMIC_ARCH"), o.version());
        assertTrue(o.threads() >= 1, o.toString());
        String core = OpenBlas.coreType(Cpu.info());
        if (core != null && System.getenv("OPENBLAS_CORETYPE") == null) {
            assertTrue(o.version().contains("OPENBLAS_CORETYPE=" + core), o.version());
        }
    }

    @Test
    void openblasIsToldItsAvx512KernelsOnAmdAndLeftToDetectElsewhere() {
        assertEquals("COOPERLAKE", OpenBlas.coreType(Map.of("cpu.model", "AMD EPYC",
                "cpu.flag.avx512f", "true", "cpu.flag.avx512_bf16", "true")));
        assertEquals("SKYLAKEX", OpenBlas.coreType(Map.of("cpu.model", "AMD EPYC 9004",
                "cpu.flag.avx512f", "true", "cpu.flag.avx512_bf16", "false")));
        assertNull(OpenBlas.coreType(Map.of("cpu.model", "AMD EPYC 7003",
                "cpu.flag.avx512f", "false", "cpu.flag.avx512_bf16", "false")));
        assertNull(OpenBlas.coreType(Map.of("cpu.model", "Intel(R) Xeon(R) Processor",
                "cpu.flag.avx512f", "true", "cpu.flag.avx512_bf16", "true")));
    }

    @Test
    void aMissingOpenblasJarIsNamedWithTheBuildThatFetchesIt(@TempDir Path dir) {
        var p = new java.util.Properties();
        p.setProperty("openblas.artifact", "org.bytedeco:openblas:0.3.31-1.5.13");
        p.setProperty("openblas.jar", dir.resolve("openblas-0.3.31-1.5.13-linux-x86_64.jar").toString());
        var e = assertThrows(IllegalStateException.class, () -> OpenBlas.load(p, Cpu.info()));
        assertTrue(e.getMessage().contains("openblas-0.3.31-1.5.13-linux-x86_64.jar")
                && e.getMessage().contains("mvn -pl kernels package"), e.getMessage());
    }

    @Test
    void theChoiceIsAutoMklOrOpenblasAndAnythingElseIsNamedWithWhereItCameFrom() {
        assertEquals(Gemm.Choice.AUTO, Gemm.choice(null, "x"));
        assertEquals(Gemm.Choice.AUTO, Gemm.choice(" ", "x"));
        assertEquals(Gemm.Choice.MKL, Gemm.choice("MKL", "x"));
        assertEquals(Gemm.Choice.OPENBLAS, Gemm.choice("openblas ", "x"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.choice("atlas", "the environment variable DK_BLAS"));
        assertEquals("the environment variable DK_BLAS=atlas is not a BLAS this project can multiply with: "
                + "expected auto, mkl or openblas", e.getMessage());
    }

    @Test
    void autoProbesOnceThenReadsItsCacheAndPicksTheFasterOfTheMeasuredRates(@TempDir Path cache) throws Exception {
        // cached however busy the machine is (the test is about the cache, not the load)
        Gemm.Decision first = Gemm.decide(Gemm.Choice.AUTO, cache, 1);
        assertTrue(first.reason().contains("probed now"), first.reason());
        try (var files = Files.list(cache)) {
            Path file = files.findFirst().orElseThrow();
            var p = new java.util.Properties();
            p.load(Files.newBufferedReader(file));
            double mkl = Double.parseDouble(p.getProperty("mkl.gflops"));
            double openblas = Double.parseDouble(p.getProperty("openblas.gflops"));
            assertTrue(mkl > 0 && openblas > 0, p.toString());
            assertEquals(openblas > mkl ? OpenBlas.library() : Mkl.library(), first.library());
            // the cache decides from then on: rewrite it so that the other library is the faster
            p.setProperty("mkl.gflops", openblas > mkl ? "900.0" : "1.0");
            p.setProperty("openblas.gflops", openblas > mkl ? "1.0" : "900.0");
            try (var w = Files.newBufferedWriter(file)) {
                p.store(w, null);
            }
        }
        Gemm.Decision second = Gemm.decide(Gemm.Choice.AUTO, cache);
        assertTrue(second.reason().contains("cached in"), second.reason());
        assertTrue(second.library() != first.library(), second.reason());
        assertEquals(Mkl.library(), Gemm.decide(Gemm.Choice.MKL, cache).library());
        assertEquals(OpenBlas.library(), Gemm.decide(Gemm.Choice.OPENBLAS, cache).library());
    }

    @Test
    void aCacheFileThatDoesNotParseIsProbedAgain(@TempDir Path cache) throws Exception {
        Gemm.decide(Gemm.Choice.AUTO, cache, 1);
        try (var files = Files.list(cache)) {
            Files.writeString(files.findFirst().orElseThrow(), "mkl.gflops=fast\n");
        }
        assertTrue(Gemm.decide(Gemm.Choice.AUTO, cache, 1).reason().contains("probed now"));
    }

    @Test
    void aProbeTakenOnABusyMachineDecidesThisProcessOnlyAndIsNotCached(@TempDir Path cache) throws Exception {
        Gemm.Decision d = Gemm.decide(Gemm.Choice.AUTO, cache, -1);  // any load is too busy
        assertTrue(d.reason().contains("on a busy machine") && d.reason().contains("not cached"), d.reason());
        try (var files = Files.list(cache)) {
            assertEquals(0, files.count());
        }
    }

    @Test
    void otherProcessesLoadIsTheMachinesBusyTimeLessThisProcesssCpuTime() {
        assertEquals(10 + 1 + 20 + 3 + 4 + 5, Gemm.Load.busyTicks("cpu  10 1 20 900 7 3 4 5 0 0"));
        assertThrows(IllegalArgumentException.class, () -> Gemm.Load.busyTicks("cpu0 10 1 20 900 7 3 4 5 0 0"));
        // 2 cores for 10 s: 1,500 busy ticks = 15 s, of which this process 5 s: others kept half the cores busy
        Gemm.Load a = new Gemm.Load(1_000, 0, 0);
        Gemm.Load b = new Gemm.Load(2_500, 5_000_000_000L, 10_000_000_000L);
        assertEquals(0.5, a.othersShare(b, 2), 1e-12);
        assertEquals(0, new Gemm.Load(-1, 0, 0).othersShare(b, 2), "unknown reads as quiet");
        assertEquals(1, a.othersShare(new Gemm.Load(9_000, 0, 10_000_000_000L), 2), 1e-12);
    }

    /** max |C − C_ref| / max |C_ref| of op(A) op(B) on {@code lib}, against a double-precision loop. */
    private static double maxRelativeError(Cblas lib, boolean ta, boolean tb, int m, int n, int k) {
        SplittableRandom r = new SplittableRandom(7);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) r.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment as = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
            MemorySegment bs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment cs = arena.allocate(4L * m * n);
            lib.sgemm(ta, tb, m, n, k, as, ta ? m : k, bs, tb ? k : n, 0f, cs, n);
            double maxErr = 0;
            double maxRef = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double ref = 0;
                    for (int p = 0; p < k; p++) {
                        ref += (double) a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
                    }
                    maxRef = Math.max(maxRef, Math.abs(ref));
                    maxErr = Math.max(maxErr, Math.abs(ref - cs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) i * n + j)));
                }
            }
            return maxErr / maxRef;
        }
    }
}
