package darkknowledge.bench;

import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.kernels.Cpu;
import darkknowledge.kernels.DnnlConv;
import darkknowledge.kernels.FusedAdam;
import darkknowledge.kernels.GemmOutput;
import darkknowledge.kernels.Im2colConv;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.kernels.Precision;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * Training speed of the convolutional generalist: DL4J's own convolution and pooling layers against
 * ours, with the convolutions computed by im2col and one GEMM ({@link Im2colConv}, {@code
 * conv.backend=im2col}) and by oneDNN ({@link DnnlConv}, {@code conv.backend=dnnl}), side by side in
 * one process, repeated, and against the GEMM rates measured in the same rounds.
 *
 * <p>Effective rate = examples/s × 3 × 2 × (multiply-adds of one forward pass), the usual
 * "training costs three forward passes" count (pooling and activations not counted). Measured per
 * round, in a rotating order: a training step of the whole net (the glyph generalist, its dense 512
 * and softmax layers included) on each of the three implementations; the convolutions alone on each
 * backend (the same convolutions and poolings under a dense layer of 8 units and 10 classes, whose
 * products are 0.3% of the work: "conv training"), oneDNN also on plain NHWC tensors; the GEMM
 * references. The references: the fp32
 * ceiling, the faster of MKL's and OpenBLAS's {@code cblas_sgemm} on the products of a 800→800 layer's
 * training step at batch 128 (fwd, dW, dX), each library in a child JVM with this process's threads
 * ({@link GemmCeiling}, as {@code ./dk bench} measures it; {@code ceiling=no} skips it); and through
 * ND4J's {@code Nd4j.gemm} (MKL when ND4J's BLAS is MKL) the same 128×800×800 products and the very
 * products an im2col training step of this net performs, at its shapes and layouts, on preallocated
 * arrays.
 *
 * <p>Run (from the repository root, after {@code mvn -B -q package -DskipTests} and
 * {@code mvn -B -q -pl experiments dependency:build-classpath -Dmdep.outputFile=/tmp/dk.cp}, in the
 * environment of {@code ./dk}'s {@code run_java}):
 * <pre>
 *   OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 MKL_THREADING_LAYER=INTEL \
 *     MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=268435456 \
 *     LD_PRELOAD=$(ls target/native/mkl-*-redist/libiomp5.so) java --enable-native-access=ALL-UNNAMED \
 *     --sun-misc-unsafe-memory-access=allow --add-modules=jdk.incubator.vector -Dorg.bytedeco.openblas.load=mkl_rt \
 *     -Xmx3g -cp experiments/target/classes:$(cat /tmp/dk.cp) \
 *     darkknowledge.bench.ConvBenchmark [repeats=5] [steps=4] [classes=3755] [ceiling=yes]
 * </pre>
 * Where the CPU has bf16 instructions ({@link DnnlConv#bf16Unsupported}) the whole net and the
 * convolutions alone are also timed with {@code conv.precision=bf16} ({@link #BF16}), in the same
 * rotation.
 *
 * <p>With {@code OMP_NUM_THREADS=1 MKL_NUM_THREADS=1} it also prints rates per CPU-second of the one
 * thread, which other processes on a shared machine barely disturb. {@code -Ddarkknowledge.conv.chunkBytes=N}
 * sets {@link Im2colConv}'s chunk size (default 1 MiB).
 */
public final class ConvBenchmark {
    /** The implementations timed on the whole net, in the order of the first round. */
    static final List<String> NETS = List.of("DL4J", "im2col", "dnnl", "dnnl, DL4J head");
    /**
     * The backends timed on the convolutions alone; {@code dnnl-nhwc}: oneDNN on plain NHWC tensors
     * throughout ({@code -Ddarkknowledge.dnnl.layout=nhwc} while its primitives are built).
     */
    static final List<String> CONVS = List.of("im2col", "dnnl", "dnnl-nhwc");
    /**
     * The name of the dnnl net and convolutions in bf16 ({@code conv.precision=bf16}), timed in both
     * lists besides {@link #NETS} and {@link #CONVS} where the CPU has bf16 instructions.
     */
    static final String BF16 = "dnnl bf16";

    private ConvBenchmark() {
    }

    /**
     * Per round: examples/s of each whole net ({@link #NETS}) and of each backend's convolutions alone
     * ({@link #CONVS}), and {@link #BF16} in each where it was timed, by wall clock and per second of
     * the calling thread's CPU time ({@code cpu*}: meaningful with one thread, where all work runs on
     * the calling thread); GEMM rates (GFLOP/s): the
     * fp32 ceiling (empty when skipped) and its library, ND4J's 128×800×800 products (and per CPU-second)
     * and ND4J's products of this net.
     */
    public record Result(ConvConfig config, int classes, ConvConfig convOnly, int convOnlyClasses,
                         Map<String, List<Double>> nets, Map<String, List<Double>> convs,
                         Map<String, List<Double>> cpuNets, Map<String, List<Double>> cpuConvs,
                         List<Double> ceiling, List<String> ceilingLibrary, List<Double> gemmMlp,
                         List<Double> cpuGemmMlp, List<Double> gemmNet) {
        /** GFLOP/s of a training step of the whole net at {@code examplesPerSecond}. */
        public double gflops(double examplesPerSecond) {
            return examplesPerSecond * 3 * 2.0 * config.multiplyAdds(classes) / 1e9;
        }

        /** GFLOP/s of a training step of the convolutions alone at {@code examplesPerSecond}. */
        public double convGflops(double examplesPerSecond) {
            return examplesPerSecond * 3 * 2.0 * convOnly.multiplyAdds(convOnlyClasses) / 1e9;
        }
    }

    /** Median of a list of numbers. */
    public static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** Rate of a DL4J-layers or our net. */
    private record Timed(String name, MultiLayerNetwork net, INDArray x, INDArray y, int steps, boolean conv) {
    }

    /**
     * {@code repeats} rounds of: each whole net and each backend's convolutions alone ({@code steps}
     * training steps for DL4J's, 4× as many for ours, in an order rotating by round), then the GEMM
     * references; the ceiling's probes when {@code ceiling} is non-null.
     */
    public static Result measure(ConvConfig cfg, int classes, int repeats, int steps, long seed, GemmCeiling ceiling) {
        return measure(cfg, classes, repeats, steps, seed, ceiling, false);
    }

    /** {@link #measure}, printing oneDNN's chosen implementations when {@code verbose}. */
    static Result measure(ConvConfig cfg, int classes, int repeats, int steps, long seed, GemmCeiling ceiling,
            boolean verbose) {
        int batch = cfg.batchSize();
        ConvConfig convOnly = cfg.withDense(List.of(8));
        int convOnlyClasses = 10;
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, cfg.numInputs());
        INDArray y = labels(batch, classes);
        INDArray yConv = labels(batch, convOnlyClasses);
        int ours = Math.max(steps, 4 * steps);
        List<Timed> timed = new ArrayList<>();
        timed.add(new Timed("DL4J", dl4jNet(cfg, classes, seed), x, y, steps, false));
        timed.add(new Timed("im2col", Classifier.create(cfg, classes, null, seed).network(), x, y, ours, false));
        timed.add(new Timed("dnnl", Classifier.create(cfg.withBackend(ConvConfig.Backend.DNNL), classes, null, seed)
                .network(), x, y, ours, false));
        timed.add(new Timed("dnnl, DL4J head", withDl4jHead(Classifier.create(cfg.withBackend(ConvConfig.Backend.DNNL),
                classes, null, seed).network()), x, y, ours, false));
        timed.add(new Timed("im2col", Classifier.create(convOnly, convOnlyClasses, null, seed).network(), x, yConv,
                ours, true));
        timed.add(new Timed("dnnl", Classifier.create(convOnly.withBackend(ConvConfig.Backend.DNNL), convOnlyClasses,
                null, seed).network(), x, yConv, ours, true));
        timed.add(new Timed("dnnl-nhwc", Classifier.create(convOnly.withBackend(ConvConfig.Backend.DNNL),
                convOnlyClasses, null, seed).network(), x, yConv, ours, true));
        if (DnnlConv.bf16Unsupported() == null) {
            timed.add(new Timed(BF16, Classifier.create(cfg.withBackend(ConvConfig.Backend.DNNL)
                    .withPrecision(Precision.BF16), classes, null, seed).network(), x, y, ours, false));
            timed.add(new Timed(BF16, Classifier.create(convOnly.withBackend(ConvConfig.Backend.DNNL)
                    .withPrecision(Precision.BF16), convOnlyClasses, null, seed).network(), x, yConv, ours, true));
        }
        NetGemms netGemms = new NetGemms(cfg, classes);
        String layout = System.getProperty("darkknowledge.dnnl.layout");
        for (Timed t : timed) {
            // a layer builds its primitives, in the layout the property names, on its first step
            if (t.name().equals("dnnl-nhwc")) {
                System.setProperty("darkknowledge.dnnl.layout", "nhwc");
            } else if (layout == null) {
                System.clearProperty("darkknowledge.dnnl.layout");
            } else {
                System.setProperty("darkknowledge.dnnl.layout", layout);
            }
            for (int i = 0; i < 2; i++) {
                t.net().fit(t.x(), t.y());
            }
        }
        if (layout == null) {
            System.clearProperty("darkknowledge.dnnl.layout");
        } else {
            System.setProperty("darkknowledge.dnnl.layout", layout);
        }
        for (Timed t : timed) {
            if (verbose && t.conv() && t.name().startsWith("dnnl")) {
                for (var layer : t.net().getLayers()) {
                    if (layer.conf().getLayer() instanceof DnnlConv conv) {
                        System.out.println(t.name() + " " + conv + ": " + DnnlConv.implementations(layer, batch));
                    }
                }
            }
        }
        gemmMlp(2);
        netGemms.run(2);
        Map<String, List<Double>> nets = new LinkedHashMap<>();
        Map<String, List<Double>> convs = new LinkedHashMap<>();
        Map<String, List<Double>> cpuNets = new LinkedHashMap<>();
        Map<String, List<Double>> cpuConvs = new LinkedHashMap<>();
        for (Timed t : timed) {
            (t.conv() ? convs : nets).put(t.name(), new ArrayList<>());
            (t.conv() ? cpuConvs : cpuNets).put(t.name(), new ArrayList<>());
        }
        List<Double> ceil = new ArrayList<>();
        List<String> ceilLib = new ArrayList<>();
        List<Double> gm = new ArrayList<>();
        List<Double> cg = new ArrayList<>();
        List<Double> gn = new ArrayList<>();
        List<GemmCeiling.Product> mlp = GemmCeiling.trainingStep(List.of(800, 800), 128);
        for (int r = 0; r < repeats; r++) {
            for (int i = 0; i < timed.size(); i++) {
                Timed t = timed.get((i + r) % timed.size());
                double[] e = examplesPerSecond(t.net(), t.x(), t.y(), t.steps());
                (t.conv() ? convs : nets).get(t.name()).add(e[0]);
                (t.conv() ? cpuConvs : cpuNets).get(t.name()).add(e[1]);
            }
            long c0 = CPU.getCurrentThreadCpuTime();
            gm.add(gemmMlp(10));
            cg.add(10 * 3 * 2.0 * 128 * 800 * 800 / ((CPU.getCurrentThreadCpuTime() - c0) / 1e9) / 1e9);
            gn.add(netGemms.run(3));
            if (ceiling != null) {
                var mkl = ceiling.mkl().secondsPerCall(false, 2e9, mlp);
                var ob = ceiling.openblas().secondsPerCall(false, 2e9, mlp);
                boolean openblasFaster = GemmCeiling.gflops(ob) > GemmCeiling.gflops(mkl);
                ceil.add(GemmCeiling.gflops(openblasFaster ? ob : mkl));
                ceilLib.add((openblasFaster ? ceiling.openblas() : ceiling.mkl()).library().name());
            }
        }
        return new Result(cfg, classes, convOnly, convOnlyClasses, nets, convs, cpuNets, cpuConvs, ceil, ceilLib, gm,
                cg, gn);
    }

    /** {@code net} with its {@link GemmOutput} replaced by DL4J's own output layer, same parameters. */
    static MultiLayerNetwork withDl4jHead(MultiLayerNetwork net) {
        var conf = net.getLayerWiseConfigurations().clone();
        int last = conf.getConfs().size() - 1;
        conf.getConf(last).setLayer(((GemmOutput) conf.getConf(last).getLayer()).stock());
        MultiLayerNetwork stock = new MultiLayerNetwork(conf);
        stock.init(net.params().dup(), true);
        return stock;
    }

    /** One-hot labels spread over {@code classes}. */
    private static INDArray labels(int batch, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, (i * 7919L) % classes, 1.0);
        }
        return y;
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

    /** Per round a / b. */
    private static List<Double> ratio(List<Double> a, List<Double> b) {
        List<Double> r = new ArrayList<>();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            r.add(a.get(i) / b.get(i));
        }
        return r;
    }

    /** Per round rate(a) / b. */
    private static List<Double> ratio(List<Double> a, java.util.function.DoubleUnaryOperator rate, List<Double> b) {
        return ratio(a.stream().map(rate::applyAsDouble).toList(), b);
    }

    public static void main(String[] args) {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int classes = args.length > 2 ? Integer.parseInt(args[2]) : 3755;
        boolean withCeiling = args.length <= 3 || !args[3].replace("ceiling=", "").equals("no");
        ConvConfig cfg = ConvConfig.small(1);
        System.out.println("CPU: " + Cpu.info() + ", " + Runtime.getRuntime().availableProcessors() + " processors");
        System.out.println("native: " + NativeLibraries.describe());
        System.out.println("dnnl: " + DnnlConv.library());
        Result r;
        try (GemmCeiling ceiling = withCeiling ? GemmCeiling.start(Cpu.CPUINFO, 2e9) : null) {
            if (ceiling != null) {
                System.out.println("ceiling probes: " + ceiling.mkl().library().name() + " (" + ceiling.mkl().threads()
                        + " threads), " + ceiling.openblas().library().name() + " (" + ceiling.openblas().threads()
                        + " threads)");
            }
            r = measure(cfg, classes, repeats, steps, 1, ceiling, true);
        }
        System.out.printf(Locale.ROOT, "conv net %s stages %s x%d, kernel %d, pool %d, dense %s, %d classes, batch %d;"
                        + " %.1f MFLOP forward per example (convolutions %.1f); OMP_NUM_THREADS=%s MKL_NUM_THREADS=%s;"
                        + " %s%n",
                cfg.inputHeight() + "x" + cfg.inputWidth() + "x" + cfg.inputChannels(), cfg.channels(),
                cfg.convsPerStage(), cfg.kernel(), cfg.pool(), cfg.dense(), classes, cfg.batchSize(),
                2.0 * cfg.multiplyAdds(classes) / 1e6, 2.0 * r.convOnly().multiplyAdds(r.convOnlyClasses()) / 1e6,
                System.getenv("OMP_NUM_THREADS"), System.getenv("MKL_NUM_THREADS"),
                System.getProperty("org.bytedeco.openblas.load", "openblas"));
        System.out.printf(Locale.ROOT, "%d rounds (median (min–max)), order rotating by round; per round %d DL4J steps,"
                + " %d of ours%n", repeats, steps, Math.max(steps, 4 * steps));
        System.out.println("whole net, training step:");
        for (String n : r.nets().keySet()) {
            List<Double> e = r.nets().get(n);
            System.out.printf(Locale.ROOT, "  %-9s examples/s %s   GFLOP/s %s%n", n, stats(e, "%.0f"),
                    stats(e.stream().map(r::gflops).toList(), "%.1f"));
        }
        System.out.println("  dnnl / im2col  " + stats(ratio(r.nets().get("dnnl"), r.nets().get("im2col")), "%.2f")
                + "   (goal >= 3)");
        System.out.println("  im2col / DL4J  " + stats(ratio(r.nets().get("im2col"), r.nets().get("DL4J")), "%.2f")
                + "   dnnl / DL4J " + stats(ratio(r.nets().get("dnnl"), r.nets().get("DL4J")), "%.2f"));
        if (r.nets().containsKey(BF16)) {
            System.out.println("  bf16 / fp32 (dnnl) " + stats(ratio(r.nets().get(BF16), r.nets().get("dnnl")), "%.3f"));
        } else {
            System.out.println("  bf16 not timed: " + DnnlConv.bf16Unsupported());
        }
        System.out.println("convolutions alone (4 convolutions, 2 poolings, dense 8, 10 classes), training step:");
        for (String n : r.convs().keySet()) {
            List<Double> e = r.convs().get(n);
            System.out.printf(Locale.ROOT, "  %-9s examples/s %s   GFLOP/s %s%n", n, stats(e, "%.0f"),
                    stats(e.stream().map(r::convGflops).toList(), "%.1f"));
        }
        System.out.println("  dnnl / im2col  " + stats(ratio(r.convs().get("dnnl"), r.convs().get("im2col")), "%.2f")
                + "   dnnl / dnnl-nhwc " + stats(ratio(r.convs().get("dnnl"), r.convs().get("dnnl-nhwc")), "%.2f"));
        if (r.convs().containsKey(BF16)) {
            System.out.println("  bf16 / fp32 (dnnl) " + stats(ratio(r.convs().get(BF16), r.convs().get("dnnl")), "%.3f"));
        }
        if (!r.ceiling().isEmpty()) {
            System.out.println("fp32 GEMM ceiling (cblas_sgemm, 128x800x800 fwd/dW/dX, best library per round: "
                    + new java.util.TreeSet<>(r.ceilingLibrary()) + ")   GFLOP/s " + stats(r.ceiling(), "%.0f"));
            for (String n : r.convs().keySet()) {
                System.out.printf(Locale.ROOT, "  %-9s convolutions / ceiling %s%s%n", n,
                        stats(ratio(r.convs().get(n), r::convGflops, r.ceiling()), "%.2f"), r.nets().containsKey(n)
                                ? "   whole net / ceiling " + stats(ratio(r.nets().get(n), r::gflops, r.ceiling()), "%.2f")
                                : "");
            }
            System.out.println("  (goal: dnnl convolutions / ceiling >= 0.5)");
        }
        System.out.println("ND4J GEMM 128x800x800 (MLP step products)   GFLOP/s " + stats(r.gemmMlp(), "%.0f"));
        System.out.println("ND4J GEMM of this net's own im2col products GFLOP/s " + stats(r.gemmNet(), "%.0f"));
        for (String n : List.of("im2col", "dnnl")) {
            System.out.printf(Locale.ROOT, "  %-9s whole net / ND4J GEMM 128x800x800 %s   / GEMM of own shapes %s%n", n,
                    stats(ratio(r.nets().get(n), r::gflops, r.gemmMlp()), "%.2f"),
                    stats(ratio(r.nets().get(n), r::gflops, r.gemmNet()), "%.2f"));
        }
        if ("1".equals(System.getenv("OMP_NUM_THREADS"))) {
            System.out.println("per CPU-second of the one thread (robust to other load):");
            for (String n : r.cpuNets().keySet()) {
                System.out.printf(Locale.ROOT, "  whole net %-9s examples/s %s%n", n, stats(r.cpuNets().get(n), "%.0f"));
            }
            for (String n : r.cpuConvs().keySet()) {
                System.out.printf(Locale.ROOT, "  convolutions %-9s GFLOP/s %s%n", n,
                        stats(r.cpuConvs().get(n).stream().map(r::convGflops).toList(), "%.1f"));
            }
            System.out.println("  ND4J GEMM 128x800x800 GFLOP/s " + stats(r.cpuGemmMlp(), "%.0f"));
        }
        System.out.println("raw values: nets " + r.nets() + " convs " + r.convs() + " ceiling " + r.ceiling() + " "
                + r.ceilingLibrary() + " gemmMlp " + r.gemmMlp() + " gemmNet " + r.gemmNet() + " "
                + Arrays.toString(new int[] {repeats, steps}));
    }
}
