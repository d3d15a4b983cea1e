package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Seeds;
import darkknowledge.export.NetLayout;
import darkknowledge.export.OnnxGraph;
import darkknowledge.export.OnnxRuntimeNet;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.specialists.KlCombiner;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistEnsemble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What distillation saves at inference, measured: the distilled student exported to ONNX and run by
 * ONNX Runtime, against the same student as our {@link Classifier}, and against the specialist
 * ensemble it replaces (the generalist, {@code specialists} specialists of the generalist's size on
 * overlapping subsets, combined by the §5.4 solver, {@link SpecialistEnsemble}), in examples per
 * second at batch 1 and batch 256, on the same CPU in one process. ONNX Runtime gets as many threads
 * as ND4J ({@code OMP_NUM_THREADS}). The nets are MNIST-sized MLPs (784 inputs, 10 classes, the
 * student's hidden layers those of the §3 student at the scale) with random weights: throughput does
 * not depend on the values, except the solver's iterations, which random specialists may change.
 */
final class InferenceBench {
    private InferenceBench() {
    }

    /**
     * @param hidden      the student's (and generalist's, and each specialist's) hidden layers
     * @param specialists specialists in the ensemble
     * @param seconds     wall time to spend per measurement (after a warm-up of the same length)
     */
    static List<Row> measure(List<Integer> hidden, int specialists, double seconds, Seeds seeds) {
        int inputs = 784;
        int classes = 10;
        MlpConfig cfg = MlpConfig.plain(hidden, 1);
        Classifier student = Classifier.create(cfg, inputs, classes, null, seeds.derive("inference-student"));
        Classifier generalist = Classifier.create(cfg, inputs, classes, null, seeds.derive("inference-generalist"));
        List<Specialist> list = new ArrayList<>();
        for (int s = 0; s < specialists; s++) {
            int[] subset = {s % classes, (s + 1) % classes, (s + 3) % classes};
            java.util.Arrays.sort(subset);
            list.add(Specialist.initialise(generalist, subset, seeds.derive("inference-specialist-" + s)));
        }
        SpecialistEnsemble ensemble = new SpecialistEnsemble(generalist, list, classes, KlCombiner.defaults());
        int threads = Integer.parseInt(System.getenv().getOrDefault("OMP_NUM_THREADS", "2"));
        Path dir;
        try {
            dir = Files.createTempDirectory("dk-inference-bench");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the exported student", e);
        }
        Path onnx = dir.resolve("student.onnx");
        OnnxGraph.write(NetLayout.of(student), Map.of("model", "bench student"), false, onnx);
        List<Row> rows = new ArrayList<>();
        String net = inputs + "-" + hidden.stream().map(String::valueOf).reduce((a, b) -> a + "-" + b).orElse("")
                + "-" + classes;
        try (OnnxRuntimeNet ort = new OnnxRuntimeNet(onnx, threads)) {
            for (int batch : List.of(1, 256)) {
                Nd4j.getRandom().setSeed(seeds.derive("inference-x-" + batch));
                INDArray x = Nd4j.rand(DataType.FLOAT, batch, inputs);
                float[] xs = x.dup('c').data().asFloat();
                double onnxRate = rate(batch, seconds, () -> ort.run(xs, batch));
                double oursRate = rate(batch, seconds, () -> student.logits(x));
                double ensembleRate = rate(batch, seconds, () -> ensemble.combine(x));
                String note = String.format(Locale.ROOT, "student %s; ours %.0f ex/s, the ensemble (generalist + %d "
                        + "specialists combined by KL) %.0f ex/s; ONNX Runtime %d threads", net, oursRate, specialists,
                        ensembleRate, threads);
                rows.add(new Row("inference, ONNX Runtime student vs ours, batch " + batch, onnxRate, "examples/s",
                        onnxRate / oursRate, "of our Classifier", note));
                rows.add(new Row("inference, ONNX Runtime student vs specialist ensemble, batch " + batch, onnxRate,
                        "examples/s", onnxRate / ensembleRate, "of the ensemble", note));
            }
        } finally {
            try {
                darkknowledge.core.AtomicFiles.deleteTree(dir);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
        return rows;
    }

    /** Examples per second of {@code call} on {@code batch} rows: a warm-up, then as many calls as fit in {@code seconds}. */
    private static double rate(int batch, double seconds, Runnable call) {
        for (long end = System.nanoTime() + (long) (seconds * 1e9); System.nanoTime() < end; ) {
            call.run();
        }
        long calls = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        long now;
        do {
            call.run();
            calls++;
            now = System.nanoTime();
        } while (now < end);
        return calls * batch / ((now - t0) / 1e9);
    }
}
