package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.ops.transforms.Transforms;

/** {@link DnnlMaxPool} computes {@link NhwcMaxPool}'s pooling and its gradient. */
class DnnlMaxPoolTest {

    private static Layer layer(NhwcMaxPool pool, int h, int w, int c, int s) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .list()
                .layer(pool)
                .layer(new OutputLayer.Builder().nIn((long) (h / s) * (w / s) * c).nOut(2).lossFunction(new LossMSE())
                        .activation(Activation.IDENTITY).build())
                .build());
        net.init();
        return net.getLayer(0);
    }

    /**
     * Outputs equal and gradients equal; with ReLU outputs (ties: windows of zeros) the gradients equal
     * where the input is positive, the only places a convolution's ReLU backward lets them through.
     */
    private static void assertSameAsNhwcMaxPool(int n, int h, int w, int c, int s, boolean ties) {
        Layer ours = layer(NhwcMaxPool.of(h, w, c, s), h, w, c, s);
        Layer dnnl = layer(DnnlMaxPool.of(h, w, c, s), h, w, c, s);
        Nd4j.getRandom().setSeed(31);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, (long) h * w * c);
        if (ties) {
            x = Transforms.relu(x.subi(0.8), false);
        }
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        assertEquals(ours.activate(x, true, ws), dnnl.activate(x, true, ws), "pooled");
        INDArray eps = Nd4j.randn(DataType.FLOAT, n, (long) (h / s) * (w / s) * c);
        INDArray e1 = ours.backpropGradient(eps.dup(), ws).getSecond();
        INDArray e2 = dnnl.backpropGradient(eps.dup(), ws).getSecond();
        if (ties) {
            INDArray positive = x.gt(0).castTo(DataType.FLOAT);
            e1 = e1.mul(positive);
            e2 = e2.mul(positive);
        }
        assertEquals(e1, e2, "epsilon");
        // inference: the same output without a workspace
        assertEquals(ours.activate(x, false, ws), dnnl.activate(x, false, ws), "pooled (inference)");
    }

    @Test
    void poolingAndGradientsAreNhwcMaxPools() {
        assertSameAsNhwcMaxPool(3, 8, 6, 5, 2, false);
        assertSameAsNhwcMaxPool(4, 32, 32, 16, 2, false);
        assertSameAsNhwcMaxPool(4, 16, 16, 32, 2, true);
        assertSameAsNhwcMaxPool(2, 9, 9, 3, 3, true);
    }

    @Test
    void theGlyphNetsPoolingsRunOnJitKernels() {
        for (int[] g : new int[][] {{32, 16}, {16, 32}}) {
            var impls = DnnlMaxPool.implementations(layer(DnnlMaxPool.of(g[0], g[0], g[1], 2), g[0], g[0], g[1], 2),
                    128);
            assertTrue(impls.stream().noneMatch(i -> i.contains("ref")), impls.toString());
        }
    }
}
