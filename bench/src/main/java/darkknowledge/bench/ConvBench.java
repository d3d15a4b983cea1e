package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Scale;
import darkknowledge.generalist.ConvConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bench's rows for the glyph generalist's conv net ({@link ConvConfig#small}: 32×32 grey images,
 * 3×3 convolutions 16, 16, pool, 32, 32, pool, dense 512, softmax), trained at 500 and 3,755 classes
 * (the small and full glyph runs), measured by {@link ConvBenchmark#measure} in rounds that alternate
 * the three implementations (DL4J's stock layers, {@code conv.backend=im2col}, {@code
 * conv.backend=dnnl}) with the fp32 ceiling ({@link GemmCeiling}: the faster of MKL and OpenBLAS on
 * an 800-800 step's products, child JVMs). Effective GFLOP/s = examples/s × 6 × multiply-adds of one
 * forward pass (pooling and activations not counted). Rows per class count: each backend's whole-net
 * training step (examples/s, and the fraction of the ceiling), dnnl against im2col (the speed-up of a
 * full-scale glyph epoch: the same steps, 50,080 images) and against DL4J's layers; and, once, each
 * backend's convolutions alone (the same convolutions and poolings under a dense layer of 8 units and
 * 10 classes) as a fraction of the ceiling. Where the CPU has bf16 instructions, the dnnl net and
 * its convolutions alone also in {@code conv.precision=bf16} (timed in the same rounds), against
 * the fp32 dnnl ones; elsewhere those rows say why they were not measured.
 */
final class ConvBench {
    private ConvBench() {
    }

    static List<Row> measure(Scale scale, long seed, GemmCeiling ceiling) {
        List<Row> rows = new ArrayList<>();
        boolean tiny = scale == Scale.TINY;
        ConvConfig cfg = tiny ? ConvConfig.small(1).withBatchSize(16) : ConvConfig.small(1);
        List<Integer> classCounts = tiny ? List.of(20) : List.of(500, 3755);
        for (int classes : classCounts) {
            ConvBenchmark.Result r = ConvBenchmark.measure(cfg, classes, Bench.ROUNDS, tiny ? 1 : 4, seed, ceiling);
            String net = "glyph conv net, " + classes + " classes, batch " + cfg.batchSize();
            String library = String.join("/", new java.util.TreeSet<>(r.ceilingLibrary()));
            for (String backend : List.of("dnnl", "im2col")) {
                List<Double> e = r.nets().get(backend);
                Spread ofCeiling = Spread.ofRatios(rates(e, r::gflops), toArray(r.ceiling()));
                rows.add(new Row(net + ", conv.backend=" + backend + " training", ConvBenchmark.median(e), "examples/s",
                        ofCeiling.median(), "of fp32 ceiling", String.format(Locale.ROOT, "%.1f GFLOP/s effective "
                        + "(median); ceiling %.0f GFLOP/s (%s); ratio %s", r.gflops(ConvBenchmark.median(e)),
                        ConvBenchmark.median(r.ceiling()), library, ofCeiling.range())));
            }
            List<Double> bf16 = r.nets().get(ConvBenchmark.BF16);
            if (bf16 != null) {
                Spread vsFp32 = Spread.ofRatios(toArray(bf16), toArray(r.nets().get("dnnl")));
                rows.add(new Row(net + ", conv.backend=dnnl training in bf16", ConvBenchmark.median(bf16),
                        "examples/s", vsFp32.median(), "of conv.backend=dnnl fp32's examples/s", String.format(
                        Locale.ROOT, "conv.precision=bf16: the convolutions on bfloat16 operands, fp32 accumulation, "
                        + "outputs and master weights; %.1f GFLOP/s effective (median), of the fp32 ceiling %s; "
                        + "ratio %s", r.gflops(ConvBenchmark.median(bf16)), Spread.ofRatios(rates(bf16, r::gflops),
                        toArray(r.ceiling())).describe(), vsFp32.range())));
            } else {
                rows.add(new Row(net + ", conv.backend=dnnl training in bf16", Double.NaN, "", Double.NaN, "",
                        "not measured: " + darkknowledge.kernels.DnnlConv.bf16Unsupported()));
            }
            Spread speedup = Spread.ofRatios(toArray(r.nets().get("dnnl")), toArray(r.nets().get("im2col")));
            rows.add(new Row(net + ", dnnl vs im2col", speedup.median(), "ratio", Double.NaN, "",
                    "examples/s of conv.backend=dnnl over conv.backend=im2col, the same net and minibatches; ratio "
                    + speedup.range() + "; goal >= 3"));
            Spread head = Spread.ofRatios(toArray(r.nets().get("dnnl")), toArray(r.nets().get("dnnl, DL4J head")));
            rows.add(new Row(net + ", output layer GemmOutput vs DL4J's", head.median(), "ratio", Double.NaN, "",
                    "examples/s of the dnnl net with its GemmOutput head (products on " + darkknowledge.kernels.Gemm.name()
                    + ", z once per step) over the same net with DL4J's OutputLayer; ratio " + head.range()));
            Spread vsDl4j = Spread.ofRatios(toArray(r.nets().get("dnnl")), toArray(r.nets().get("DL4J")));
            rows.add(new Row(net + ", stock DL4J layers", ConvBenchmark.median(r.nets().get("DL4J")), "examples/s",
                    vsDl4j.median(), "of our dnnl's examples/s", "DL4J's ConvolutionLayer and SubsamplingLayer (NCHW), "
                    + "our Adam; ratio " + vsDl4j.range()));
            if (classes == classCounts.get(0)) {  // the convolutions alone do not depend on the classes: once
                for (String backend : List.of("dnnl", "im2col")) {
                    List<Double> e = r.convs().get(backend);
                    Spread ofCeiling = Spread.ofRatios(rates(e, r::convGflops), toArray(r.ceiling()));
                    rows.add(new Row("glyph convolutions alone, conv.backend=" + backend, r.convGflops(ConvBenchmark
                            .median(e)), "GFLOP/s", ofCeiling.median(), "of fp32 ceiling", "the 4 convolutions and 2 "
                            + "poolings under a dense layer of 8 units, 10 classes, batch " + cfg.batchSize()
                            + "; training step; ratio " + ofCeiling.range()));
                }
                List<Double> convs16 = r.convs().get(ConvBenchmark.BF16);
                if (convs16 != null) {
                    Spread vsFp32 = Spread.ofRatios(toArray(convs16), toArray(r.convs().get("dnnl")));
                    rows.add(new Row("glyph convolutions alone, conv.backend=dnnl in bf16", r.convGflops(ConvBenchmark
                            .median(convs16)), "GFLOP/s", vsFp32.median(), "of conv.backend=dnnl fp32's rate",
                            "conv.precision=bf16, the same convolutions and poolings; of the fp32 ceiling "
                            + Spread.ofRatios(rates(convs16, r::convGflops), toArray(r.ceiling())).describe()
                            + "; ratio " + vsFp32.range()));
                } else {
                    rows.add(new Row("glyph convolutions alone, conv.backend=dnnl in bf16", Double.NaN, "", Double.NaN,
                            "", "not measured: " + darkknowledge.kernels.DnnlConv.bf16Unsupported()));
                }
            }
        }
        return rows;
    }

    private static double[] rates(List<Double> examplesPerSecond, java.util.function.DoubleUnaryOperator gflops) {
        return examplesPerSecond.stream().mapToDouble(e -> gflops.applyAsDouble(e)).toArray();
    }

    private static double[] toArray(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
