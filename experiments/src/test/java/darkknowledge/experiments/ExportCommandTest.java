package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny twin of {@code ./dk export <run> --verify}: a tiny mnist-distillation run, its student
 * exported in both formats and measured on the run's test set through ONNX Runtime and stock DL4J,
 * each equal to the run's recorded figure; and an unknown format named in the error.
 */
class ExportCommandTest {
    @Test
    void aTinyRunsStudentExportsAndVerifiesAgainstTheRunsFigure(@TempDir Path runs) {
        MnistDistillation e = new MnistDistillation();
        Runner.Outcome run = Runner.run(e, Runner.resolve(e, Scale.TINY, null, List.of()), runs,
                new DataStore(DataStore.defaultCacheDir()), false);
        Path dir = run.dir();
        var cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("export", dir.toString(), "--verify"), err.toString());
        assertTrue(Files.isRegularFile(dir.resolve("export/student.onnx")));
        assertTrue(Files.isRegularFile(dir.resolve("export/student.zip")));

        assertEquals(2, cl.execute("export", dir.toString(), "--format", "tflite"));
        assertTrue(err.toString().contains("unknown export format 'tflite'; expected dl4j or onnx"), err.toString());
    }
}
