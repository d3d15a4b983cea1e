package darkknowledge.core;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 in lower-case hex, the one fingerprint the run records use: of text (UTF-8), of a file's
 * bytes, and of numeric arrays. Arrays are hashed as their big-endian bytes (float bits, then ints,
 * in the order they are fed), streamed through a small buffer so that a 172 MB feature matrix is
 * never copied. A recorded hash must stay comparable across versions, so this byte layout is fixed.
 *
 * <p>An instance is a single-use accumulator: feed it, then read {@link #hex()} once.
 */
public final class Sha256 {
    private final MessageDigest md = newDigest();
    private final ByteBuffer buf = ByteBuffer.allocate(1 << 14);  // big-endian, ByteBuffer's default

    private Sha256() {
    }

    /** An empty accumulator. */
    public static Sha256 begin() {
        return new Sha256();
    }

    /** The hash of {@code text}'s UTF-8 bytes. */
    public static String of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }

    public static String of(byte[] bytes) {
        return HexFormat.of().formatHex(newDigest().digest(bytes));
    }

    /** The hash of a file's bytes, read as a stream. */
    public static String of(Path file) throws IOException {
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file), newDigest())) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(in.getMessageDigest().digest());
        }
    }

    /** Feeds the values' IEEE 754 bits, big-endian. */
    public Sha256 update(float[] values) {
        for (int i = 0; i < values.length; ) {
            int n = room(values.length - i, Float.BYTES);
            buf.asFloatBuffer().put(values, i, n);
            buf.position(buf.position() + n * Float.BYTES);
            i += n;
        }
        return this;
    }

    /** Feeds the values, big-endian. */
    public Sha256 update(int[] values) {
        for (int i = 0; i < values.length; ) {
            int n = room(values.length - i, Integer.BYTES);
            buf.asIntBuffer().put(values, i, n);
            buf.position(buf.position() + n * Integer.BYTES);
            i += n;
        }
        return this;
    }

    /** Feeds {@code len} bytes of {@code bytes} from {@code off}. */
    public Sha256 update(byte[] bytes, int off, int len) {
        drain();
        md.update(bytes, off, len);
        return this;
    }

    /** Feeds the bytes. */
    public Sha256 update(byte[] bytes) {
        return update(bytes, 0, bytes.length);
    }

    /** The hash of everything fed so far. */
    public String hex() {
        drain();
        return HexFormat.of().formatHex(md.digest());
    }

    /** How many of {@code wanted} values of {@code width} bytes fit now (at least one: drains if full). */
    private int room(int wanted, int width) {
        if (buf.remaining() < width) {
            drain();
        }
        return Math.min(wanted, buf.remaining() / width);
    }

    private void drain() {
        md.update(buf.array(), 0, buf.position());
        buf.clear();
    }

    private static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }
}
