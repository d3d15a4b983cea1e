package darkknowledge.data;

import darkknowledge.core.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Pictures of groups of character classes, e.g. the subsets a clustering found or the pairs a model
 * confuses most: one labelled row per group, each class drawn as its character in a chosen font
 * and/or as an example image from a dataset (the first of its class). Plain Java2D; the PNG is
 * written by atomic rename.
 */
public final class GlyphMontage {
    private static final Color INK = new Color(0x20, 0x20, 0x20);
    private static final Color RULE = new Color(0xD0, 0xD0, 0xD0);
    private static final Color LABEL = new Color(0x40, 0x40, 0x60);

    private GlyphMontage() {
    }

    /** A group of classes shown on one row (wrapped over several lines when long). */
    public record Row(String label, int[] classes) {
        public Row {
            classes = classes.clone();
        }
    }

    /** Two classes shown side by side, e.g. with their confusion rate as the label. */
    public record Pair(int first, int second, String label) {
    }

    /**
     * How to draw.
     *
     * @param font     the face to draw characters in, or null to show only samples
     * @param samples  a dataset of images whose first example of each class is shown, or null
     * @param cell     side of one class's cell in pixels
     * @param columns  classes per line before a row wraps
     */
    public record Style(Font font, Dataset samples, int cell, int columns) {
        public Style {
            if (font == null && samples == null) {
                throw new IllegalArgumentException("a montage needs a font, samples or both");
            }
            if (samples != null && samples.imageWidth() * samples.imageHeight() == 0) {
                throw new IllegalArgumentException("montage samples must be images; " + samples + " has no image size");
            }
            if (cell < 12 || columns < 1) {
                throw new IllegalArgumentException("montage: cell >= 12 px and columns >= 1 expected, got " + cell
                        + ", " + columns);
            }
        }

        /** Characters in {@code font}, 40 px cells, 30 per line. */
        public static Style of(Font font) {
            return new Style(font, null, 40, 30);
        }

        public Style withSamples(Dataset s) {
            return new Style(font, s, Math.max(cell, s.imageWidth() + 4), columns);
        }
    }

    /** Writes one labelled row per entry of {@code rows} to {@code png}. */
    public static void writeRows(Path png, List<String> classNames, List<Row> rows, Style style) {
        BufferedImage image = draw(classNames, rows, style);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new java.io.IOException("no PNG writer");
            }
        });
    }

    /** Writes one line per pair: its label, then the two classes. */
    public static void writePairs(Path png, List<String> classNames, List<Pair> pairs, Style style) {
        writeRows(png, classNames, pairs.stream().map(p -> new Row(p.label(), new int[] {p.first(), p.second()}))
                .toList(), style);
    }

    static BufferedImage draw(List<String> classNames, List<Row> rows, Style style) {
        for (Row r : rows) {
            for (int c : r.classes()) {
                if (c < 0 || c >= classNames.size()) {
                    throw new IllegalArgumentException("montage row '" + r.label() + "' names class " + c
                            + "; there are " + classNames.size());
                }
            }
        }
        int cell = style.cell();
        int layers = (style.font() != null ? 1 : 0) + (style.samples() != null ? 1 : 0);
        Font labelFont = (style.font() != null ? style.font() : new Font(Font.SANS_SERIF, Font.PLAIN, 1))
                .deriveFont(Font.PLAIN, 13f);
        FontRenderContext frc = new FontRenderContext(null, true, true);
        int labelWidth = 20;
        for (Row r : rows) {
            labelWidth = Math.max(labelWidth,
                    (int) Math.ceil(labelFont(labelFont, r.label()).getStringBounds(r.label(), frc).getWidth()) + 16);
        }
        int widest = rows.stream().mapToInt(r -> Math.min(style.columns(), r.classes().length)).max().orElse(1);
        int lines = rows.stream().mapToInt(r -> Math.max(1, ceilDiv(r.classes().length, style.columns()))).sum();
        int width = labelWidth + Math.max(1, widest) * cell + 8;
        int height = lines * layers * cell + rows.size() * 6 + 6;
        int[] firstOfClass = firstOfClass(style.samples(), classNames.size());

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        int y = 6;
        for (Row r : rows) {
            int rowLines = Math.max(1, ceilDiv(r.classes().length, style.columns()));
            g.setColor(LABEL);
            g.setFont(labelFont(labelFont, r.label()));
            g.drawString(r.label(), 8, y + (layers * cell) / 2 + 5);
            for (int j = 0; j < r.classes().length; j++) {
                int x = labelWidth + (j % style.columns()) * cell;
                int top = y + (j / style.columns()) * layers * cell;
                int c = r.classes()[j];
                if (style.font() != null) {
                    drawCharacter(g, style.font(), classNames.get(c), x, top, cell);
                    top += cell;
                }
                if (style.samples() != null) {
                    drawSample(g, style.samples(), firstOfClass[c], x, top, cell);
                }
            }
            y += rowLines * layers * cell + 6;
            g.setColor(RULE);
            g.setStroke(new BasicStroke(1f));
            g.drawLine(4, y - 3, width - 4, y - 3);
        }
        g.dispose();
        return img;
    }

    /** The character centred in its cell, its em square 80% of the cell (as {@link GlyphRenderer} does). */
    private static void drawCharacter(Graphics2D g, Font font, String character, int x, int y, int cell) {
        if (font.canDisplayUpTo(character) != -1) {
            throw new IllegalArgumentException(font.getFontName() + " has no glyph for '" + character + "'");
        }
        float size = (float) (GlyphRenderer.EM_FRACTION * cell);
        Shape s = font.deriveFont(size).createGlyphVector(g.getFontRenderContext(), character).getOutline();
        Rectangle2D box = s.getBounds2D();
        AffineTransform t = AffineTransform.getTranslateInstance(x + cell / 2.0 - box.getCenterX(),
                y + cell / 2.0 - box.getCenterY());
        g.setColor(INK);
        g.fill(t.createTransformedShape(s));
    }

    /** The sample image as it is (bright ink on dark), at the largest whole scale that fits the cell. */
    private static void drawSample(Graphics2D g, Dataset samples, int row, int x, int y, int cell) {
        if (row < 0) {
            g.setColor(RULE);
            g.drawRect(x + 2, y + 2, cell - 5, cell - 5);
            return;
        }
        int w = samples.imageWidth();
        int h = samples.imageHeight();
        int zoom = Math.max(1, Math.min((cell - 2) / w, (cell - 2) / h));
        // RGB, not TYPE_BYTE_GRAY: a grey image is linear and would be brightened on its way to sRGB.
        BufferedImage tile = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        float[] f = samples.features();
        int off = row * samples.numFeatures();
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                int v = Math.round(255 * Math.clamp(f[off + r * w + c], 0f, 1f));
                tile.setRGB(c, r, (v << 16) | (v << 8) | v);
            }
        }
        int dx = x + (cell - w * zoom) / 2;
        int dy = y + (cell - h * zoom) / 2;
        g.drawImage(tile, dx, dy, w * zoom, h * zoom, null);
    }

    private static int[] firstOfClass(Dataset samples, int classes) {
        int[] first = new int[classes];
        Arrays.fill(first, -1);
        if (samples == null) {
            return first;
        }
        if (samples.numClasses() != classes) {
            throw new IllegalArgumentException("montage: samples have " + samples.numClasses() + " classes, names "
                    + classes);
        }
        for (int i = samples.numExamples() - 1; i >= 0; i--) {
            first[samples.labels()[i]] = i;
        }
        return first;
    }

    /** Some CJK faces (Droid Sans Fallback) have no Latin letters: those labels fall back to SansSerif. */
    private static Font labelFont(Font preferred, String label) {
        return preferred.canDisplayUpTo(label) == -1 ? preferred : new Font(Font.SANS_SERIF, Font.PLAIN, preferred.getSize());
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
