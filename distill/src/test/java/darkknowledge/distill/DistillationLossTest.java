package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;

class DistillationLossTest {
    private static final int K = 5;
    private static DataType previous;

    @BeforeAll
    static void doublePrecision() {
        previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        Nd4j.getRandom().setSeed(42);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(previous, previous);
    }

    private static INDArray softTargets(int n, double t) {
        return TemperatureSoftmax.soften(Nd4j.randn(DataType.DOUBLE, n, K).muli(3), t);
    }

    private static INDArray oneHot(int n) {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, K);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % K, 1);
        }
        return y;
    }

    @Test
    void softGradientIsQMinusPOverTBeforeTheTSquaredFactor() {
        double t = 4;
        INDArray z = Nd4j.randn(DataType.DOUBLE, 6, K).muli(2);
        INDArray p = softTargets(6, t);
        INDArray grad = new DistillationLoss(t, 0).computeGradient(DistillationLoss.labels(p, oneHot(6)), z,
                new ActivationIdentity(), null);
        INDArray expected = TemperatureSoftmax.soften(z, t).sub(p).divi(t);
        assertTrue(grad.div(t * t).equalsWithEps(expected, 1e-12));
    }

    @Test
    void hardTermAddsWeightTimesQMinusYAtTemperatureOne() {
        double t = 3;
        double w = 0.5;
        INDArray z = Nd4j.randn(DataType.DOUBLE, 4, K);
        INDArray p = softTargets(4, t);
        INDArray y = oneHot(4);
        INDArray grad = new DistillationLoss(t, w).computeGradient(DistillationLoss.labels(p, y), z, new ActivationIdentity(), null);
        INDArray expected = TemperatureSoftmax.soften(z, t).sub(p).muli(t)
                .addi(TemperatureSoftmax.soften(z, 1).sub(y).muli(w));
        assertTrue(grad.equalsWithEps(expected, 1e-12));
        double score = new DistillationLoss(t, w).computeScore(DistillationLoss.labels(p, y), z, new ActivationIdentity(), null, false);
        double soft = -p.mul(TemperatureSoftmax.logSoften(z, t)).sumNumber().doubleValue() * t * t;
        double hard = -y.mul(TemperatureSoftmax.logSoften(z, 1)).sumNumber().doubleValue() * w;
        assertEquals(soft + hard, score, 1e-9);
    }

    @Test
    void highTemperatureGradientApproachesLogitMatching() {
        // §2.1: with zero-meaned logits, dC/dz_i ≈ (z_i - v_i) / (N T²) as T grows.
        double t = 200;
        INDArray z = Nd4j.randn(DataType.DOUBLE, 3, K);
        INDArray v = Nd4j.randn(DataType.DOUBLE, 3, K);
        z.subiColumnVector(z.mean(true, 1));
        v.subiColumnVector(v.mean(true, 1));
        INDArray p = TemperatureSoftmax.soften(v, t);
        INDArray dC = new DistillationLoss(t, 0).computeGradient(DistillationLoss.labels(p, oneHot(3)), z,
                new ActivationIdentity(), null).divi(t * t);
        INDArray limit = z.sub(v).divi(K * t * t);
        double relative = dC.sub(limit).norm2Number().doubleValue() / limit.norm2Number().doubleValue();
        assertTrue(relative < 1e-2, "relative difference " + relative);
        // and the logit-matching loss's gradient is exactly (z - v) for centred logits
        INDArray lm = new LogitMatchingLoss().computeGradient(v, z, new ActivationIdentity(), null);
        assertTrue(lm.equalsWithEps(z.sub(v), 1e-12));
    }

    @Test
    void distillationLossPassesDl4jGradientCheck() {
        assertTrue(gradientCheck(new DistillationLoss(2.5, 0.5), DistillationLoss.labels(softTargets(8, 2.5), oneHot(8))));
    }

    @Test
    void logitMatchingLossPassesDl4jGradientCheck() {
        assertTrue(gradientCheck(new LogitMatchingLoss(), Nd4j.randn(DataType.DOUBLE, 8, K).muli(3)));
    }

    @Test
    void lossSurvivesTheNetworkJsonRoundTrip() {
        MultiLayerConfiguration conf = netConf(new DistillationLoss(20, 0.25));
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        OutputLayer out = (OutputLayer) back.getConf(1).getLayer();
        assertEquals(new DistillationLoss(20, 0.25), out.getLossFn());
    }

    private static MultiLayerConfiguration netConf(ILossFunction loss) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.DOUBLE).updater(new NoOp())
                .weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(6).nOut(7).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().nIn(7).nOut(K).activation(Activation.IDENTITY).lossFunction(loss).build())
                .build();
    }

    private static boolean gradientCheck(ILossFunction loss, INDArray labels) {
        MultiLayerNetwork net = new MultiLayerNetwork(netConf(loss));
        net.init();
        INDArray x = Nd4j.randn(DataType.DOUBLE, labels.rows(), 6);
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(labels)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9));
    }
}
