package darkknowledge.generalist;

import darkknowledge.core.Check;
import darkknowledge.kernels.DnnlConv;
import darkknowledge.kernels.Precision;
import java.util.List;

/**
 * A small VGG-style convolutional net and how it is trained: for each stage {@code s},
 * {@code convsPerStage} ReLU convolutions of {@code channels[s]} filters ({@code kernel × kernel},
 * stride 1, same padding) followed by {@code pool × pool} max pooling; then ReLU dense layers of
 * {@code dense} units and the output layer. The paper's JFT generalist is a deep convolutional
 * net (Hinton et al. 2015, §5); this is its small-scale stand-in for image classes.
 *
 * @param inputHeight       image height in pixels
 * @param inputWidth        image width in pixels
 * @param inputChannels     values per pixel (1 = grey); input rows hold pixels in (y, x, channel) order
 * @param channels          filters of each stage's convolutions, e.g. {@code 16,32}
 * @param convsPerStage     convolutions per stage before its pooling
 * @param kernel            convolution window side (odd)
 * @param pool              pooling window side and stride after each stage (1 = no pooling)
 * @param dense             units per hidden dense layer after the convolutions, e.g. {@code 512}
 * @param dropout           probability of DROPPING an input of each dense layer and of the output layer
 * @param jitter            random translation of input images by up to this many pixels (0 = none)
 * @param optimizer         {@code adam} or {@code sgd_momentum} (Nesterov)
 * @param learningRate      initial learning rate
 * @param momentum          momentum of {@code sgd_momentum}
 * @param learningRateDecay per-epoch multiplicative decay of the learning rate (1 = constant)
 * @param epochs            maximum number of epochs
 * @param batchSize         minibatch size
 * @param patience          stop after this many epochs without a new best validation error (0 = never)
 * @param l2                L2 weight decay (0 = none)
 * @param backend           what computes the convolutions: {@code im2col} (im2col and one MKL product,
 *                          {@code Im2colConv}) or {@code dnnl} (oneDNN's convolution primitives,
 *                          {@code DnnlConv}); the same parameters, results equal to fp32 rounding
 * @param precision         of the convolutions: {@code fp32}, or {@code bf16} (bfloat16 operands, fp32
 *                          accumulation, fp32 outputs, gradients and master weights: {@link DnnlConv}) with
 *                          {@code backend=dnnl} on a CPU with {@code avx512_bf16} or {@code amx_bf16}
 *                          ({@link DnnlConv#bf16Unsupported}); refused elsewhere. Pooling and the dense layers
 *                          stay fp32
 * @param plateau           reductions of the learning rate when validation stops improving ({@link Plateau}:
 *                          keys {@code plateau.epochs}, 0 = none, and {@code plateau.factor})
 */
public record ConvConfig(int inputHeight, int inputWidth, int inputChannels, List<Integer> channels, int convsPerStage,
                         int kernel, int pool, List<Integer> dense, double dropout, int jitter,
                         MlpConfig.Optimizer optimizer, double learningRate, double momentum, double learningRateDecay,
                         int epochs, int batchSize, int patience, double l2, Backend backend, Precision precision,
                         Plateau plateau)
        implements TrainingSchedule {

    /** What computes the convolutions (key {@code conv.backend}). */
    public enum Backend { IM2COL, DNNL }

    public ConvConfig {
        Check.positive("inputHeight", inputHeight);
        Check.positive("inputWidth", inputWidth);
        Check.positive("inputChannels", inputChannels);
        channels = Check.allPositive("channels", channels);
        Check.positive("convsPerStage", convsPerStage);
        Check.that(kernel >= 1 && kernel % 2 == 1, "kernel", "must be odd and positive (same padding), got " + kernel);
        Check.positive("pool", pool);
        int h = inputHeight;
        int w = inputWidth;
        for (int s = 0; s < channels.size(); s++) {
            Check.that(h % pool == 0 && w % pool == 0, "pool", "a " + pool + "x" + pool + " window must divide the "
                    + h + "x" + w + " feature map of stage " + (s + 1) + " (input " + inputHeight + "x" + inputWidth
                    + ", " + channels.size() + " stages)");
            h /= pool;
            w /= pool;
        }
        dense = Check.allPositive("dense", dense);
        Check.inHalfOpen("dropout", dropout, 0, 1);
        Check.inRange("jitter", jitter, 0, 8);
        Check.that(optimizer != null, "optimizer", "must be adam or sgd_momentum");
        Check.positive("learningRate", learningRate);
        Check.inHalfOpen("momentum", momentum, 0, 1);
        Check.inRange("learningRateDecay", learningRateDecay, 1e-6, 1);
        Check.positive("epochs", epochs);
        Check.positive("batchSize", batchSize);
        Check.atLeast("patience", patience, 0);
        Check.nonNegative("l2", l2);
        Check.that(backend != null, "backend", "must be im2col or dnnl");
        Check.that(precision != null, "precision", "must be fp32 or bf16");
        Check.that(precision == Precision.FP32 || backend == Backend.DNNL, "precision", "bf16 convolutions run on "
                + "oneDNN only: set backend=dnnl (it is " + backend.name().toLowerCase(java.util.Locale.ROOT)
                + ") or use fp32");
        String bf16 = precision == Precision.BF16 ? DnnlConv.bf16Unsupported() : null;
        Check.that(bf16 == null, "precision", "bf16 needs bfloat16 instructions, which this machine lacks: " + bf16
                + "; use fp32 here");
        Check.that(plateau != null, "plateau", "must be given (Plateau.OFF for none)");
    }

    /** Without plateau reductions. */
    public ConvConfig(int inputHeight, int inputWidth, int inputChannels, List<Integer> channels, int convsPerStage,
                      int kernel, int pool, List<Integer> dense, double dropout, int jitter,
                      MlpConfig.Optimizer optimizer, double learningRate, double momentum, double learningRateDecay,
                      int epochs, int batchSize, int patience, double l2, Backend backend, Precision precision) {
        this(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense, dropout, jitter,
                optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, Plateau.OFF);
    }

    /** In fp32 (the default). */
    public ConvConfig(int inputHeight, int inputWidth, int inputChannels, List<Integer> channels, int convsPerStage,
                      int kernel, int pool, List<Integer> dense, double dropout, int jitter,
                      MlpConfig.Optimizer optimizer, double learningRate, double momentum, double learningRateDecay,
                      int epochs, int batchSize, int patience, double l2, Backend backend) {
        this(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense, dropout, jitter,
                optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                Precision.FP32);
    }

    /**
     * The glyph generalist's net on 32×32 grey images: 3×3 convolutions 16, 16, pool, 32, 32, pool,
     * dense 512; Adam at 1e-3, batch 128, no regularisation; convolutions by im2col.
     */
    public static ConvConfig small(int epochs) {
        return new ConvConfig(32, 32, 1, List.of(16, 32), 2, 3, 2, List.of(512), 0, 0, MlpConfig.Optimizer.ADAM, 1e-3,
                0.9, 1.0, epochs, 128, 0, 0, Backend.IM2COL);
    }

    public ConvConfig withInput(int height, int width, int channelsPerPixel) {
        return new ConvConfig(height, width, channelsPerPixel, channels, convsPerStage, kernel, pool, dense, dropout,
                jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withChannels(List<Integer> c, int perStage) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, c, perStage, kernel, pool, dense, dropout,
                jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withDense(List<Integer> d) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, d, dropout,
                jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withDropout(double p) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense, p,
                jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withEpochs(int e) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, learningRate, momentum, learningRateDecay, e, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withLearningRate(double lr) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, lr, momentum, learningRateDecay, epochs, batchSize, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withBatchSize(int b) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, b, patience, l2, backend,
                precision, plateau);
    }

    public ConvConfig withBackend(Backend b) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2,
                b, precision, plateau);
    }

    public ConvConfig withPrecision(Precision p) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2,
                backend, p, plateau);
    }

    public ConvConfig withPlateau(Plateau p) {
        return new ConvConfig(inputHeight, inputWidth, inputChannels, channels, convsPerStage, kernel, pool, dense,
                dropout, jitter, optimizer, learningRate, momentum, learningRateDecay, epochs, batchSize, patience, l2,
                backend, precision, p);
    }

    /** Learning rate of epoch {@code e} (0-based) by the decay alone: {@code learningRate * learningRateDecay^e}. */
    @Override
    public double learningRateAt(int e) {
        return learningRate * Math.pow(learningRateDecay, e);
    }

    /** Values per input row: {@code inputHeight · inputWidth · inputChannels}. */
    public int numInputs() {
        return inputHeight * inputWidth * inputChannels;
    }

    /** Values per example after the last stage's pooling: the first dense layer's input size. */
    public int featureSize() {
        int h = inputHeight;
        int w = inputWidth;
        for (int s = 0; s < channels.size(); s++) {
            h /= pool;
            w /= pool;
        }
        return h * w * channels.get(channels.size() - 1);
    }

    /** Number of weights and biases for {@code nOut} classes. */
    public long parameterCount(int nOut) {
        long count = 0;
        int in = inputChannels;
        for (int c : channels) {
            for (int i = 0; i < convsPerStage; i++) {
                count += (long) kernel * kernel * in * c + c;
                in = c;
            }
        }
        int prev = featureSize();
        for (int d : dense) {
            count += (long) prev * d + d;
            prev = d;
        }
        return count + (long) prev * nOut + nOut;
    }

    /**
     * Multiply-adds of one example's forward pass for {@code nOut} classes (convolutions and dense
     * layers; pooling and activations are not counted). A training step costs about three times this.
     */
    public long multiplyAdds(int nOut) {
        long macs = 0;
        int h = inputHeight;
        int w = inputWidth;
        int in = inputChannels;
        for (int c : channels) {
            for (int i = 0; i < convsPerStage; i++) {
                macs += (long) h * w * kernel * kernel * in * c;
                in = c;
            }
            h /= pool;
            w /= pool;
        }
        int prev = featureSize();
        for (int d : dense) {
            macs += (long) prev * d;
            prev = d;
        }
        return macs + (long) prev * nOut;
    }
}
