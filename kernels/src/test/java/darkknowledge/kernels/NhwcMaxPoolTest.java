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
