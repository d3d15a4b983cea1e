package darkknowledge.distill;

import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The output-bias correction of Hinton et al. 2015, §3: a student whose transfer set omitted some
 * classes learns too low a bias for them; adding a shift {@code δ} to those classes' logits
 * ({@code z_c ← z_c + δ}, the same as adding δ to their output biases) restores them. The paper
 * chose δ on the test set (3.5 for the omitted 3; −7.6 on the 7 and 8 biases for the "only 7s and
 * 8s" set); we choose it on the validation split and report the test-optimal δ separately.
 */
public final class BiasShift {
    private BiasShift() {
    }

    /** The chosen shift and the number of errors it gives on the set it was chosen on. */
    public record Choice(double shift, int errors) {
    }

    /** Shifts to try: {@code from} to {@code to} in steps of {@code step}. */
    public static double[] grid(double from, double to, double step) {
        int n = (int) Math.floor((to - from) / step + 1e-9) + 1;
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = from + i * step;
        }
        return g;
    }

    /** The shift of {@code grid} with the fewest errors; ties go to the smallest |δ|. */
    public static Choice choose(INDArray logits, int[] labels, List<Integer> classes, double[] grid) {
        float[] z = logits.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int k = (int) logits.columns();
        boolean[] shifted = new boolean[k];
        classes.forEach(c -> shifted[c] = true);
        Choice best = null;
        for (double delta : grid) {
            int errors = errors(z, k, labels, shifted, delta);
            if (best == null || errors < best.errors()
                    || errors == best.errors() && Math.abs(delta) < Math.abs(best.shift())) {
                best = new Choice(delta, errors);
            }
        }
        return best;
    }

    /** Errors of the logits after shifting {@code classes} by {@code delta}. */
    public static int errors(INDArray logits, int[] labels, List<Integer> classes, double delta) {
        int k = (int) logits.columns();
        boolean[] shifted = new boolean[k];
        classes.forEach(c -> shifted[c] = true);
        return errors(logits.castTo(DataType.FLOAT).dup('c').data().asFloat(), k, labels, shifted, delta);
    }

    /** Errors among the examples whose label is {@code label}, after the shift. */
    public static int errorsOnClass(INDArray logits, int[] labels, List<Integer> classes, double delta, int label) {
        int k = (int) logits.columns();
        boolean[] shifted = new boolean[k];
        classes.forEach(c -> shifted[c] = true);
        float[] z = logits.castTo(DataType.FLOAT).dup('c').data().asFloat();
        int errors = 0;
        for (int r = 0; r < labels.length; r++) {
            if (labels[r] == label && predict(z, r, k, shifted, delta) != label) {
                errors++;
            }
        }
        return errors;
    }

    private static int errors(float[] z, int k, int[] labels, boolean[] shifted, double delta) {
        int errors = 0;
        for (int r = 0; r < labels.length; r++) {
            if (predict(z, r, k, shifted, delta) != labels[r]) {
                errors++;
            }
        }
        return errors;
    }

    private static int predict(float[] z, int r, int k, boolean[] shifted, double delta) {
        int best = 0;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
            double v = z[r * k + c] + (shifted[c] ? delta : 0);
            if (v > bestValue) {
                bestValue = v;
                best = c;
            }
        }
        return best;
    }
}
