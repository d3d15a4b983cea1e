package darkknowledge.kernels;

import static darkknowledge.kernels.Im2colConvTest.assertClose;
import static darkknowledge.kernels.Im2colConvTest.ourWeights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.IntFunction;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * {@link DnnlConv} computes what DL4J's {@code ConvolutionLayer} (NHWC, same padding, ReLU) and
 * {@link Im2colConv} compute: outputs, weight and bias gradients, input gradients.
 */
class DnnlConvTest {

    /** A first convolution c → c and a second c → f (the one compared unless {@code layer} is 0), then a small output layer. */
    private static MultiLayerNetwork net(IntFunction<org.deeplearning4j.nn.conf.layers.Layer> conv, int h, int w,
            int c, int f) {
        var conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list()
                .layer(conv.apply(c))
                .layer(conv.apply(f))
                .layer(new OutputLayer.Builder().nIn((long) h * w * f).nOut(2).lossFunction(new LossMSE())
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.initGradientsView();
        return net;
    }

    private static MultiLayerNetwork dl4j(int h, int w, int c, int k, int f) {
        var conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list()
                .layer(new ConvolutionLayer.Builder(k, k).nOut(c).padding((k - 1) / 2, (k - 1) / 2)
                        .dataFormat(CNN2DFormat.NHWC).activation(Activation.RELU).build())
                .layer(new ConvolutionLayer.Builder(k, k).nOut(f).padding((k - 1) / 2, (k - 1) / 2)
                        .dataFormat(CNN2DFormat.NHWC).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder().nOut(2).lossFunction(new LossMSE()).activation(Activation.IDENTITY)
                        .build())
                .setInputType(InputType.convolutional(h, w, c, CNN2DFormat.NHWC)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.initGradientsView();
        return net;
    }

    /** Outputs and gradients of DnnlConv against DL4J's ConvolutionLayer, for the second layer. */
    private static void assertSameAsDl4j(int n, int h, int w, int c, int k, int f) {
        Layer t = dl4j(h, w, c, k, f).getLayer(1);
        Layer o = net(ch -> DnnlConv.of(h, w, c, k, ch), h, w, c, f).getLayer(1);
        o.setParam("W", ourWeights(t.getParam("W")));
        Nd4j.getRandom().setSeed(17);
        o.setParam("b", Nd4j.randn(DataType.FLOAT, 1, f).muli(0.1));
        t.setParam("b", o.getParam("b").dup().reshape(t.getParam("b").shape()));
        INDArray x = Nd4j.randn(DataType.FLOAT, n, (long) h * w * c);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();

        INDArray expected = t.activate(x.reshape('c', n, h, w, c), true, ws);
        INDArray actual = o.activate(x, true, ws);
        assertClose(expected.reshape('c', n, (long) h * w * f), actual, "activation");

        INDArray eps = Nd4j.randn(DataType.FLOAT, n, (long) h * w * f);
        Pair<Gradient, INDArray> te = t.backpropGradient(eps.reshape('c', n, h, w, f).dup(), ws);
        Pair<Gradient, INDArray> oe = o.backpropGradient(eps.dup(), ws);
        assertClose(ourWeights(te.getFirst().getGradientFor("W")), oe.getFirst().getGradientFor("W"), "dW");
        assertClose(te.getFirst().getGradientFor("b").reshape(1, f), oe.getFirst().getGradientFor("b").reshape(1, f),
                "db");
        assertClose(te.getSecond().reshape('c', n, (long) h * w * c), oe.getSecond(), "epsilon");
    }

    /**
     * A net whose layer {@code index} is the convolution h×w×c → f: alone before a small output layer
     * (index 0: the network's first layer, which computes no input gradient), or after a c → c one.
     */
    private static MultiLayerNetwork single(boolean dnnl, int index, int h, int w, int c, int k, int f) {
        var list = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list();
        if (index == 1) {
            list.layer(dnnl ? DnnlConv.of(h, w, c, k, c) : Im2colConv.of(h, w, c, k, c));
        }
        list.layer(dnnl ? DnnlConv.of(h, w, c, k, f) : Im2colConv.of(h, w, c, k, f));
        list.layer(new OutputLayer.Builder().nIn((long) h * w * f).nOut(2).lossFunction(new LossMSE())
                .activation(Activation.IDENTITY).build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        net.initGradientsView();
        return net;
    }

    /**
     * Asserts {@code actual} within fp32 rounding of {@code expected} for values that are sums over
     * {@code terms} products: relative to the largest value, {@link Im2colConvTest}'s tolerance grown
     * with the square root of the terms beyond 256 (two implementations summing in different orders).
     */
    static void assertCloseSums(INDArray expected, INDArray actual, long terms, String what) {
        double scale = Math.max(1, Math.sqrt(terms / 256.0));
        double tolerance = 2e-5 * scale * Math.max(1e-3, expected.amaxNumber().doubleValue());
        float[] e = expected.dup('c').data().asFloat();
        float[] a = actual.dup('c').data().asFloat();
        assertEquals(e.length, a.length, what + " length");
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tolerance, what + " at " + i);
        }
    }

    /**
     * Outputs and gradients of DnnlConv against Im2colConv for the convolution h×w×c → f at layer
     * {@code index} (see {@link #single}), one step per batch size (one plan each, the first reused).
     */
    private static void assertSameAsIm2col(int index, int h, int w, int c, int k, int f, int... batches) {
        Layer ref = single(false, index, h, w, c, k, f).getLayer(index);
        Layer dnnl = single(true, index, h, w, c, k, f).getLayer(index);
        Nd4j.getRandom().setSeed(23);
        dnnl.setParam("W", ref.getParam("W"));
        ref.setParam("b", Nd4j.randn(DataType.FLOAT, 1, f).muli(0.1));
        dnnl.setParam("b", ref.getParam("b"));
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        for (int n : batches) {
            INDArray x = Nd4j.randn(DataType.FLOAT, n, (long) h * w * c);
            INDArray eps = Nd4j.randn(DataType.FLOAT, n, (long) h * w * f);
            String at = "layer " + index + " " + h + "x" + w + "x" + c + "->" + f + " batch " + n + ": ";
            assertClose(ref.activate(x, true, ws), dnnl.activate(x, true, ws), at + "activation");
            Pair<Gradient, INDArray> re = ref.backpropGradient(eps.dup(), ws);
            Pair<Gradient, INDArray> de = dnnl.backpropGradient(eps.dup(), ws);
            long pixels = (long) n * h * w;
            assertCloseSums(re.getFirst().getGradientFor("W"), de.getFirst().getGradientFor("W"), pixels, at + "dW");
            assertCloseSums(re.getFirst().getGradientFor("b"), de.getFirst().getGradientFor("b"), pixels, at + "db");
            if (index == 0) {
                assertNull(de.getSecond(), at + "the first layer's input gradient");
            } else {
                assertClose(re.getSecond(), de.getSecond(), at + "epsilon");
            }
        }
    }

    @Test
    void outputsAndGradientsAreDl4jsForThreeByThreeKernels() {
        assertSameAsDl4j(3, 6, 5, 4, 3, 7);
    }

    @Test
    void outputsAndGradientsAreDl4jsForOneChannelAndFiveByFiveKernelsOnTinyImages() {
        assertSameAsDl4j(2, 3, 4, 1, 5, 3);
    }

    @Test
    void outputsAndGradientsAreDl4jsForSixteenChannels() {
        assertSameAsDl4j(4, 8, 8, 16, 3, 32);
    }

    @Test
    void theGlyphNetsConvolutionsAreIm2colConvsAtTwoBatchSizes() {
        // 32x32x1 -> 16 (the first layer), 32x32x16 -> 16, 16x16x16 -> 32, 16x16x32 -> 32
        assertSameAsIm2col(0, 32, 32, 1, 3, 16, 16, 5, 16);
        assertSameAsIm2col(1, 32, 32, 16, 3, 16, 16, 5);
        assertSameAsIm2col(1, 16, 16, 16, 3, 32, 16, 5);
        assertSameAsIm2col(1, 16, 16, 32, 3, 32, 16, 5);
        assertSameAsIm2col(0, 16, 16, 32, 3, 32, 3);
        // the tiny preset's 8 → 16 (NHWC on both sides)
        assertSameAsIm2col(1, 16, 16, 8, 3, 16, 7);
    }

    @Test
    void theNhwcLayoutComputesTheSame() {
        String before = System.getProperty("darkknowledge.dnnl.layout");
        System.setProperty("darkknowledge.dnnl.layout", "nhwc");
        try {
            assertSameAsIm2col(0, 32, 32, 1, 3, 16, 5);
            assertSameAsIm2col(1, 16, 16, 32, 3, 32, 5);
            assertSameAsDl4j(3, 6, 5, 4, 3, 7);
        } finally {
            if (before == null) {
                System.clearProperty("darkknowledge.dnnl.layout");
            } else {
                System.setProperty("darkknowledge.dnnl.layout", before);
            }
        }
    }

    /** On the glyph net's shapes oneDNN's own kernels run, never its reference (scalar) code. */
    @Test
    void theGlyphNetsConvolutionsRunOnJitKernels() {
        // and the tiny preset's 8, 16 channels: 8 → 16 mixes NHWC and blocked, which oneDNN runs only on
        // its reference kernel, so it stays NHWC
        int[][] shapes = {{32, 1, 16}, {32, 16, 16}, {16, 16, 32}, {16, 32, 32}, {32, 1, 8}, {32, 8, 8}, {16, 8, 16},
            {16, 16, 16}};
        for (int[] s : shapes) {
            int index = s[1] == 1 ? 0 : 1;
            var layer = (DnnlConv.Impl) single(true, index, s[0], s[0], s[1], 3, s[2]).getLayer(index);
            var impls = layer.implementations(128);
            for (String impl : impls) {
                assertTrue(!impl.contains("ref"), java.util.Arrays.toString(s) + ": " + impls);
            }
        }
    }

    @Test
    void theLibraryLoadsAndNamesItsVersion() {
        assertNull(DnnlConv.unavailable());
        assertTrue(DnnlConv.library().startsWith("oneDNN 3."), DnnlConv.library());
    }

    /** Where oneDNN cannot load, the error names what is missing: the platform or the jar and its artifact. */
    @Test
    void aMissingPlatformOrJarIsAnErrorNamingIt() {
        var p = new java.util.Properties();
        p.setProperty("dnnl.artifact", "org.bytedeco:dnnl:3.6.1-1.5.11");
        p.setProperty("dnnl.jar", "/nonexistent/dnnl-3.6.1-1.5.11-linux-x86_64.jar");
        p.setProperty("opencl.artifact", "org.bytedeco:opencl:3.0-1.5.11");
        p.setProperty("opencl.jar", "/nonexistent/opencl.jar");
        var platform = assertThrows(IllegalStateException.class, () -> Dnnl.load("Mac OS X/aarch64", p));
        assertTrue(platform.getMessage().contains("Linux x86-64 only; this is Mac OS X/aarch64"), platform.getMessage());
        var jar = assertThrows(IllegalStateException.class, () -> Dnnl.load("Linux/amd64", p));
        assertTrue(jar.getMessage().contains("/nonexistent/dnnl-3.6.1-1.5.11-linux-x86_64.jar is missing")
                && jar.getMessage().contains("org.bytedeco:dnnl:3.6.1-1.5.11"), jar.getMessage());
    }

    @Test
    void aDnnlLayerIsNotAnIm2colLayerOfTheSameGeometry() {
        assertTrue(!DnnlConv.of(4, 4, 2, 3, 3).equals(Im2colConv.of(4, 4, 2, 3, 3)));
        assertEquals(DnnlConv.of(4, 4, 2, 3, 3), DnnlConv.of(4, 4, 2, 3, 3));
        assertEquals("DnnlConv(4x4x2, 3x3 -> 3)", DnnlConv.of(4, 4, 2, 3, 3).toString());
    }
}
