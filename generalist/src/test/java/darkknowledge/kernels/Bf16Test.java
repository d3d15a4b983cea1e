package darkknowledge.kernels;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Bf16}'s rounding is IEEE-style round to nearest even; its products are fp32 products of the
 * rounded operands; a {@link ReluDense} net in bf16 computes the fp32 net's gradients within bf16's
 * rounding and trains. Product tests run where the CPU and MKL have bf16 (they say so when skipped).
 */
class Bf16Test {

    private static short bf16(float f) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4);
            MemorySegment dst = arena.allocate(2);
            src.set(ValueLayout.JAVA_FLOAT, 0, f);
            Bf16.round(src, dst, 1);
            return dst.get(ValueLayout.JAVA_SHORT, 0);
        }
    }

    @Test
    void roundsToNearestTiesToEven() {
        assertEquals(1.0f, Bf16.toFloat(bf16(1.0f)));
        assertEquals(-2.5f, Bf16.toFloat(bf16(-2.5f)));
        float ulp = 1f / 128;  // bf16's spacing in [1, 2)
        assertEquals(1.0f, Bf16.toFloat(bf16(1 + ulp * 0.49f)));
        assertEquals(1.0f + ulp, Bf16.toFloat(bf16(1 + ulp * 0.51f)));
        assertEquals(1.0f, Bf16.toFloat(bf16(1 + ulp / 2)), "tie to the even neighbour (1.0)");
        assertEquals(1.0f + 2 * ulp, Bf16.toFloat(bf16(1 + 1.5f * ulp)), "tie to the even neighbour (1 + 2 ulp)");
        assertEquals(Float.POSITIVE_INFINITY, Bf16.toFloat(bf16(Float.POSITIVE_INFINITY)));
        assertEquals(0x8000, bf16(-0.0f) & 0xFFFF);
        assertTrue(Float.isNaN(Bf16.toFloat(bf16(Float.NaN))));
        Random r = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            float f = (float) r.nextGaussian() * 1e3f;
            float b = Bf16.toFloat(bf16(f));
            assertTrue(Math.abs(b - f) <= Math.abs(f) * 0x1p-8f, f + " -> " + b);
        }
    }

    @Test
    void unsupportedMachinesAreRefusedByName() {
        String why = Bf16.unsupported();
        if (why == null) {
            assertEquals(Precision.BF16, MlpConfig.plain(List.of(8), 1).withPrecision(Precision.BF16).precision());
            return;
        }
        var e = assertThrows(darkknowledge.core.Check.InvalidValue.class, () -> MlpConfig.plain(List.of(8), 1)
                .withPrecision(Precision.BF16));
        assertEquals("precision", e.field());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    /** C = op(A) op(B) in bf16 equals the fp32 product of the rounded operands (up to fp32 summation order). */
    @Test
    void productsAreFp32ProductsOfRoundedOperands() {
        assumeTrue(Bf16.unsupported() == null, "bf16 products do not run here: " + Bf16.unsupported());
        int m = 37;
        int n = 29;
        int k = 53;
        Nd4j.getRandom().setSeed(5);
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                INDArray a = transA ? Nd4j.randn(DataType.FLOAT, k, m) : Nd4j.randn(DataType.FLOAT, m, k);
                INDArray b = transB ? Nd4j.randn(DataType.FLOAT, n, k) : Nd4j.randn(DataType.FLOAT, k, n);
                INDArray ar = roundTrip(a);
                INDArray br = roundTrip(b);
                INDArray expected = (transA ? ar.transpose() : ar).mmul(transB ? br.transpose() : br);
                INDArray c = Nd4j.create(DataType.FLOAT, m, n);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment ab = arena.allocate(2L * a.length());
                    MemorySegment bb = arena.allocate(2L * b.length());
                    Bf16.round(FusedAdam.segment(a, 4), ab, a.length());
                    Bf16.round(FusedAdam.segment(b, 4), bb, b.length());
                    Mkl.gemmBf16(transA, transB, m, n, k, ab, (int) a.size(1), bb, (int) b.size(1), 0f,
                            FusedAdam.segment(c, 4), n);
                }
                double err = c.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
                assertTrue(err < 1e-5, "transA=" + transA + " transB=" + transB + ": relative error " + err);
                double vsFp32 = c.sub((transA ? a.transpose() : a).mmul(transB ? b.transpose() : b)).norm2Number()
                        .doubleValue() / expected.norm2Number().doubleValue();
                assertTrue(vsFp32 > 1e-4 && vsFp32 < 2e-2, "bf16 rounding shows against the fp32 product: " + vsFp32);
            }
        }
    }

    private static INDArray roundTrip(INDArray a) {
        INDArray out = a.dup();
        for (long i = 0; i < a.length(); i++) {
            out.putScalar(i, Bf16.toFloat(bf16(a.getFloat(i))));
        }
        return out;
    }

    /** One step's gradients of the bf16 net are the fp32 net's within bf16 rounding; the first layer returns no epsilon. */
    @Test
    void bf16NetHasFp32GradientsWithinRoundingAndTrains() {
        assumeTrue(Bf16.unsupported() == null, "bf16 products do not run here: " + Bf16.unsupported());
        MlpConfig fp32 = new MlpConfig(List.of(64, 48), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9, 1, 1, 32, 0, 0);
        Classifier a = Classifier.create(fp32, 40, 5, null, 7);
        Classifier b = Classifier.create(fp32.withPrecision(Precision.BF16), 40, 5, null, 7);
        MultiLayerNetwork na = a.network();
        MultiLayerNetwork nb = b.network();
        assertEquals(Precision.BF16, ((ReluDense) nb.getLayerWiseConfigurations().getConf(1).getLayer()).precision());
        assertEquals(na.params(), nb.params(), "same initial weights");
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 64, 40);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, 5);
        for (int i = 0; i < 64; i++) {
            y.putScalar(i, (i * 7) % 5, 1);
        }
        na.setInput(x);
        na.setLabels(y);
        na.computeGradientAndScore();
        nb.setInput(x);
        nb.setLabels(y);
        nb.computeGradientAndScore();
        INDArray ga = na.gradient().gradient();
        INDArray gb = nb.gradient().gradient();
        double rel = ga.sub(gb).norm2Number().doubleValue() / ga.norm2Number().doubleValue();
        assertTrue(rel > 1e-5 && rel < 3e-2, "relative gradient difference " + rel);
        assertEquals(na.score(), nb.score(), 1e-2 * na.score());
        double before = nb.score();
        for (int step = 0; step < 50; step++) {
            nb.fit(x, y);
        }
        assertTrue(nb.score() < before / 4, "trains in bf16: " + before + " -> " + nb.score());
        assertEquals(51, ((ReluDense.Impl) nb.getLayer(0)).fastBackwardPasses(), "computeGradientAndScore and 50 steps");
        for (MultiLayerNetwork net : List.of(na, nb)) {
            var ws = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
            var first = net.getLayer(0);
            first.setInput(x, ws);
            first.activate(true, ws);
            assertNull(first.backpropGradient(Nd4j.ones(DataType.FLOAT, 64, 64), ws).getSecond(),
                    "the first layer computes no gradient for the net's input");
        }
    }
}
