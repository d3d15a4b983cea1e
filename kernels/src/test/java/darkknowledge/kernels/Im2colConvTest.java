package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

/** {@link Im2colConv} computes DL4J's {@code ConvolutionLayer} (NHWC, same padding, ReLU): outputs and gradients. */
class Im2colConvTest {
    /** float32 products over up to 5·5·7 terms, summed in another order: relative to the largest value. */
    private static final double TOLERANCE = 2e-5;

    static void assertClose(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double scale = Math.max(1e-3, expected.amaxNumber().doubleValue());
        float[] e = expected.dup('c').data().asFloat();
        float[] a = actual.dup('c').data().asFloat();
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], TOLERANCE * scale, what + " at " + i);
        }
    }

    /** DL4J's conv weights [out, in, ky, kx] as ours [(ky, kx, in), out]. */
    static INDArray ourWeights(INDArray dl4j) {
        long o = dl4j.size(0);
        long k = dl4j.size(2) * dl4j.size(3) * dl4j.size(1);
        return dl4j.permute(2, 3, 1, 0).dup('c').reshape('c', k, o);
    }

    /** Two convolutions and a small output layer: the second convolution (index 1) is the one compared. */
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

    private static MultiLayerNetwork ours(int h, int w, int c, int k, int f) {
        var conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Sgd(0.1)).list()
                .layer(Im2colConv.of(h, w, c, k, c))
                .layer(Im2colConv.of(h, w, c, k, f))
                .layer(new OutputLayer.Builder().nIn((long) h * w * f).nOut(2).lossFunction(new LossMSE())
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.initGradientsView();
        return net;
    }

    private static void assertSameAsDl4j(int n, int h, int w, int c, int k, int f) {
        MultiLayerNetwork theirs = dl4j(h, w, c, k, f);
        MultiLayerNetwork ours = ours(h, w, c, k, f);
        Layer t = theirs.getLayer(1);
        Layer o = ours.getLayer(1);
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

    @Test
    void outputsAndGradientsAreDl4jsForThreeByThreeKernels() {
        assertSameAsDl4j(3, 6, 5, 4, 3, 7);
    }

    @Test
    void outputsAndGradientsAreDl4jsForOneChannelAndFiveByFiveKernelsOnTinyImages() {
        assertSameAsDl4j(2, 3, 4, 1, 5, 3);
    }

    @Test
    void theFirstLayerSkipsTheInputGradientAndTheNetStillTrains() {
        MultiLayerNetwork ours = ours(4, 4, 2, 3, 3);
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 5, 32);
        INDArray y = Nd4j.randn(DataType.FLOAT, 5, 2);
        ours.getLayer(0).activate(x, true, LayerWorkspaceMgr.noWorkspaces());
        Pair<Gradient, INDArray> g = ours.getLayer(0).backpropGradient(Nd4j.randn(DataType.FLOAT, 5, 32),
                LayerWorkspaceMgr.noWorkspaces());
        assertNull(g.getSecond());
        ours.setInput(x);
        ours.setLabels(y);
        ours.computeGradientAndScore();
        double before = ours.score();
        for (int i = 0; i < 20; i++) {
            ours.fit(x, y);
        }
        ours.setInput(x);
        ours.setLabels(y);
        ours.computeGradientAndScore();
        assertEquals(true, ours.score() < 0.5 * before, "score " + before + " -> " + ours.score());
    }

    @Test
    void inputsOfTheWrongWidthAreAnErrorNamingTheExpectedShape() {
        MultiLayerNetwork ours = ours(4, 4, 2, 3, 3);
        var e = assertThrows(IllegalArgumentException.class,
                () -> ours.output(Nd4j.zeros(DataType.FLOAT, 2, 31)));
        assertEquals(true, e.getMessage().contains("[N, 32]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Im2colConv.of(4, 4, 2, 2, 3));
    }
}
