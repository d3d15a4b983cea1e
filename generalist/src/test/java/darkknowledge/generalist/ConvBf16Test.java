package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import darkknowledge.kernels.DnnlConv;
import darkknowledge.kernels.Precision;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@code conv.precision=bf16}: {@link DnnlConv}'s bfloat16 convolutions compute the fp32 layer's
 * outputs and gradients within bf16's rounding, train as the fp32 net does, and are refused, naming
 * the key, where they cannot run (backend {@code im2col}, or a CPU without {@code avx512_bf16} and
 * {@code amx_bf16}). The tests that run bf16 convolutions are skipped, saying why, on CPUs without
 * bf16 instructions.
 *
 * <p><b>The tolerance.</b> bfloat16 keeps 8 significant bits, so rounding to nearest gives
 * {@code x̃ = x(1 + ε)} with {@code |ε| ≤ u = 2⁻⁸} (Kalamkar et al. 2019, "A Study of BFLOAT16 for
 * Deep Learning Training", arXiv:1905.12322, §2). Every value a convolution computes is a sum of
 * {@code K} products of two rounded operands, accumulated in fp32 (Higham 2002, "Accuracy and
 * Stability of Numerical Algorithms", §3.1, for the sum's error):
 * <pre>
 *   |Σ x̃ᵢ w̃ᵢ − Σ xᵢ wᵢ|  ≤  (2u + u²) Σ |xᵢ wᵢ|  +  γ_K Σ |xᵢ wᵢ|,     γ_K ≈ K · 2⁻²⁴ per fp32 sum,
 * </pre>
 * and the fp32 reference carries its own {@code γ_K}. So each element is checked against
 * {@code (2⁻⁷ + 2⁻¹⁶ + 2K·2⁻²⁴) · S + 2⁻²² |y|}, where {@code S = Σ |x||w|} is that element's sum of
 * absolute products (the fp32 layer run on |x|, |W| and |ε|) and the last term the fp32 rounding of
 * the result itself (the bias is added in fp32). This is a worst-case bound, not a typical error:
 * with independent roundings the error is about {@code u·√K} times a typical product, far below it,
 * so the tests also check that bf16 did round (the results differ from fp32's by more than 2⁻¹⁴
 * relative; measured here about 2⁻⁹) and are not fp32 in disguise; the worst element measured
 * reached 0.70 of its bound (the first layer, K = 9), the others 0.01–0.23. ε_prev's sums run over the filters and window
 * ({@code K = k²·f}), dW's over the batch's pixels ({@code K = N·H·W}), db's over the same pixels
 * with one rounded operand ({@code u} instead of {@code 2u}). The bias is set so that every
 * pre-activation is positive in both precisions: the ReLU masks then agree, and δ = ε in both.
 */
class ConvBf16Test {
    @TempDir
    Path dir;

    private static final double U = 0x1p-8;

    private static String why() {
        return DnnlConv.bf16Unsupported();
    }

    /** A net whose layer {@code index} is the convolution h×w×c → f (after a c → c one at index 1), then an output layer. */
    private static MultiLayerNetwork single(Precision p, int index, int h, int w, int c, int f) {
        var list = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list();
        if (index == 1) {
            list.layer(DnnlConv.of(h, w, c, 3, c, p));
        }
        list.layer(DnnlConv.of(h, w, c, 3, f, p));
        list.layer(new OutputLayer.Builder().nIn((long) h * w * f).nOut(2).lossFunction(new LossMSE())
                .activation(Activation.IDENTITY).build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        net.initGradientsView();
        return net;
    }

    /** Activation, dW, db, ε_prev (null for a first layer) of one training step, copied out of the layer. */
    private static INDArray[] step(Layer layer, INDArray weights, INDArray bias, INDArray x, INDArray eps) {
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        layer.setParam("W", weights);
        layer.setParam("b", bias);
        INDArray a = layer.activate(x, true, ws).dup();
        Pair<Gradient, INDArray> g = layer.backpropGradient(eps.dup(), ws);
        return new INDArray[] {a, g.getFirst().getGradientFor("W").dup(), g.getFirst().getGradientFor("b").dup(),
            g.getSecond() == null ? null : g.getSecond().dup()};
    }

    /**
     * Asserts |bf16 − fp32| ≤ (rounded · u + u² + 2K·2⁻²⁴) · S + 2⁻²² |fp32| element by element (see the
     * class's doc), and that bf16 rounding shows: the difference exceeds 2⁻¹⁴ of fp32 − {@code offset}
     * (the sums without the bias, in the 2-norm).
     */
    private static void assertWithinBf16(INDArray fp32, INDArray bf16, INDArray absSums, int roundedOperands,
            long terms, double offset, String what) {
        float[] e = fp32.dup('c').data().asFloat();
        float[] a = bf16.dup('c').data().asFloat();
        float[] s = absSums.dup('c').data().asFloat();
        assertEquals(e.length, a.length, what);
        double factor = roundedOperands * U + U * U + 2.0 * terms * 0x1p-24;
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            double tolerance = factor * s[i] + 0x1p-22 * Math.abs(e[i]) + 1e-30;
            double err = Math.abs(a[i] - e[i]);
            worst = Math.max(worst, err / tolerance);
            assertTrue(err <= tolerance, what + " at " + i + ": fp32 " + e[i] + ", bf16 " + a[i] + ", bound "
                    + tolerance + " (sum of |products| " + s[i] + ", " + terms + " terms)");
        }
        double rel = fp32.sub(bf16).norm2Number().doubleValue() / fp32.sub(offset).norm2Number().doubleValue();
        assertTrue(rel > 0x1p-14, what + ": bf16 rounding should show against fp32, relative difference " + rel);
        assertTrue(worst <= 1, what);
    }

    /** bf16 against fp32 for the convolution h×w×c → f at layer {@code index}, at each batch size. */
    private static void assertBf16IsFp32WithinRounding(int index, int h, int w, int c, int f, int... batches) {
        Layer fp32 = single(Precision.FP32, index, h, w, c, f).getLayer(index);
        Layer bf16 = single(Precision.BF16, index, h, w, c, f).getLayer(index);
        Nd4j.getRandom().setSeed(29);
        INDArray weights = fp32.getParam("W").dup();
        for (int n : batches) {
            String at = "layer " + index + " " + h + "x" + w + "x" + c + "->" + f + " batch " + n + ": ";
            INDArray x = Nd4j.randn(DataType.FLOAT, n, (long) h * w * c);
            INDArray eps = Nd4j.randn(DataType.FLOAT, n, (long) h * w * f);
            // the sums of absolute products: the fp32 layer on |x|, |W|, |ε|, no bias (all pre-activations ≥ 0)
            INDArray[] abs = step(fp32, Transforms.abs(weights), Nd4j.zeros(DataType.FLOAT, 1, f), Transforms.abs(x),
                    Transforms.abs(eps));
            // a bias above every |pre-activation|: ReLU passes everything in both precisions
            float offset = 2 * abs[0].maxNumber().floatValue() + 1;
            INDArray bias = Nd4j.valueArrayOf(new long[] {1, f}, offset);
            INDArray[] ref = step(fp32, weights, bias, x, eps);
            INDArray[] got = step(bf16, weights, bias, x, eps);
            INDArray pre = abs[0];
            long pixels = (long) n * h * w;
            assertWithinBf16(ref[0], got[0], pre, 2, 9L * c, offset, at + "activation");
            assertWithinBf16(ref[1], got[1], abs[1], 2, pixels, 0, at + "dW");
            assertWithinBf16(ref[2], got[2], abs[2], 1, pixels, 0, at + "db");
            if (index == 0) {
                assertNull(got[3], at + "the first layer's input gradient");
            } else {
                assertWithinBf16(ref[3], got[3], abs[3], 2, 9L * f, 0, at + "epsilon");
            }
        }
    }

    @Test
    void theGlyphNetsConvolutionsInBf16AreFp32sWithinBf16Rounding() {
        assumeTrue(why() == null, "bf16 convolutions do not run here: " + why());
        // 32x32x1 -> 16 (the first layer), 32x32x16 -> 16, 16x16x16 -> 32, 16x16x32 -> 32, at the training
        // batch and an odd last batch (one plan each)
        assertBf16IsFp32WithinRounding(0, 32, 32, 1, 16, 16, 5);
        assertBf16IsFp32WithinRounding(1, 32, 32, 16, 16, 16, 5);
        assertBf16IsFp32WithinRounding(1, 16, 16, 16, 32, 16, 5);
        assertBf16IsFp32WithinRounding(1, 16, 16, 32, 32, 16, 5);
        // the tiny preset's 8 -> 16 (NHWC inside oneDNN)
        assertBf16IsFp32WithinRounding(1, 16, 16, 8, 16, 7);
    }

    /** On the glyph net's shapes oneDNN runs its own bf16 kernels, never its reference (scalar) code. */
    @Test
    void theGlyphNetsBf16ConvolutionsRunOnJitKernels() {
        assumeTrue(why() == null, "bf16 convolutions do not run here: " + why());
        int[][] shapes = {{32, 1, 16}, {32, 16, 16}, {16, 16, 32}, {16, 32, 32}};
        for (int[] s : shapes) {
            int index = s[1] == 1 ? 0 : 1;
            Layer layer = single(Precision.BF16, index, s[0], s[0], s[1], s[2]).getLayer(index);
            List<String> impls = DnnlConv.implementations(layer, 128);
            assertTrue(impls.stream().noneMatch(i -> i.contains("ref")), java.util.Arrays.toString(s) + ": " + impls);
            assertTrue(impls.stream().anyMatch(i -> i.startsWith("bf16 operands")), impls.toString());
        }
    }

    /**
     * The glyph net's layout in miniature (16, 16, pool, 32, 32, pool, dense 32) on the strokes task,
     * in fp32 and bf16 from the same initial weights and minibatches: the first losses agree to bf16's
     * rounding (1%), both fall below a quarter of the first, and bf16's training loss after 40 steps is
     * within a factor 2 of fp32's (Adam carries the rounding differences on; on this task two fp32
     * trainings whose weights differ by 10⁻⁶ drift apart likewise). A saved bf16 net loads in bf16.
     */
    @Test
    void aBf16NetTrainsAsTheFp32NetDoes() {
        assumeTrue(why() == null, "bf16 convolutions do not run here: " + why());
        ConvClassifierTest.Data d = ConvClassifierTest.strokes(64, 9);
        ConvConfig fp32 = new ConvConfig(8, 8, 1, List.of(16, 32), 2, 3, 2, List.of(32), 0, 0,
                MlpConfig.Optimizer.ADAM, 3e-3, 0.9, 1.0, 1, 32, 0, 0, ConvConfig.Backend.DNNL);
        Classifier a = Classifier.create(fp32, 4, null, 5);
        Classifier b = Classifier.create(fp32.withPrecision(Precision.BF16), 4, null, 5);
        assertEquals(Precision.BF16, ((DnnlConv) b.network().getLayer(0).conf().getLayer()).precision());
        assertEquals(a.network().params(), b.network().params(), "same initial weights");
        List<Double> la = new ArrayList<>();
        List<Double> lb = new ArrayList<>();
        for (int step = 0; step < 40; step++) {
            INDArray x = d.x().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(32 * (step % 2), 32 * (step % 2) + 32));
            INDArray y = d.y().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(32 * (step % 2), 32 * (step % 2) + 32));
            a.network().fit(x, y);
            b.network().fit(x, y);
            la.add(a.network().score());
            lb.add(b.network().score());
        }
        assertEquals(la.get(0), lb.get(0), 1e-2 * la.get(0), "the first step's loss");
        double lastA = (la.get(38) + la.get(39)) / 2;
        double lastB = (lb.get(38) + lb.get(39)) / 2;
        assertTrue(lastA < la.get(0) / 4, "fp32 trains: " + la);
        assertTrue(lastB < lb.get(0) / 4, "bf16 trains: " + lb);
        assertTrue(lastB < 2 * lastA && lastA < 2 * lastB, "bf16 " + lb + " against fp32 " + la);
        Path file = dir.resolve("bf16.zip");
        b.save(file);
        Classifier back = Classifier.load(file);
        assertEquals(b.network().getLayerWiseConfigurations(), back.network().getLayerWiseConfigurations());
        assertEquals(Precision.BF16, ((DnnlConv) back.network().getLayer(0).conf().getLayer()).precision());
        assertTrue(b.logits(d.x()).equalsWithEps(back.logits(d.x()), 1e-6));
    }

    @Test
    void thePrecisionIsAFlatKeyFp32ByDefault() {
        assertEquals(Precision.FP32, ConvConfig.small(1).precision());
        assertEquals("fp32", Configs.write("conv", ConvConfig.small(1)).get("conv.precision"));
        var e = assertThrows(ConfigException.class, () -> Configs.read(Settings.empty().overlay(
                Map.of("conv.precision", "fp8"), "--set"), "conv", ConvConfig.small(1)));
        assertTrue(e.getMessage().contains("conv.precision"), e.getMessage());
        assertEquals(ConvConfig.small(1), Configs.read(Settings.empty(), "conv", ConvConfig.small(1)),
                "a config without the key (older runs) reads as fp32");
    }

    /** bf16 with im2col is refused anywhere, naming the key; bf16 with dnnl where the CPU lacks bf16. */
    @Test
    void bf16IsRefusedByNameWhereItCannotRun() {
        var im2col = assertThrows(ConfigException.class, () -> Configs.read(Settings.empty().overlay(
                Map.of("conv.precision", "bf16"), "--set"), "conv", ConvConfig.small(1)));
        assertTrue(im2col.getMessage().startsWith("conv.precision") && im2col.getMessage().contains("backend=dnnl"),
                im2col.getMessage());
        Map<String, String> dnnl = Map.of("conv.precision", "bf16", "conv.backend", "dnnl");
        if (why() == null) {
            ConvConfig c = Configs.read(Settings.empty().overlay(dnnl, "--set"), "conv", ConvConfig.small(1));
            assertEquals(Precision.BF16, c.precision());
            assertEquals("bf16", Configs.write("conv", c).get("conv.precision"));
            return;
        }
        var cpu = assertThrows(ConfigException.class, () -> Configs.read(Settings.empty().overlay(dnnl, "--set"),
                "conv", ConvConfig.small(1)));
        assertTrue(cpu.getMessage().startsWith("conv.precision") && cpu.getMessage().contains(why()),
                cpu.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> DnnlConv.of(4, 4, 1, 3, 16, Precision.BF16));
    }
}
