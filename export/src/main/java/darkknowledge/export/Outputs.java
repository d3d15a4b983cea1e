package darkknowledge.export;

/**
 * What a classifier gave for {@code rows} examples: logits and probabilities, each a row-major
 * {@code rows × classes} array.
 */
public record Outputs(int rows, int classes, float[] logits, float[] probabilities) {
    public Outputs {
        if (logits.length != (long) rows * classes || probabilities.length != (long) rows * classes) {
            throw new IllegalArgumentException("outputs of " + rows + "x" + classes + " need " + rows * classes
                    + " values, got " + logits.length + " logits and " + probabilities.length + " probabilities");
        }
    }

    /** The most probable class of each row (the first of ties), from the logits. */
    public int[] predictions() {
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[r * classes + c] > logits[r * classes + best]) {
                    best = c;
                }
            }
            out[r] = best;
        }
        return out;
    }

    /** Number of rows whose prediction differs from {@code labels}. */
    public int errors(int[] labels) {
        int[] p = predictions();
        int e = 0;
        for (int i = 0; i < rows; i++) {
            e += p[i] != labels[i] ? 1 : 0;
        }
        return e;
    }

    /** {@code max |a − b|} over two arrays of the same length. */
    public static double maxAbsDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("cannot compare " + a.length + " values with " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }
}
