package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;

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

    /**
     * The fused pass against the formulation it replaced, a chain of ND4J ops in float (kept below
     * as {@link #nd4jScores} and {@link #nd4jGradient}): scores, their sum and mean, and gradients
     * agree to fp32 rounding for several temperatures and hard weights (w = 0 included), with the
     * logits in DL4J's 'f' layout and the labels a view into a wider matrix, with and without a mask.
     */
    @Test
    void fusedPassEqualsTheNd4jFormulationToFloatRounding() {
        int n = 37;
        int k = 10;
        for (double t : new double[] {1, 2.5, 8, 20}) {
            for (double w : new double[] {0, 0.1, 0.5, 3}) {
                INDArray z = Nd4j.randn(DataType.FLOAT, n, k).muli(4).dup('f');
                INDArray p = TemperatureSoftmax.soften(Nd4j.randn(DataType.FLOAT, n, k).muli(5), t);
                INDArray y = Nd4j.zeros(DataType.FLOAT, n, k);
                for (int i = 0; i < n; i++) {
                    y.putScalar(i, (i * 7) % k, 1);
                }
                INDArray wide = Nd4j.hstack(Nd4j.rand(DataType.FLOAT, n, 3), DistillationLoss.labels(p, y));
                INDArray labels = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(3, 3 + 2 * k));
                INDArray mask = Nd4j.ones(DataType.FLOAT, n, 1);
                for (int i = 0; i < n; i += 3) {
                    mask.putScalar(i, 0, i % 2 == 0 ? 0 : 0.5);
                }
                DistillationLoss loss = new DistillationLoss(t, w);
                String at = "T=" + t + ", w=" + w;
                for (INDArray m : java.util.Arrays.asList(null, mask)) {
                    INDArray refScores = nd4jScores(t, w, labels, z.dup('c'), m);
                    INDArray refGrad = nd4jGradient(t, w, labels, z.dup('c'), m);
                    // fp32 rounding: a few units in the last place of the largest values
                    double scoreTol = 16 * Math.ulp(refScores.amaxNumber().floatValue());
                    double gradTol = 8 * Math.ulp((float) (t + w));
                    INDArray scores = loss.computeScoreArray(labels, z, new ActivationIdentity(), m);
                    assertEquals(DataType.FLOAT, scores.dataType());
                    assertArrayEquals(new long[] {n}, scores.shape());
                    assertClose(refScores, scores, scoreTol, at + " scores");
                    double sum = refScores.castTo(DataType.DOUBLE).sumNumber().doubleValue();
                    assertEquals(sum, loss.computeScore(labels, z, new ActivationIdentity(), m, false), scoreTol * n, at);
                    assertEquals(sum / n, loss.computeScore(labels, z, new ActivationIdentity(), m, true), scoreTol, at);
                    INDArray grad = loss.computeGradient(labels, z, new ActivationIdentity(), m);
                    assertEquals(DataType.FLOAT, grad.dataType());
                    assertArrayEquals(new long[] {n, k}, grad.shape());
                    assertClose(refGrad, grad, gradTol, at + " gradient");
                    var both = loss.computeGradientAndScore(labels, z, new ActivationIdentity(), m, true);
                    assertEquals(sum / n, both.getFirst(), scoreTol, at);
                    assertClose(refGrad, both.getSecond(), gradTol, at + " gradient and score");
                }
            }
        }
    }

    @Test
    void unlabeledRowsDropTheHardTermFromScoreAndGradient() {
        double t = 4;
        int n = 6;
        INDArray z = Nd4j.randn(DataType.DOUBLE, n, K).muli(2);
        INDArray p = softTargets(n, t);
        INDArray y = oneHot(n);
        for (int i = 0; i < n; i += 2) {
            y.getRow(i).assign(0);
        }
        INDArray labels = DistillationLoss.labels(p, y);
        INDArray both = new DistillationLoss(t, 0.7).computeGradient(labels, z, new ActivationIdentity(), null);
        INDArray soft = new DistillationLoss(t, 0).computeGradient(labels, z, new ActivationIdentity(), null);
        INDArray both1 = new DistillationLoss(t, 0.7).computeScoreArray(labels, z, new ActivationIdentity(), null);
        INDArray soft1 = new DistillationLoss(t, 0).computeScoreArray(labels, z, new ActivationIdentity(), null);
        for (int i = 0; i < n; i++) {
            boolean unlabeled = i % 2 == 0;
            assertEquals(unlabeled, both.getRow(i).equalsWithEps(soft.getRow(i), 1e-15), "row " + i);
            assertEquals(unlabeled, Math.abs(both1.getDouble(i) - soft1.getDouble(i)) < 1e-15, "row " + i);
        }
        assertTrue(gradientCheck(new DistillationLoss(t, 0.7), labels));
    }

    /** The score array of the ND4J formulation the fused pass replaced (its computeScoreArray). */
    private static INDArray nd4jScores(double t, double w, INDArray labels, INDArray z, INDArray mask) {
        long k = z.columns();
        INDArray p = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k));
        INDArray y = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k));
        INDArray soft = p.mul(TemperatureSoftmax.logSoften(z, t)).sum(true, 1).muli(-t * t);
        if (w > 0) {
            soft.addi(y.mul(TemperatureSoftmax.logSoften(z, 1)).sum(true, 1).muli(-w));
        }
        INDArray score = soft.reshape(soft.length());
        return mask == null ? score : score.muli(mask.reshape(mask.length()).castTo(score.dataType()));
    }

    /** The gradient of the ND4J formulation the fused pass replaced (its computeGradient). */
    private static INDArray nd4jGradient(double t, double w, INDArray labels, INDArray z, INDArray mask) {
        long k = z.columns();
        INDArray p = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k));
        INDArray y = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k));
        INDArray grad = TemperatureSoftmax.soften(z, t).subi(p).muli(t);
        if (w > 0) {
            grad.addi(TemperatureSoftmax.soften(z, 1).subi(y).muli(w));
        }
        return mask == null ? grad : grad.muliColumnVector(mask.reshape(mask.length(), 1).castTo(grad.dataType()));
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double worst = Transforms.abs(expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)), false)
                .maxNumber().doubleValue();
        assertTrue(worst <= tolerance, what + ": largest difference " + worst + " > " + tolerance);
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
