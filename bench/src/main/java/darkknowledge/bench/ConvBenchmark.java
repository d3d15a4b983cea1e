package darkknowledge.bench;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.kernels.NhwcMaxPool;
import darkknowledge.kernels.Im2colConv;
import darkknowledge.kernels.FusedAdam;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * Training speed of the convolutional generalist: DL4J's own convolution and pooling layers
 * against ours ({@link Im2colConv}, {@link NhwcMaxPool}), side by side in one process, repeated,
 * and both against the GEMM rate measured in the same process.
 *
 * <p>Effective rate = examples/s × 3 × 2 × (multiply-adds of one forward pass), the usual
 * "training costs three forward passes" count (pooling and activations not counted). Two GEMM
 * references, both through ND4J's {@code Nd4j.gemm} (MKL when ND4J's BLAS is MKL): the products of
 * an MLP training step at 128×800×800 (as {@code ./dk bench} measures it), and the very products a
 * training step of our net performs, at its shapes and layouts, on preallocated arrays: the rate a
 * perfect implementation of this net could reach with this GEMM.
 *
 * <p>Run (from the repository root, after building, with the experiments module's classpath so
 * that MKL is present; the same environment as {@code ./dk}):
 * <pre>
 *   OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 MKL_THREADING_LAYER=INTEL \
 *     LD_PRELOAD=$(ls target/native/mkl-*-redist/libiomp5.so) java --enable-native-access=ALL-UNNAMED \
 *     --sun-misc-unsafe-memory-access=allow -Dorg.bytedeco.openblas.load=mkl_rt -Xmx3g \
 *     -cp generalist/target/classes:core/target/classes:data/target/classes:$(cat experiments/target/dk.classpath) \
 *     darkknowledge.bench.ConvBenchmark [repeats=5] [steps=4] [classes=3755]
 * </pre>
 * With {@code OMP_NUM_THREADS=1 MKL_NUM_THREADS=1} it also prints rates per CPU-second of the one
 * thread, which other processes on a shared machine barely disturb. {@code -Ddarkknowledge.conv.chunkBytes=N}
 * sets {@link Im2colConv}'s chunk size (default 1 MiB).
 */
public final class ConvBenchmark {
    private ConvBenchmark() {
    }

    /**
     * Examples per second of each repeat, and GEMM rates (GFLOP/s) of each repeat: by wall clock, and
     * per second of the calling thread's CPU time ({@code cpu*}: meaningful with one thread, where all
     * work runs on the calling thread, and then robust to other processes on the machine).
     */
    public record Result(ConvConfig config, int classes, List<Double> dl4j, List<Double> ours, List<Double> gemmMlp,
                         List<Double> gemmNet, List<Double> cpuDl4j, List<Double> cpuOurs, List<Double> cpuGemmMlp) {
        /** GFLOP/s of a training step at {@code examplesPerSecond}. */
        public double gflops(double examplesPerSecond) {
            return examplesPerSecond * 3 * 2.0 * config.multiplyAdds(classes) / 1e9;
        }
    }

    /** Median of a list of numbers. */
    public static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** Alternates DL4J's net, ours and the two GEMM references, {@code repeats} times. */
    public static Result measure(ConvConfig cfg, int classes, int repeats, int steps, long seed) {
        int batch = cfg.batchSize();
        MultiLayerNetwork ours = Classifier.create(cfg, classes, null, seed).network();
        MultiLayerNetwork theirs = dl4jNet(cfg, classes, seed);
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, cfg.numInputs());
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, (i * 7919L) % classes, 1.0);
        }
        NetGemms netGemms = new NetGemms(cfg, classes);
        for (int i = 0; i < 2; i++) {
            ours.fit(x, y);
            theirs.fit(x, y);
        }
        gemmMlp(2);
        netGemms.run(2);
        List<Double> d = new ArrayList<>();
        List<Double> o = new ArrayList<>();
        List<Double> gm = new ArrayList<>();
        List<Double> gn = new ArrayList<>();
        List<Double> cd = new ArrayList<>();
        List<Double> co = new ArrayList<>();
        List<Double> cg = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            double[] t = examplesPerSecond(theirs, x, y, steps);
            d.add(t[0]);
            cd.add(t[1]);
            t = examplesPerSecond(ours, x, y, Math.max(steps, 4 * steps));
            o.add(t[0]);
            co.add(t[1]);
            long c0 = CPU.getCurrentThreadCpuTime();
            gm.add(gemmMlp(10));
            cg.add(10 * 3 * 2.0 * 128 * 800 * 800 / ((CPU.getCurrentThreadCpuTime() - c0) / 1e9) / 1e9);
            gn.add(netGemms.run(3));
        }
        return new Result(cfg, classes, d, o, gm, gn, cd, co, cg);
    }

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory
            .getThreadMXBean();

    /** {examples per wall-clock second, examples per second of this thread's CPU time}. */
    private static double[] examplesPerSecond(MultiLayerNetwork net, INDArray x, INDArray y, int steps) {
        long c = CPU.getCurrentThreadCpuTime();
        long t = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            net.fit(x, y);
        }
        return new double[] {steps * x.rows() / ((System.nanoTime() - t) / 1e9),
            steps * x.rows() / ((CPU.getCurrentThreadCpuTime() - c) / 1e9)};
    }

    /** The same architecture from DL4J's stock layers (NCHW, its default), Adam as ours. */
    static MultiLayerNetwork dl4jNet(ConvConfig cfg, int classes, long seed) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(new FusedAdam(cfg.learningRate()))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .list();
        for (int c : cfg.channels()) {
            for (int i = 0; i < cfg.convsPerStage(); i++) {
                int p = (cfg.kernel() - 1) / 2;
                list.layer(new ConvolutionLayer.Builder(cfg.kernel(), cfg.kernel()).nOut(c).padding(p, p)
                        .activation(Activation.RELU).build());
            }
            if (cfg.pool() > 1) {
                list.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(cfg.pool(), cfg.pool()).stride(cfg.pool(), cfg.pool()).build());
            }
        }
        for (int units : cfg.dense()) {
            list.layer(new DenseLayer.Builder().nOut(units).activation(Activation.RELU).build());
        }
        list.layer(new OutputLayer.Builder().nOut(classes).lossFunction(new LossMCXENT())
                .activation(Activation.SOFTMAX).build());
        MultiLayerConfiguration conf = list
                .setInputType(InputType.convolutionalFlat(cfg.inputHeight(), cfg.inputWidth(), cfg.inputChannels()))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** GFLOP/s of an MLP step's products at 128×800×800, in DL4J's layouts (as {@code ./dk bench}). */
    static double gemmMlp(int repeats) {
        INDArray x = Nd4j.rand(DataType.FLOAT, 128, 800);
        INDArray w = Nd4j.rand(DataType.FLOAT, 800, 800).dup('f');
        INDArray d = Nd4j.rand(DataType.FLOAT, 128, 800);
        INDArray z = Nd4j.create(DataType.FLOAT, 128, 800);
        INDArray dw = Nd4j.create(DataType.FLOAT, new long[] {800, 800}, 'f');
        INDArray e = Nd4j.create(DataType.FLOAT, new long[] {800, 128}, 'f');
        long t = System.nanoTime();
        for (int r = 0; r < repeats; r++) {
            x.mmuli(w, z);
            Nd4j.gemm(x, d, dw, true, false, 1.0, 0.0);
            w.mmuli(d.transpose(), e);
        }
        return repeats * 3 * 2.0 * 128 * 800 * 800 / ((System.nanoTime() - t) / 1e9) / 1e9;
    }

    /**
     * The products of one training step of the net, at its shapes and in the layouts our layers use:
     * per convolution {@code Z = col W}, {@code dW = colᵀ δ}, {@code dcol = δ Wᵀ}; per dense layer the
     * same with the minibatch as rows. Preallocated; nothing else is timed.
     */
    static final class NetGemms {
        private final List<INDArray[]> products = new ArrayList<>();
        private final double flops;

        NetGemms(ConvConfig cfg, int classes) {
            int batch = cfg.batchSize();
            int h = cfg.inputHeight();
            int w = cfg.inputWidth();
            int in = cfg.inputChannels();
            double f = 0;
            for (int c : cfg.channels()) {
                for (int i = 0; i < cfg.convsPerStage(); i++) {
                    f += add((long) batch * h * w, (long) cfg.kernel() * cfg.kernel() * in, c);
                    in = c;
                }
                h /= cfg.pool();
                w /= cfg.pool();
            }
            int prev = cfg.featureSize();
            for (int units : cfg.dense()) {
                f += add(batch, prev, units);
                prev = units;
            }
            f += add(batch, prev, classes);
            flops = f;
        }

        private double add(long m, long k, long n) {
            products.add(new INDArray[] {Nd4j.rand(DataType.FLOAT, m, k), Nd4j.rand(DataType.FLOAT, k, n).dup('f'),
                Nd4j.create(DataType.FLOAT, m, n), Nd4j.rand(DataType.FLOAT, m, n),
                Nd4j.create(DataType.FLOAT, new long[] {k, n}, 'f'), Nd4j.create(DataType.FLOAT, m, k)});
            return 3 * 2.0 * m * k * n;
        }

        /** GFLOP/s over {@code repeats} training steps' products. */
        double run(int repeats) {
            long t = System.nanoTime();
            for (int r = 0; r < repeats; r++) {
                for (INDArray[] p : products) {
                    Nd4j.gemm(p[0], p[1], p[2], false, false, 1.0, 0.0);
                    Nd4j.gemm(p[0], p[3], p[4], true, false, 1.0, 0.0);
                    Nd4j.gemm(p[3], p[1], p[5], false, true, 1.0, 0.0);
                }
            }
            return repeats * flops / ((System.nanoTime() - t) / 1e9) / 1e9;
        }
    }

    private static String stats(List<Double> v, String format) {
        double lo = v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        double hi = v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        return String.format(Locale.ROOT, format + " (" + format + "–" + format + ")", median(v), lo, hi);
    }

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int classes = args.length > 2 ? Integer.parseInt(args[2]) : 3755;
        ConvConfig cfg = ConvConfig.small(1);
        Result r = measure(cfg, classes, repeats, steps, 1);
        List<Double> ratio = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
            ratio.add(r.ours().get(i) / r.dl4j().get(i));
        }
        System.out.printf(Locale.ROOT, "conv net %s stages %s x%d, kernel %d, pool %d, dense %s, %d classes, batch %d;"
                        + " %.1f MFLOP forward per example; OMP_NUM_THREADS=%s MKL_NUM_THREADS=%s; %s%n",
                cfg.inputHeight() + "x" + cfg.inputWidth() + "x" + cfg.inputChannels(), cfg.channels(),
                cfg.convsPerStage(), cfg.kernel(), cfg.pool(), cfg.dense(), classes, cfg.batchSize(),
                2.0 * cfg.multiplyAdds(classes) / 1e6, System.getenv("OMP_NUM_THREADS"),
                System.getenv("MKL_NUM_THREADS"), System.getProperty("org.bytedeco.openblas.load", "openblas"));
        System.out.printf(Locale.ROOT, "repeats %d (median (min–max)); per repeat %d DL4J steps, %d of ours%n",
                repeats, steps, Math.max(steps, 4 * steps));
        System.out.println("DL4J layers   examples/s " + stats(r.dl4j(), "%.0f") + "   GFLOP/s "
                + stats(r.dl4j().stream().map(r::gflops).toList(), "%.1f"));
        System.out.println("our layers    examples/s " + stats(r.ours(), "%.0f") + "   GFLOP/s "
                + stats(r.ours().stream().map(r::gflops).toList(), "%.1f"));
        System.out.println("ours / DL4J   " + stats(ratio, "%.1f"));
        System.out.println("GEMM 128x800x800 (MLP step products)   GFLOP/s " + stats(r.gemmMlp(), "%.0f"));
        System.out.println("GEMM of this net's own products        GFLOP/s " + stats(r.gemmNet(), "%.0f"));
        List<Double> toMlp = new ArrayList<>();
        List<Double> toNet = new ArrayList<>();
        for (int i = 0; i < repeats; i++) {
            toMlp.add(r.gflops(r.ours().get(i)) / r.gemmMlp().get(i));
            toNet.add(r.gflops(r.ours().get(i)) / r.gemmNet().get(i));
        }
        System.out.println("ours / GEMM 128x800x800   " + stats(toMlp, "%.2f") + "   (goal >= 0.3)");
        System.out.println("ours / GEMM of own shapes " + stats(toNet, "%.2f"));
        if ("1".equals(System.getenv("OMP_NUM_THREADS"))) {
            List<Double> cpuRatio = new ArrayList<>();
            List<Double> cpuToMlp = new ArrayList<>();
            for (int i = 0; i < repeats; i++) {
                cpuRatio.add(r.cpuOurs().get(i) / r.cpuDl4j().get(i));
                cpuToMlp.add(r.gflops(r.cpuOurs().get(i)) / r.cpuGemmMlp().get(i));
            }
            System.out.println("per CPU-second of the one thread (robust to other load):");
            System.out.println("  DL4J layers examples/s " + stats(r.cpuDl4j(), "%.0f") + ", ours "
                    + stats(r.cpuOurs(), "%.0f") + ", ours / DL4J " + stats(cpuRatio, "%.1f"));
            System.out.println("  GEMM 128x800x800 GFLOP/s " + stats(r.cpuGemmMlp(), "%.0f") + ", ours / GEMM "
                    + stats(cpuToMlp, "%.2f"));
        }
        System.out.println("raw values: dl4j " + r.dl4j() + " ours " + r.ours() + " gemmMlp " + r.gemmMlp()
                + " gemmNet " + r.gemmNet() + " " + Arrays.toString(new int[] {repeats, steps}));
    }
}
