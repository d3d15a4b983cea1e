package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Sha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataStoreTest {
    @TempDir
    Path dir;

    @Test
    void loadsVerifiedMnistWithExpectedShapeAndLabels() {
        DataStore s = IdxTest.store();
        Dataset train = s.load(DatasetSource.MNIST, true);
        Dataset test = s.load(DatasetSource.MNIST, false);
        assertEquals(60000, train.numExamples());
        assertEquals(10000, test.numExamples());
        assertEquals(784, train.numFeatures());
        assertEquals(28, train.imageWidth());
        assertArrayEquals(new int[]{5, 0, 4, 1, 9}, java.util.Arrays.copyOf(train.labels(), 5));
        assertArrayEquals(new int[]{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, train.classCounts());
        float max = 0;
        for (float v : train.features()) {
            max = Math.max(max, v);
        }
        assertEquals(1f, max);
        assertEquals(DatasetSource.MNIST.expectedSha256("train-images-idx3-ubyte"),
                s.checksums(DatasetSource.MNIST).get("train-images-idx3-ubyte"));
        assertTrue(s.load(DatasetSource.MNIST, true) == train, "loaded once per store");
        Dataset fashion = s.load(DatasetSource.FASHION_MNIST, false);
        assertEquals(10000, fashion.numExamples());
        assertEquals("Ankle boot", fashion.classNames().get(9));
    }

    @Test
    void checksumMismatchNamesFileExpectedAndFoundAndKeepsTheFile() throws IOException {
        Path real = IdxTest.store().ensure(DatasetSource.MNIST);
        Path mnist = Files.createDirectories(dir.resolve("mnist"));
        for (String f : DatasetSource.MNIST.files()) {
            Files.copy(real.resolve(f), mnist.resolve(f));
        }
        Path victim = mnist.resolve("t10k-labels-idx1-ubyte");
        byte[] b = Files.readAllBytes(victim);
        b[500] ^= 1;
        Files.write(victim, b);
        var e = assertThrows(DataFileException.class, () -> new DataStore(dir).load(DatasetSource.MNIST, false));
        assertEquals(victim, e.file());
        assertTrue(e.getMessage().contains("expected SHA-256 ff7bcfd4"), e.getMessage());
        assertTrue(e.getMessage().contains("found SHA-256 " + Sha256.of(victim)), e.getMessage());
        assertArrayEquals(b, Files.readAllBytes(victim), "a bad cached file is reported, not replaced");
    }

    @Test
    void defaultCacheDirHonoursTheProperty() {
        String old = System.getProperty(DataStore.PROPERTY);
        try {
            System.setProperty(DataStore.PROPERTY, dir.toString());
            assertEquals(dir, DataStore.defaultCacheDir());
        } finally {
            if (old == null) {
                System.clearProperty(DataStore.PROPERTY);
            } else {
                System.setProperty(DataStore.PROPERTY, old);
            }
        }
    }

    @Test
    void aFetchToolThatFailsIsNamedWithItsExitCodeAndOneThatIsMissingIsSaidToBeNeeded() {
        IllegalStateException failed = assertThrows(IllegalStateException.class,
                () -> DataStore.run(dir, List.of("tar", "-xzf", "absent.tgz"), "tar"));
        assertTrue(failed.getMessage().contains("tar -xzf absent.tgz failed with exit code 2"), failed.getMessage());
        assertTrue(failed.getMessage().contains("absent.tgz"), failed.getMessage());

        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> DataStore.run(dir, List.of("dk-no-such-tool", "x"), "the tool"));
        assertTrue(missing.getMessage().startsWith("cannot run dk-no-such-tool: the tool is needed"), missing.getMessage());
    }
}
