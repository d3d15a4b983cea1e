package darkknowledge.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.engine.LocalEngine;
import darkknowledge.core.engine.SharedBytes;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskInputException;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What travels to an executor that shares no file system with the driver: the run's data and saved models. */
class ShippedTest {
    private static final MlpConfig NET =
            new MlpConfig(List.of(8), 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 1e-2, 0.9, 1.0, 1, 32, 0, 0);

    private static RunData data(Path root) {
        RunContext ctx = TinyRuns.context(root, 1, new TinyRuns.Recorder());
        return SpecialistDataset.SYNTHETIC.load(TinyRuns.DATA, TinyRuns.SYNTHETIC, null, ctx).data();
    }

    private static TaskContext executor(Path root) throws Exception {
        // an executor's view: its own scratch space, a run directory it cannot see
        return new TaskContext("test", 0, 0, "7", "worker-b", 1, Files.createDirectories(root.resolve("scratch")),
                root.resolve("not-mounted-here"));
    }

    /** A handle whose bytes are these, as a broadcast's would be on another machine. */
    private record Bytes(String name, byte[] bytes) implements SharedBytes {
        @Override
        public byte[] get() {
            return bytes;
        }
    }

    @Test
    void theRunsDataDecodesToSplitsWithTheSameHashesShapesAndMatrices(@TempDir Path root) {
        RunData s = data(root);
        RunData back = Shipped.decode(Shipped.encode(s));
        assertEquals(s.train().sha256(), back.train().sha256());
        assertEquals(s.validation().sha256(), back.validation().sha256());
        assertEquals(s.test().sha256(), back.test().sha256());
        assertEquals(s.train().classNames(), back.train().classNames());
        assertEquals(s.train().imageShape(), back.train().imageShape());
        assertEquals(s.trainX(), back.trainX());
        assertEquals(s.trainY(), back.trainY());
        assertEquals(s.validationX(), back.validationX());
        assertEquals(s.testX(), back.testX());
    }

    @Test
    void anExecutorDecodesTheDataOnceAndRefusesDataThatIsNotTheDrivers(@TempDir Path root) throws Exception {
        RunData s = data(root);
        TaskContext ctx = executor(root);
        byte[] bytes = Shipped.encode(s);
        String validation = s.validation().sha256();
        Shipped.Data shipped = new Shipped.Data(s.train().sha256(), validation, s.test().sha256(), "elsewhere",
                new Bytes("data", bytes));
        try {
            RunData got = shipped.get(ctx);
            assertEquals(s.trainX(), got.trainX());
            assertTrue(got == shipped.get(ctx), "decoded once per JVM");
        } finally {
            Shipped.forget(shipped);
        }
        Shipped.Data wrong = new Shipped.Data("0".repeat(64), validation, s.test().sha256(), "elsewhere",
                new Bytes("data", bytes));
        TaskInputException e = assertThrows(TaskInputException.class, () -> wrong.get(ctx));
        assertTrue(e.getMessage().contains("executor 7 (worker-b)") && e.getMessage().contains("0".repeat(64)),
                e.getMessage());
    }

    @Test
    void inProcessTheDriversDataIsUsedAndNeverEncoded(@TempDir Path root) throws Exception {
        RunData s = data(root);
        try (LocalEngine engine = new LocalEngine(1, root)) {
            Shipped.Data shipped = Shipped.data(engine, s);
            try {
                assertTrue(s == shipped.get(executor(root)));
            } finally {
                Shipped.forget(shipped);
            }
        }
    }

    @Test
    void twoRunsInOneJvmShippingSplitsWithTheSameHashesEachGetTheirOwnData(@TempDir Path root) throws Exception {
        // same hashes, not the same data: e.g. a seen-typeface test set or fresh images in one run only
        RunData a = data(root.resolve("a"));
        RunData b = data(root.resolve("b"));
        assertEquals(a.train().sha256(), b.train().sha256());
        try (LocalEngine engine = new LocalEngine(1, root)) {
            Shipped.Data first = Shipped.data(engine, a);
            Shipped.Data second = Shipped.data(engine, b);
            try {
                assertTrue(a == first.get(executor(root)), "the first run's tasks get the first run's data");
                Shipped.forget(first);
                assertTrue(b == second.get(executor(root)), "the second run's, even after the first run forgot its own");
            } finally {
                Shipped.forget(first);
                Shipped.forget(second);
            }
        }
    }

    @Test
    void aModelArrivesAsItsBytesAndIsCheckedAgainstItsParameterHash(@TempDir Path root) throws Exception {
        Classifier model = Classifier.create(NET, 12, 6, null, 3);
        Path file = root.resolve("generalist.zip");
        model.save(file);
        TaskContext ctx = executor(root);
        try (LocalEngine engine = new LocalEngine(1, root)) {
            assertEquals(model.fingerprint(), Shipped.model(engine, file, model.fingerprint()).load(ctx).fingerprint());
        }
        Path received = ctx.scratchDir().resolve("received-" + model.fingerprint().substring(0, 16) + ".zip");
        Files.delete(received);
        // on another machine: the bytes of the driver's file, which the executor never reads
        Shipped.Model shipped = new Shipped.Model(model.fingerprint(), new Bytes("model", Files.readAllBytes(file)));
        Files.delete(file);
        assertEquals(model.fingerprint(), shipped.load(ctx).fingerprint());
        assertArrayEquals(Files.readAllBytes(received), shipped.bytes().get());
        Path other = root.resolve("other.zip");
        Classifier.create(NET, 12, 6, null, 4).save(other);
        Shipped.Model wrong = new Shipped.Model(model.fingerprint(), new Bytes("model x", Files.readAllBytes(other)));
        Files.delete(received);
        TaskInputException e = assertThrows(TaskInputException.class, () -> wrong.load(ctx));
        assertTrue(e.getMessage().contains(model.fingerprint()), e.getMessage());
        assertFalse(ctx.seesRunDir(), "the executor's view has no run directory");
    }
}
