package darkknowledge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import darkknowledge.core.ChildProcess;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NumPy peer is the repository's own script; it runs on a few hundred made-up MNIST-shaped
 * examples (seconds), and a missing script, python3 or NumPy each leave a row saying so.
 */
class NumpyPeerTest {
    /** The repository: surefire runs in the module directory. */
    private static final Path REPO = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
    private static final Path IN_REPO = REPO.resolve(NumpyPeer.IN_REPO);

    @Test
    void theDefaultPeerIsTheRepositorysOwnScriptAndDkPeerOrTheOptionOverrideIt() {
        assertEquals(IN_REPO, NumpyPeer.script(null, null, REPO));
        assertTrue(Files.isRegularFile(IN_REPO), IN_REPO + " is in the repository");
        assertEquals(Path.of("/elsewhere/peer.py"), NumpyPeer.script(null, "/elsewhere/peer.py", REPO));
        assertEquals(Path.of("given.py"), NumpyPeer.script(Path.of("given.py"), "/elsewhere/peer.py", REPO));
    }

    @Test
    void theInRepoPeerTrainsTwoEpochsAndPrintsTheTimingTheBenchReads(@TempDir Path dir) throws IOException {
        assumeTrue(numpyImportable(), "python3 with NumPy is needed");
        Path mnist = fakeMnist(dir, 512, 64);
        List<Bench.Row> rows = new ArrayList<>();
        double seconds = NumpyPeer.secondsPerEpoch(NumpyPeer.PYTHON, IN_REPO, mnist, 60000, rows);
        assertEquals(List.of(), rows);
        assertTrue(seconds > 0 && Double.isFinite(seconds), "seconds " + seconds);

        String out = ChildProcess.of(NumpyPeer.PYTHON, IN_REPO.toString(), mnist.toString())
                .timeout(Duration.ofMinutes(2)).run().requireSuccess().output();
        List<String> lines = out.lines().toList();
        assertEquals(2, lines.size(), out);
        for (int epoch = 1; epoch <= 2; epoch++) {
            assertTrue(lines.get(epoch - 1).matches("numpy \\S+ 784-800-800-10 epoch=" + epoch
                    + " s/epoch=[0-9]+\\.[0-9]{2} ex/s=[0-9]+ GFLOP/s=[0-9]+\\.[0-9] test_errors=[0-9]+"), out);
        }
    }

    @Test
    void aMissingScriptSaysSoInItsRow(@TempDir Path dir) {
        List<Bench.Row> rows = new ArrayList<>();
        assertTrue(Double.isNaN(NumpyPeer.secondsPerEpoch(dir.resolve("absent.py"), null, 60000, rows)));
        assertEquals(1, rows.size());
        assertTrue(rows.get(0).note().startsWith("not found: ") && rows.get(0).note().contains("DK_PEER"), rows.get(0).note());
    }

    @Test
    void aMissingPythonSaysSoInItsRow(@TempDir Path dir) {
        List<Bench.Row> rows = new ArrayList<>();
        assertTrue(Double.isNaN(NumpyPeer.secondsPerEpoch("dk-no-such-python3", IN_REPO, dir, 60000, rows)));
        assertEquals(1, rows.size());
        assertTrue(rows.get(0).note().contains("dk-no-such-python3 not found"), rows.get(0).note());
    }

    @Test
    void aPythonWithoutNumpySaysSoInItsRow(@TempDir Path dir) throws IOException {
        assumeTrue(python3Runs(), "python3 is needed");
        // python3 without its site-packages (-S): NumPy cannot be imported
        Path python = dir.resolve("python-without-site");
        Files.writeString(python, "#!/bin/sh\nexec python3 -S \"$@\"\n");
        assertTrue(python.toFile().setExecutable(true));
        List<Bench.Row> rows = new ArrayList<>();
        assertTrue(Double.isNaN(NumpyPeer.secondsPerEpoch(python.toString(), IN_REPO, dir, 60000, rows)));
        assertEquals(1, rows.size());
        assertTrue(rows.get(0).note().startsWith("NumPy is not importable by "), rows.get(0).note());
    }

    /** {@code train} and {@code test} random 28×28 images with random labels, in MNIST's IDX files. */
    private static Path fakeMnist(Path dir, int train, int test) throws IOException {
        SplittableRandom random = new SplittableRandom(27);
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? train : test;
            byte[] images = new byte[n * 28 * 28];
            byte[] labels = new byte[n];
            for (int i = 0; i < images.length; i++) {
                images[i] = (byte) random.nextInt(256);
            }
            for (int i = 0; i < n; i++) {
                labels[i] = (byte) random.nextInt(10);
            }
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(dir.resolve(split + "-images-idx3-ubyte")))) {
                out.writeInt(0x803);
                out.writeInt(n);
                out.writeInt(28);
                out.writeInt(28);
                out.write(images);
            }
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(dir.resolve(split + "-labels-idx1-ubyte")))) {
                out.writeInt(0x801);
                out.writeInt(n);
                out.write(labels);
            }
        }
        return dir;
    }

    private static boolean python3Runs() {
        return exitsCleanly("import sys");
    }

    private static boolean numpyImportable() {
        return exitsCleanly("import numpy");
    }

    private static boolean exitsCleanly(String code) {
        try {
            return ChildProcess.of(NumpyPeer.PYTHON, "-c", code).timeout(Duration.ofMinutes(1)).run().exitCode() == 0;
        } catch (ChildProcess.StartFailure e) {
            return false;
        }
    }
}
