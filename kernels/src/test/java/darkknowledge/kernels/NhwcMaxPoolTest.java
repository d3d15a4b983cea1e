package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/** {@link NhwcMaxPool} computes DL4J's max {@code SubsamplingLayer} (NHWC, window = stride). */
class NhwcMaxPoolTest {

    private static void assertSameAsDl4j(int n, int h, int w, int c, int s, boolean ties) {
        MultiLayerNetwork theirs = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .list()
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(s, s).stride(s, s)
                        .dataFormat(CNN2DFormat.NHWC).build())
                .layer(new OutputLayer.Builder().nOut(2).lossFunction(new LossMSE()).activation(Activation.IDENTITY)
                        .build())
                .setInputType(InputType.convolutional(h, w, c, CNN2DFormat.NHWC)).build());
        theirs.init();
        MultiLayerNetwork ours = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .list()
                .layer(NhwcMaxPool.of(h, w, c, s))
                .layer(new OutputLayer.Builder().nIn((long) (h / s) * (w / s) * c).nOut(2).lossFunction(new LossMSE())
                        .activation(Activation.IDENTITY).build())
                .build());
        ours.init();
        Layer t = theirs.getLayer(0);
        Layer o = ours.getLayer(0);
        Nd4j.getRandom().setSeed(23);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, (long) h * w * c);
        if (ties) {
            // ReLU outputs: many windows are all zeros, where both route the gradient to the window's first input.
            x = org.nd4j.linalg.ops.transforms.Transforms.relu(x.subi(0.8), false);
        }
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        long outSize = (long) (h / s) * (w / s) * c;
        INDArray expected = t.activate(x.reshape('c', n, h, w, c), true, ws);
        Im2colConvTest.assertClose(expected.reshape('c', n, outSize), o.activate(x, true, ws), "pooled");
        INDArray eps = Nd4j.randn(DataType.FLOAT, n, outSize);
        INDArray te = t.backpropGradient(eps.reshape('c', n, h / s, w / s, c).dup(), ws).getSecond();
        INDArray oe = o.backpropGradient(eps.dup(), ws).getSecond();
        Im2colConvTest.assertClose(te.reshape('c', n, (long) h * w * c), oe, "epsilon");
    }

    /** The vector loops compute exactly the scalar ones, ties (ReLU zeros) and channel tails included. */
    @Test
    void theVectorLoopsAreTheScalarOnes() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Simd.AVAILABLE, "no jdk.incubator.vector in this JVM");
        var arena = java.lang.foreign.Arena.ofAuto();
        for (int[] g : new int[][] {{3, 8, 6, 5, 2}, {2, 32, 32, 16, 2}, {2, 16, 16, 32, 2}, {2, 9, 9, 21, 3}}) {
            int n = g[0];
            int h = g[1];
            int w = g[2];
            int c = g[3];
            int s = g[4];
            long in = (long) n * h * w * c;
            long out = in / s / s;
            java.util.Random r = new java.util.Random(7);
            var x = arena.allocate(4 * in);
            var eps = arena.allocate(4 * out);
            for (long i = 0; i < in; i++) {
                x.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, Math.max(0f, (float) r.nextGaussian() - 0.5f));
            }
            for (long i = 0; i < out; i++) {
                eps.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
            }
            var o1 = arena.allocate(4 * out);
            var o2 = arena.allocate(4 * out);
            var e1 = arena.allocate(4 * in);
            var e2 = arena.allocate(4 * in);
            NhwcMaxPool.forwardScalar(x, o1, n, h, w, c, s);
            NhwcMaxPool.forward(x, o2, n, h, w, c, s);
            NhwcMaxPool.backwardScalar(x, eps, e1, n, h, w, c, s);
            NhwcMaxPool.backward(x, eps, e2, n, h, w, c, s);
            org.junit.jupiter.api.Assertions.assertEquals(-1L, o1.mismatch(o2), java.util.Arrays.toString(g) + " pooled");
            org.junit.jupiter.api.Assertions.assertEquals(-1L, e1.mismatch(e2), java.util.Arrays.toString(g) + " epsilon");
        }
    }

    @Test
    void pooledValuesAndGradientsAreDl4jsForTwoByTwoWindows() {
        assertSameAsDl4j(3, 8, 6, 5, 2, false);
    }

    @Test
    void tiedWindowsRouteTheGradientAsDl4jDoes() {
        assertSameAsDl4j(2, 6, 6, 3, 2, true);
    }

    @Test
    void threeByThreeWindowsMatchToo() {
        assertSameAsDl4j(2, 6, 9, 2, 3, false);
    }

    @Test
    void aWindowThatDoesNotDivideTheImageIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> NhwcMaxPool.of(7, 8, 2, 2));
    }
}
