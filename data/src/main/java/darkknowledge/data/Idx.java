package darkknowledge.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for the IDX format of LeCun's MNIST files: two zero bytes, a type byte (only {@code 0x08},
 * unsigned byte, is used by these datasets), the number of dimensions, one big-endian int per
 * dimension, then the values. Gzip-compressed files are recognised by their magic bytes. Every header
 * field and the exact payload length are checked; anything else is a {@link DataFileException}.
 */
public final class Idx {
    private static final int MAX_DIMS = 4;

    private Idx() {
    }

    /** An n-dimensional array of unsigned bytes as stored in the file (row-major). */
    public record IdxArray(int[] dims, byte[] data) {
        public int dim(int i) {
            return dims[i];
        }

        /** Value at flat index {@code i} as 0..255. */
        public int unsigned(int i) {
            return data[i] & 0xFF;
        }
    }

    /**
     * A dataset of grey images from an IDX image file ({@code n × rows × columns}) and its label file
     * ({@code n}), pixels scaled to [0, 1]; every label must index {@code classNames}.
     */
    static Dataset dataset(String name, Path imagesFile, IdxArray images, Path labelsFile, IdxArray labels,
                           List<String> classNames) {
        if (images.dims().length != 3) {
            throw new DataFileException(imagesFile, "3 dimensions (images x rows x columns)",
                    images.dims().length + " dimensions");
        }
        if (labels.dims().length != 1) {
            throw new DataFileException(labelsFile, "1 dimension (labels)", labels.dims().length + " dimensions");
        }
        int n = images.dim(0);
        if (labels.dim(0) != n) {
            throw new DataFileException(labelsFile, n + " labels (one per image in " + imagesFile.getFileName() + ")",
                    labels.dim(0) + " labels");
        }
        int h = images.dim(1);
        int w = images.dim(2);
        float[] x = new float[n * h * w];
        byte[] raw = images.data();
        for (int i = 0; i < x.length; i++) {
            x[i] = (raw[i] & 0xFF) / 255f;
        }
        int k = classNames.size();
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = labels.unsigned(i);
            if (y[i] >= k) {
                throw new DataFileException(labelsFile, "labels 0.." + (k - 1), "label " + y[i] + " at position " + i);
            }
        }
        return new Dataset(name, x, y, n, h * w, k, w, h, 1, classNames);
    }

    public static IdxArray read(Path file) {
        byte[] bytes;
        try {
            bytes = decompressIfGzip(file, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new DataFileException(file, "an IDX file", "no such file", e);
        } catch (IOException e) {
            throw new DataFileException(file, "a readable IDX file", e.toString(), e);
        }
        return parse(file, bytes);
    }

    static IdxArray parse(Path file, byte[] bytes) {
        if (bytes.length < 4) {
            throw new DataFileException(file, "an IDX header of at least 4 bytes", bytes.length + " bytes");
        }
        if (bytes[0] != 0 || bytes[1] != 0) {
            throw new DataFileException(file, "IDX magic starting 0x00 0x00",
                    String.format("0x%02x 0x%02x", bytes[0] & 0xFF, bytes[1] & 0xFF));
        }
        if (bytes[2] != 0x08) {
            throw new DataFileException(file, "IDX type 0x08 (unsigned byte)", String.format("0x%02x", bytes[2] & 0xFF));
        }
        int nd = bytes[3] & 0xFF;
        if (nd < 1 || nd > MAX_DIMS) {
            throw new DataFileException(file, "1 to " + MAX_DIMS + " dimensions", nd + " dimensions");
        }
        int header = 4 + 4 * nd;
        if (bytes.length < header) {
            throw new DataFileException(file, "a header of " + header + " bytes", bytes.length + " bytes (truncated)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        int[] dims = new int[nd];
        long count = 1;
        for (int i = 0; i < nd; i++) {
            dims[i] = buf.getInt(4 + 4 * i);
            if (dims[i] <= 0) {
                throw new DataFileException(file, "positive dimension sizes", "dimension " + i + " = " + dims[i]);
            }
            count *= dims[i];
        }
        long payload = bytes.length - header;
        if (payload != count) {
            throw new DataFileException(file, count + " values for dimensions " + Arrays.toString(dims),
                    payload + " bytes of data" + (payload < count ? " (truncated)" : " (trailing bytes)"));
        }
        return new IdxArray(dims, Arrays.copyOfRange(bytes, header, bytes.length));
    }

    private static byte[] decompressIfGzip(Path file, byte[] bytes) throws IOException {
        if (bytes.length < 2 || (bytes[0] & 0xFF) != 0x1f || (bytes[1] & 0xFF) != 0x8b) {
            return bytes;
        }
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(new java.io.ByteArrayInputStream(bytes)))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length * 4);
            in.transferTo(out);
            return out.toByteArray();
        } catch (EOFException e) {
            throw new DataFileException(file, "a complete gzip stream", "end of file inside the stream (truncated)", e);
        } catch (ZipException e) {
            throw new DataFileException(file, "a valid gzip stream", "corrupt gzip data: " + e.getMessage(), e);
        }
    }
}
