package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Sha256Test {
    @Test
    void textHashesMatchTheStandardTestVectors() {
        // FIPS 180-2, appendix B.1, and the empty message
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Sha256.of("abc"));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.of(""));
    }

    @Test
    void aFileHashesLikeItsBytes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("f.txt");
        Files.writeString(f, "abc", StandardCharsets.UTF_8);
        assertEquals(Sha256.of("abc"), Sha256.of(f));
    }

    @Test
    void arraysHashAsTheirBigEndianBytesAcrossBufferBoundaries() {
        // 5 003 floats and 4 099 ints cross the 16 KiB buffer several times, unaligned
        SplittableRandom r = new SplittableRandom(7);
        float[] f = new float[5003];
        int[] n = new int[4099];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n.length; i++) {
            n[i] = r.nextInt();
        }
        ByteBuffer whole = ByteBuffer.allocate(4 * (f.length + n.length));
        whole.asFloatBuffer().put(f);
        whole.position(4 * f.length);
        whole.asIntBuffer().put(n);
        assertEquals(Sha256.of(whole.array()), Sha256.begin().update(f).update(n).hex());
    }

    @Test
    void theByteLayoutOfRecordedHashesStaysFixed() {
        // Recorded in run provenance (split indices, dataset and parameter fingerprints): a change
        // here would make every earlier run look like it used other data.
        assertEquals(Sha256.of(new byte[] {0, 0, 0, 1, 0, 0, 0, 2}), Sha256.begin().update(new int[] {1, 2}).hex());
        assertEquals(Sha256.of(new byte[] {0x3f, (byte) 0x80, 0, 0}), Sha256.begin().update(new float[] {1f}).hex());
    }
}
