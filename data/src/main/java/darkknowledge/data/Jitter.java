package darkknowledge.data;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Random translation of each image by up to ±{@code maxShift} pixels in each direction, uncovered
 * pixels set to 0. Hinton et al. (2015, §3) train the 1200-1200 MNIST teacher "on images jittered by
 * up to two pixels in any direction"; a shift of (dx, dy) maps pixel (r, c) to (r + dy, c + dx).
 * A row of {@code k·width·height} values is {@code k} channel planes ({@link Dataset}'s layout),
 * all shifted alike.
 */
public record Jitter(int width, int height, int maxShift) implements Augmentation {

    public Jitter {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("jitter needs images; got width " + width + ", height " + height);
        }
        if (maxShift < 0 || maxShift >= Math.min(width, height)) {
            throw new IllegalArgumentException("jitter: expected 0.." + (Math.min(width, height) - 1)
                    + " pixels, got " + maxShift);
        }
    }

    @Override
    public void apply(INDArray features, SplittableRandom random) {
        if (maxShift == 0) {
            return;
        }
        int n = (int) features.rows();
        int plane = width * height;
        int d = (int) features.columns();
        if (d % plane != 0) {
            throw new IllegalArgumentException("jitter for " + width + "x" + height + " images got rows of "
                    + d + " values, not a whole number of channel planes");
        }
        float[] in = features.dup('c').data().asFloat();
        float[] out = new float[in.length];
        for (int i = 0; i < n; i++) {
            int dx = random.nextInt(-maxShift, maxShift + 1);
            int dy = random.nextInt(-maxShift, maxShift + 1);
            for (int c = 0; c < d; c += plane) {
                shift(in, out, i * d + c, dx, dy);
            }
        }
        features.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(out).reshape('c', n, d));
    }

    /** Writes image {@code in[off..off+w·h)} shifted by (dx, dy) into {@code out} at the same offset. */
    void shift(float[] in, float[] out, int off, int dx, int dy) {
        for (int r = 0; r < height; r++) {
            int sr = r - dy;
            int o = off + r * width;
            if (sr < 0 || sr >= height) {
                java.util.Arrays.fill(out, o, o + width, 0f);
                continue;
            }
            int c0 = Math.max(0, dx);
            int c1 = Math.min(width, width + dx);
            java.util.Arrays.fill(out, o, o + c0, 0f);
            System.arraycopy(in, off + sr * width + c0 - dx, out, o + c0, c1 - c0);
            java.util.Arrays.fill(out, o + c1, o + width, 0f);
        }
    }
}
