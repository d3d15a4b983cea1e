package darkknowledge.data;

/**
 * Resizes images to {@code size × size} with a separable triangle (bilinear) filter widened by the
 * reduction factor, so that shrinking averages every source pixel instead of skipping most of them
 * (the antialiased bilinear filter of common image libraries). Output pixel {@code i} of an axis
 * of {@code in → out} pixels has its centre at {@code c = (i + ½)·s} in source coordinates, with
 * {@code s = in/out}; it is {@code Σ_j w_j·x_j / Σ_j w_j} over source pixels {@code j} with
 * {@code w_j = max(0, 1 − |j + ½ − c| / max(s, 1))}. Enlarging ({@code s < 1}) is then plain
 * bilinear interpolation between pixel centres. Deterministic: plain float arithmetic, no AWT.
 */
final class Resampling {
    private Resampling() {
    }

    /** {@code d} with every image resized to {@code size × size}; {@code d} itself if 0 or already so. */
    static Dataset resize(Dataset d, int size) {
        if (size == 0 || (d.imageWidth() == size && d.imageHeight() == size)) {
            return d;
        }
        if (d.imageChannels() == 0) {
            throw new IllegalArgumentException("data.imageSize=" + size + ": " + d + " holds no images to resize");
        }
        int c = d.imageChannels();
        int in = d.numFeatures();
        int outD = c * size * size;
        float[] out = new float[d.numExamples() * outD];
        float[] features = d.features();
        Weights wx = new Weights(d.imageWidth(), size);
        Weights wy = new Weights(d.imageHeight(), size);
        float[] src = new float[in];
        for (int i = 0; i < d.numExamples(); i++) {
            System.arraycopy(features, i * in, src, 0, in);
            System.arraycopy(planes(src, d.imageWidth(), d.imageHeight(), c, wx, wy), 0, out, i * outD, outD);
        }
        return new Dataset(d.name(), out, d.labels(), d.numExamples(), outD, d.numClasses(), size, size, c,
                d.classNames());
    }

    /** The {@code channels} planes of a {@code width × height} image in {@code src}, resized to {@code size²}. */
    static float[] planes(float[] src, int width, int height, int channels, int size) {
        return planes(src, width, height, channels, new Weights(width, size), new Weights(height, size));
    }

    private static float[] planes(float[] src, int width, int height, int channels, Weights wx, Weights wy) {
        int outW = wx.out;
        int outH = wy.out;
        float[] rows = new float[height * outW];
        float[] out = new float[channels * outW * outH];
        for (int c = 0; c < channels; c++) {
            int plane = c * width * height;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < outW; x++) {
                    rows[y * outW + x] = wx.apply(src, plane + y * width, 1, x);
                }
            }
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    out[c * outW * outH + y * outW + x] = wy.apply(rows, x, outW, y);
                }
            }
        }
        return out;
    }

    /** The normalised filter taps of each output pixel along one axis. */
    private static final class Weights {
        final int out;
        final int[] first;
        final float[][] w;

        Weights(int in, int out) {
            this.out = out;
            double scale = (double) in / out;
            double radius = Math.max(scale, 1.0);
            first = new int[out];
            w = new float[out][];
            for (int i = 0; i < out; i++) {
                double centre = (i + 0.5) * scale;
                int lo = Math.max(0, (int) Math.floor(centre - radius));
                int hi = Math.min(in - 1, (int) Math.ceil(centre + radius));
                double[] taps = new double[hi - lo + 1];
                double sum = 0;
                for (int j = lo; j <= hi; j++) {
                    double t = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / radius);
                    taps[j - lo] = t;
                    sum += t;
                }
                if (sum == 0) {
                    // Only when a pixel centre falls exactly between taps of weight 0: take the nearest.
                    int nearest = Math.min(in - 1, Math.max(0, (int) Math.floor(centre)));
                    first[i] = nearest;
                    w[i] = new float[] {1f};
                    continue;
                }
                first[i] = lo;
                w[i] = new float[taps.length];
                for (int j = 0; j < taps.length; j++) {
                    w[i][j] = (float) (taps[j] / sum);
                }
            }
        }

        /** Σ_j w_j · src[offset + (first + j)·stride] for output pixel {@code i}. */
        float apply(float[] src, int offset, int stride, int i) {
            float[] taps = w[i];
            int base = offset + first[i] * stride;
            float s = 0;
            for (int j = 0; j < taps.length; j++) {
                s += taps[j] * src[base + j * stride];
            }
            return s;
        }
    }
}
