package darkknowledge.data;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Renders one glyph into a small grey image under a distortion. The glyph's outline is filled with
 * antialiasing at {@link #OVERSAMPLE}× the output resolution, its strokes are thickened or thinned by
 * grey-level dilation or erosion there, and the result is averaged down in
 * {@code OVERSAMPLE × OVERSAMPLE} blocks, then blurred, stretched to full contrast (the brightest
 * {@link #BRIGHT_SHARE} of pixels at 1) and given noise at the output resolution. Ink is bright (1) on a dark (0) background, as in MNIST.
 *
 * <p>Geometry: the font's em square is {@link #EM_FRACTION} of the image side, so characters keep
 * their designed relative size (口 is smaller than 国); the glyph's bounding-box centre goes to the
 * image centre. A point p of the outline lands at {@code c + t + R(θ)·H(k)·(s·b·(p − m))}, with m the
 * box centre, b the em scale, s the size factor, H(k) the horizontal shear, R(θ) the rotation, t the
 * shift and c the image centre.
 *
 * <p>Not thread-safe: one renderer per thread (it owns its canvas). Marlin, Java2D's rasteriser, is
 * pure Java, so the same outline and distortion give the same bytes on one JDK.
 */
final class GlyphRenderer {
    /** Rendering resolution over output resolution. */
    static final int OVERSAMPLE = 4;
    /** Side of the em square as a fraction of the image side: room for the distortions. */
    static final double EM_FRACTION = 0.8;
    /** Share of pixels that end at full ink after the contrast stretch. */
    static final double BRIGHT_SHARE = 0.04;
    /** Point size at which outlines are taken (then scaled by the transform). */
    private static final float OUTLINE_SIZE = 256f;
    private static final FontRenderContext FRC = new FontRenderContext(null, true, true);

    /** A glyph outline at {@link #OUTLINE_SIZE} and its bounding-box centre. */
    record Outline(Shape shape, double centreX, double centreY) {
    }

    /**
     * One image's distortion, drawn from the config's ranges.
     *
     * @param scale    size factor s
     * @param rotation θ in radians
     * @param shear    k of {@code x += k·y}
     * @param shiftX   t_x as a fraction of the image side
     * @param shiftY   t_y as a fraction of the image side
     * @param stroke   dilation (> 0) or erosion (< 0) radius in output pixels
     * @param blur     Gaussian σ in output pixels
     * @param noise    additive Gaussian σ in intensity units
     */
    record Distortion(double scale, double rotation, double shear, double shiftX, double shiftY, double stroke,
                      double blur, double noise) {
        static final Distortion NONE = new Distortion(1, 0, 0, 0, 0, 0, 0, 0);

        /** Draws each parameter uniformly from its range, in a fixed order. */
        static Distortion draw(GlyphsConfig c, SplittableRandom r) {
            return new Distortion(
                    1 + symmetric(r, c.scale()),
                    Math.toRadians(symmetric(r, c.rotation())),
                    symmetric(r, c.shear()),
                    symmetric(r, c.translation()),
                    symmetric(r, c.translation()),
                    // thinning reaches half as far as thickening: an eroded hairline (Song horizontals) vanishes
                    c.stroke() * (1.5 * r.nextDouble() - 0.5),
                    c.blur() * r.nextDouble(),
                    c.noise() * r.nextDouble());
        }

        private static double symmetric(SplittableRandom r, double halfWidth) {
            return halfWidth == 0 ? 0 : (2 * r.nextDouble() - 1) * halfWidth;
        }
    }

    private final int size;
    private final int hi;
    private final byte[] canvas;
    private final Graphics2D g;
    private int[] a;
    private int[] b;
    private final int[] h;
    /** The box [x0, x1) × [y0, y1) outside which {@code a} is 0 (so every pass may skip it). */
    private int x0;
    private int x1;
    private int y0;
    private int y1;
    private final float[] small;
    private final float[] blurred;

    GlyphRenderer(int size) {
        this.size = size;
        this.hi = size * OVERSAMPLE;
        BufferedImage image = new BufferedImage(hi, hi, BufferedImage.TYPE_BYTE_GRAY);
        this.canvas = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
        this.g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        this.a = new int[hi * hi];
        this.b = new int[hi * hi];
        this.h = new int[hi * hi];
        this.small = new float[size * size];
        this.blurred = new float[size * size];
    }

    /**
     * The outline of {@code character} in {@code font}; an error naming the face, its file and the
     * character if the font has no glyph for it or the glyph is empty.
     */
    static Outline outline(Font font, String character, Typeface face, java.nio.file.Path file) {
        int cp = character.codePointAt(0);
        if (font.canDisplayUpTo(character) != -1) {
            throw new DataFileException(file, face.faceName() + " to have a glyph for " + character
                    + String.format(" (U+%04X)", cp), "none");
        }
        Shape shape = font.deriveFont(OUTLINE_SIZE).createGlyphVector(FRC, character).getOutline();
        Rectangle2D box = shape.getBounds2D();
        if (box.isEmpty()) {
            throw new DataFileException(file, face.faceName() + " to draw " + character
                    + String.format(" (U+%04X)", cp), "an empty glyph");
        }
        return new Outline(shape, box.getCenterX(), box.getCenterY());
    }

    /**
     * Renders {@code outline} under {@code d} into {@code out[offset .. offset + size²)} as grey bytes;
     * {@code noise} supplies the noise (after the distortion's own draws). Returns the total ink before
     * noise (0 means nothing was drawn).
     */
    double render(Outline outline, Distortion d, SplittableRandom noise, byte[] out, int offset) {
        Arrays.fill(canvas, (byte) 0);
        double em = EM_FRACTION * hi / OUTLINE_SIZE;
        AffineTransform t = new AffineTransform();
        t.translate(hi / 2.0 + d.shiftX() * hi, hi / 2.0 + d.shiftY() * hi);
        t.rotate(d.rotation());
        t.shear(d.shear(), 0);
        t.scale(em * d.scale(), em * d.scale());
        t.translate(-outline.centreX(), -outline.centreY());
        Shape placed = t.createTransformedShape(outline.shape());
        g.fill(placed);
        // Only the ink's box (grown by the dilation's reach) can be non-zero: passes skip the rest.
        int reach = (int) Math.ceil(Math.abs(d.stroke()) * OVERSAMPLE) + 2;
        java.awt.Rectangle box = placed.getBounds();
        x0 = Math.max(0, box.x - reach);
        y0 = Math.max(0, box.y - reach);
        x1 = Math.min(hi, box.x + box.width + reach);
        y1 = Math.min(hi, box.y + box.height + reach);
        Arrays.fill(a, 0);
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                a[y * hi + x] = canvas[y * hi + x] & 0xFF;
            }
        }
        morph(d.stroke() * OVERSAMPLE);
        double ink = downsample();
        blur(d.blur());
        int n = size * size;
        float gain = 1f / brightLevel();
        for (int i = 0; i < n; i++) {
            float v = small[i] * gain;
            if (d.noise() > 0) {
                v += (float) (d.noise() * noise.nextGaussian());
            }
            out[offset + i] = (byte) Math.round(255 * Math.clamp(v, 0f, 1f));
        }
        return ink;
    }

    /**
     * The level that the brightest {@link #BRIGHT_SHARE} of pixels reach (at least 1/255): the image is
     * stretched so that it becomes 1. Thin, eroded or blurred strokes would otherwise come out faint, and
     * a faint glyph is a cue to the face rather than the character; bold glyphs, which already have that
     * share at full ink, are left as they are.
     */
    private float brightLevel() {
        int[] histogram = new int[256];
        for (float v : small) {
            histogram[Math.round(255 * Math.clamp(v, 0f, 1f))]++;
        }
        int wanted = (int) Math.ceil(BRIGHT_SHARE * small.length);
        int seen = 0;
        for (int level = 255; level > 1; level--) {
            seen += histogram[level];
            if (seen >= wanted) {
                return level / 255f;
            }
        }
        return 1 / 255f;
    }

    /**
     * Grey dilation ({@code radius > 0}) or erosion ({@code < 0}) of {@code a} by |radius| hi-res
     * pixels: ⌊|radius|⌋ passes of a 3×3 max (min) filter, alternating square and cross so the
     * structuring element approximates an octagon, and a final pass blended in by the fractional part.
     */
    private void morph(double radius) {
        boolean dilate = radius > 0;
        double r = Math.abs(radius);
        int whole = (int) Math.floor(r);
        double frac = r - whole;
        for (int pass = 0; pass < whole; pass++) {
            filter(pass % 2 == 0, dilate);
            int[] t = a;
            a = b;
            b = t;
        }
        if (frac > 1e-9) {
            filter(whole % 2 == 0, dilate);
            int w = (int) Math.round(256 * frac);
            for (int y = y0; y < y1; y++) {
                for (int i = y * hi + x0, end = y * hi + x1; i < end; i++) {
                    a[i] = ((256 - w) * a[i] + w * b[i] + 128) >> 8;
                }
            }
        }
    }

    /**
     * One 3×3 max (or min) filter pass from {@code a} into {@code b}, separably: {@code h} = the
     * horizontal 3-neighbourhood's extreme, then the square takes h's vertical extreme and the cross
     * combines h with the vertical neighbours. Outside the ink's box everything is 0, which also
     * stands for outside the canvas.
     */
    private void filter(boolean square, boolean max) {
        Arrays.fill(b, 0);
        for (int y = y0; y < y1; y++) {
            int row = y * hi;
            for (int x = x0; x < x1; x++) {
                int i = row + x;
                int l = x > x0 ? a[i - 1] : 0;
                int r = x < x1 - 1 ? a[i + 1] : 0;
                h[i] = max ? Math.max(a[i], Math.max(l, r)) : Math.min(a[i], Math.min(l, r));
            }
        }
        int[] vertical = square ? h : a;
        for (int y = y0; y < y1; y++) {
            int row = y * hi;
            for (int x = x0; x < x1; x++) {
                int i = row + x;
                int up = y > y0 ? vertical[i - hi] : 0;
                int down = y < y1 - 1 ? vertical[i + hi] : 0;
                b[i] = max ? Math.max(h[i], Math.max(up, down)) : Math.min(h[i], Math.min(up, down));
            }
        }
    }

    /** Block means of {@code a} into {@code small} in [0, 1]; returns the total ink. */
    private double downsample() {
        float norm = 1f / (255f * OVERSAMPLE * OVERSAMPLE);
        double total = 0;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int sum = 0;
                for (int dy = 0; dy < OVERSAMPLE; dy++) {
                    int row = (y * OVERSAMPLE + dy) * hi + x * OVERSAMPLE;
                    for (int dx = 0; dx < OVERSAMPLE; dx++) {
                        sum += a[row + dx];
                    }
                }
                small[y * size + x] = sum * norm;
                total += sum * norm;
            }
        }
        return total;
    }

    /** Separable Gaussian blur of {@code small} in place, kernel radius ⌈3σ⌉, zero outside. */
    private void blur(double sigma) {
        if (sigma < 0.05) {
            return;
        }
        int radius = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * radius + 1];
        float sum = 0;
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = (float) Math.exp(-i * i / (2 * sigma * sigma));
            sum += k[i + radius];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float v = 0;
                for (int i = -radius; i <= radius; i++) {
                    int xx = x + i;
                    if (xx >= 0 && xx < size) {
                        v += k[i + radius] * small[y * size + xx];
                    }
                }
                blurred[y * size + x] = v;
            }
        }
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float v = 0;
                for (int i = -radius; i <= radius; i++) {
                    int yy = y + i;
                    if (yy >= 0 && yy < size) {
                        v += k[i + radius] * blurred[yy * size + x];
                    }
                }
                small[y * size + x] = v;
            }
        }
    }
}
