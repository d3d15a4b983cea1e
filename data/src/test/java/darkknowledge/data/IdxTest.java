package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader on real MNIST / Fashion-MNIST files and on real files broken in each way. */
class IdxTest {
    @TempDir
    Path dir;

    static DataStore store() {
        return new DataStore(DataStore.defaultCacheDir());
    }

    @Test
    void readsRealMnistAndFashion() {
        DataStore s = store();
        Path mnist = s.ensure(DatasetSource.MNIST);
        Idx.IdxArray images = Idx.read(mnist.resolve("train-images-idx3-ubyte"));
        assertArrayEquals(new int[]{60000, 28, 28}, images.dims());
        Idx.IdxArray labels = Idx.read(mnist.resolve("train-labels-idx1-ubyte"));
        assertArrayEquals(new int[]{5, 0, 4, 1, 9}, firstLabels(labels, 5));
        Path fashion = s.ensure(DatasetSource.FASHION_MNIST);
        Idx.IdxArray fl = Idx.read(fashion.resolve("train-labels-idx1-ubyte.gz"));
        assertArrayEquals(new int[]{60000}, fl.dims());
        assertArrayEquals(new int[]{9, 0, 0, 3}, firstLabels(fl, 4));
        assertArrayEquals(new int[]{10000, 28, 28}, Idx.read(fashion.resolve("t10k-images-idx3-ubyte.gz")).dims());
    }

    @Test
    void truncatedRawFileNamesFileAndSizes() throws IOException {
        byte[] real = Files.readAllBytes(store().ensure(DatasetSource.MNIST).resolve("t10k-labels-idx1-ubyte"));
        Path f = dir.resolve("t10k-labels-idx1-ubyte");
        Files.write(f, Arrays.copyOf(real, real.length - 100));
        var e = assertThrows(DataFileException.class, () -> Idx.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("expected 10000 values") && e.getMessage().contains("9900 bytes of data (truncated)"),
                e.getMessage());
        assertEquals(f, e.file());
    }

    @Test
    void trailingBytesAreRejected() throws IOException {
        byte[] real = Files.readAllBytes(store().ensure(DatasetSource.MNIST).resolve("t10k-labels-idx1-ubyte"));
        Path f = dir.resolve("labels");
        Files.write(f, Arrays.copyOf(real, real.length + 3));
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage().contains("trailing"));
    }

    @Test
    void badMagicTypeAndDimensionsAreNamed() throws IOException {
        byte[] real = Files.readAllBytes(store().ensure(DatasetSource.MNIST).resolve("t10k-labels-idx1-ubyte"));
        Path f = dir.resolve("bad");
        byte[] b = real.clone();
        b[0] = 7;
        Files.write(f, b);
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage().contains("magic"));
        b = real.clone();
        b[2] = 0x0D;
        Files.write(f, b);
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage()
                .contains("expected IDX type 0x08 (unsigned byte), found 0x0d"));
        b = real.clone();
        b[3] = 9;
        Files.write(f, b);
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage().contains("9 dimensions"));
        Files.write(f, new byte[]{0, 0});
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage().contains("2 bytes"));
        var missing = assertThrows(DataFileException.class, () -> Idx.read(dir.resolve("absent")));
        assertTrue(missing.getMessage().contains("no such file"));
    }

    @Test
    void truncatedAndCorruptGzipAreNamed() throws IOException {
        byte[] gz = Files.readAllBytes(store().ensure(DatasetSource.FASHION_MNIST).resolve("t10k-labels-idx1-ubyte.gz"));
        Path f = dir.resolve("t10k-labels-idx1-ubyte.gz");
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        var e = assertThrows(DataFileException.class, () -> Idx.read(f));
        assertTrue(e.getMessage().contains("gzip") && e.getMessage().contains(f.toString()), e.getMessage());
        byte[] corrupt = gz.clone();
        for (int i = 20; i < 60; i++) {
            corrupt[i] ^= 0x5A;
        }
        Files.write(f, corrupt);
        assertTrue(assertThrows(DataFileException.class, () -> Idx.read(f)).getMessage().contains("gzip"));
    }

    @Test
    void gzipAndRawOfSameContentAgree() throws IOException {
        byte[] raw = Files.readAllBytes(store().ensure(DatasetSource.MNIST).resolve("t10k-labels-idx1-ubyte"));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
            g.write(raw);
        }
        Path f = dir.resolve("labels.gz");
        Files.write(f, bos.toByteArray());
        assertArrayEquals(Idx.parse(f, raw).data(), Idx.read(f).data());
    }

    private static int[] firstLabels(Idx.IdxArray a, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = a.unsigned(i);
        }
        return out;
    }
}
