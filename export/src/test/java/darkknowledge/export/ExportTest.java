package darkknowledge.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.AtomicFiles;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.kernels.DnnlConv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

/**
 * Tiny nets of every kind the project trains, exported and run elsewhere: our logits against ONNX
 * Runtime on the ONNX file and against stock DL4J restoring the zip in a child JVM without our
 * classes, on the same inputs, to 1e-5.
 */
class ExportTest {
    static final double TOLERANCE = 1e-5;
    static final int ROWS = 40;

    @TempDir
    Path dir;

    /** An MLP with softmax output (a teacher or generalist): every parameter random, biases too. */
    static Classifier mlp() {
        return randomised(Classifier.create(MlpConfig.plain(List.of(9, 7), 1), 12, 5, null, 3));
    }

    /** A conv net with an identity output and a loss on the logits (how a distilled student is built). */
    static Classifier convStudent(ConvConfig.Backend backend, int channels) {
        ConvConfig cfg = ConvConfig.small(1).withInput(8, 8, channels).withChannels(List.of(4, 6), 2)
                .withDense(List.of(10)).withBackend(backend);
        return randomised(Classifier.create(cfg, 5, new LossMSE(), 4));
    }

    static Classifier randomised(Classifier c) {
        Nd4j.getRandom().setSeed(11);
        INDArray p = c.network().params();
        p.assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(0.4));
        return c;
    }

    static float[] inputs(int columns) {
        Nd4j.getRandom().setSeed(12);
        return Nd4j.rand(DataType.FLOAT, ROWS, columns).data().asFloat();
    }

    static float[] ours(Classifier c, float[] x) {
        return c.logits(Nd4j.create(x, new long[] {ROWS, c.numInputs()}, 'c')).dup('c').data().asFloat();
    }

    static float[] softmax(float[] z, int classes) {
        float[] p = new float[z.length];
        for (int r = 0; r < z.length / classes; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                max = Math.max(max, z[r * classes + k]);
            }
            double sum = 0;
            for (int k = 0; k < classes; k++) {
                sum += Math.exp(z[r * classes + k] - max);
            }
            for (int k = 0; k < classes; k++) {
                p[r * classes + k] = (float) (Math.exp(z[r * classes + k] - max) / sum);
            }
        }
        return p;
    }

    /** Writes {@code c} in both formats from a fake run record and checks both files against our logits. */
    void roundTrip(Classifier c, boolean stockDl4j) {
        Path run = dir.resolve("runs/mnist-distillation/20990101-000000-abcdef12");
        c.save(run.resolve("student.zip"));
        AtomicFiles.writeString(run.resolve("provenance.properties"), "run.id=20990101-000000-abcdef12\n"
                + "config.hash=abcdef12\nexperiment=mnist-distillation\n"
                + "data.mnist.t10k-images-idx3-ubyte=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7\n"
                + "model.student.sha256=" + c.fingerprint() + "\n");
        AtomicFiles.writeString(run.resolve("result.properties"), "student.test_errors=93\ntest_examples=10000\n");
        Export.Source source = Export.resolve(run, null);
        assertEquals("student", source.name());
        Classifier loaded = Classifier.load(source.file());
        float[] x = inputs(c.numInputs());
        float[] z = ours(loaded, x);

        Path onnx = Export.write(source, loaded, Export.Format.ONNX, source.defaultOut(Export.Format.ONNX));
        try (OnnxRuntimeNet ort = new OnnxRuntimeNet(onnx, 1)) {
            Outputs o = ort.run(x, ROWS);
            assertTrue(Outputs.maxAbsDifference(z, o.logits()) <= TOLERANCE,
                    "ONNX Runtime logits differ by " + Outputs.maxAbsDifference(z, o.logits()));
            assertTrue(Outputs.maxAbsDifference(softmax(z, o.classes()), o.probabilities()) <= TOLERANCE);
            assertThrows(IllegalStateException.class, () -> ort.run(x, ROWS, 4f), "a graph without a temperature");
        }
        Path warm = Export.write(source, loaded, Export.Format.ONNX, dir.resolve("warm.onnx"), true);
        try (OnnxRuntimeNet ort = new OnnxRuntimeNet(warm, 1)) {
            Outputs hot = ort.run(x, ROWS, 4f);
            assertTrue(Outputs.maxAbsDifference(z, hot.logits()) <= TOLERANCE);
            float[] zt = z.clone();
            for (int i = 0; i < zt.length; i++) {
                zt[i] /= 4f;
            }
            assertTrue(Outputs.maxAbsDifference(softmax(zt, hot.classes()), hot.probabilities()) <= TOLERANCE,
                    "softmax(z / T) through the temperature input");
        }
        try (OnnxRuntimeNet ort = new OnnxRuntimeNet(onnx, 1)) {
            Map<String, String> meta = ort.metadata();
            assertEquals("20990101-000000-abcdef12", meta.get("run.id"));
            assertEquals("abcdef12", meta.get("config.hash"));
            assertEquals("99.07", meta.get("test.accuracy"));
            assertEquals(c.fingerprint(), meta.get("model.sha256"));
            assertTrue(meta.containsKey("data.mnist.t10k-images-idx3-ubyte"));
        }
        if (stockDl4j) {
            Path zip = Export.write(source, loaded, Export.Format.DL4J, source.defaultOut(Export.Format.DL4J));
            SortedMap<String, String> provenance = StockDl4j.provenance(zip);
            assertEquals("20990101-000000-abcdef12", provenance.get("run.id"));
            assertEquals("dl4j", provenance.get("format"));
            Outputs d = StockDl4jProcess.run(zip, x, ROWS);
            assertTrue(Outputs.maxAbsDifference(z, d.logits()) <= TOLERANCE,
                    "stock DL4J logits differ by " + Outputs.maxAbsDifference(z, d.logits()));
            assertTrue(Outputs.maxAbsDifference(softmax(z, d.classes()), d.probabilities()) <= TOLERANCE);
        }
    }

    @Test
    void mlpWithSoftmaxOutputRunsTheSameInOnnxRuntimeAndStockDl4j() {
        roundTrip(mlp(), true);
    }

    @Test
    void convStudentRunsTheSameInOnnxRuntimeAndStockDl4j() {
        roundTrip(convStudent(ConvConfig.Backend.IM2COL, 1), true);
    }

    @Test
    void convNetOverThreeChannelsRunsTheSameInOnnxRuntimeAndIsRefusedForDl4j() {
        Classifier c = convStudent(ConvConfig.Backend.IM2COL, 3);
        roundTrip(c, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StockDl4j.network(NetLayout.of(c)));
        assertTrue(e.getMessage().contains("3-channel"), e.getMessage());
    }

    @Test
    void oneDnnConvNetExportsLikeItsIm2colTwin() {
        org.junit.jupiter.api.Assumptions.assumeTrue(DnnlConv.unavailable() == null, DnnlConv::unavailable);
        roundTrip(convStudent(ConvConfig.Backend.DNNL, 1), false);
    }

    @Test
    void aRunWithoutAModelIsAnErrorNamingIt() throws Exception {
        Path run = dir.resolve("runs/pipeline/20990101-000000-00000000");
        AtomicFiles.writeString(run.resolve("provenance.properties"), "run.id=20990101-000000-00000000\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Export.resolve(run, null));
        assertTrue(e.getMessage().contains("has no saved model") && e.getMessage().contains(run.toString()), e.getMessage());

        mlp().save(run.resolve("baseline.zip"));
        e = assertThrows(IllegalArgumentException.class, () -> Export.resolve(run, null));
        assertTrue(e.getMessage().contains("no student") && e.getMessage().contains("baseline"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Export.resolve(run, "teacher"));
        assertTrue(e.getMessage().contains("'teacher'") && e.getMessage().contains("[baseline]"), e.getMessage());
        assertEquals("baseline", Export.resolve(run, "baseline").name());

        Path notARun = Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(IllegalArgumentException.class, () -> Export.resolve(notARun, null));
        assertTrue(e.getMessage().contains("not a run directory"), e.getMessage());
    }

    @Test
    void aPipelineStageModelFindsTheRunThatUsedIt() {
        Path runs = dir.resolve("runs/pipeline");
        Path entry = runs.resolve("stages/student-ensemble/aacd72fd2253");
        Classifier c = mlp();
        c.save(entry.resolve("student_ensemble.zip"));
        Path run = runs.resolve("20990101-000000-11111111");
        AtomicFiles.writeString(run.resolve("provenance.properties"), "run.id=20990101-000000-11111111\n"
                + "stage.student-ensemble=/elsewhere/runs/pipeline/stages/student-ensemble/aacd72fd2253\n");
        AtomicFiles.writeString(run.resolve("result.properties"), "student_ensemble.test_accuracy=82.58\n");
        Export.Source fromRun = Export.resolve(run, null);
        assertEquals("student_ensemble", fromRun.name());
        assertEquals(entry.resolve("student_ensemble.zip").toAbsolutePath().normalize(), fromRun.file());
        Export.Source fromFile = Export.resolve(entry.resolve("student_ensemble.zip"), null);
        assertEquals(run.toAbsolutePath().normalize(), fromFile.runDir());
        SortedMap<String, String> p = Export.provenance(fromFile, c, NetLayout.of(c));
        assertEquals("82.58", p.get("test.accuracy"));
        assertEquals("20990101-000000-11111111", p.get("run.id"));
    }

    @Test
    void anUnknownFormatIsAnErrorNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Export.Format.parse("tflite"));
        assertTrue(e.getMessage().contains("'tflite'") && e.getMessage().contains("dl4j or onnx"), e.getMessage());
        assertEquals(Export.Format.ONNX, Export.Format.parse("ONNX"));
    }

    @Test
    void aModelWhoseParametersDifferFromItsRunRecordIsRefused() {
        Path run = dir.resolve("runs/mnist-distillation/20990101-000000-22222222");
        Classifier c = mlp();
        c.save(run.resolve("student.zip"));
        AtomicFiles.writeString(run.resolve("provenance.properties"), "model.student.sha256=" + "0".repeat(64) + "\n");
        Export.Source s = Export.resolve(run, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Export.provenance(s, c, NetLayout.of(c)));
        assertTrue(e.getMessage().contains("recorded " + "0".repeat(64)), e.getMessage());
        assertNotEquals(c.fingerprint(), "0".repeat(64));
    }
}
