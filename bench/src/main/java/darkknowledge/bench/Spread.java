package darkknowledge.bench;

import java.util.Locale;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * A figure measured once per round of a bench that alternates ours and a reference within one
 * process, reported as its median with the range it moved in: on a machine whose speed drifts
 * (shared cores, a VM), a ratio taken once can be off by half, one taken in each of several
 * alternating rounds shows how far it moves.
 *
 * @param median the median over the rounds (the middle one for an odd count; commons-math's
 *     estimate for an even one)
 * @param min, max the smallest and largest value of a round
 * @param rounds how many rounds gave a finite value
 */
public record Spread(double median, double min, double max, int rounds) {

    /** The spread of the finite values among {@code perRound}; NaN figures and 0 rounds when none is. */
    public static Spread of(double... perRound) {
        DescriptiveStatistics s = new DescriptiveStatistics();
        for (double v : perRound) {
            if (Double.isFinite(v)) {
                s.addValue(v);
            }
        }
        if (s.getN() == 0) {
            return new Spread(Double.NaN, Double.NaN, Double.NaN, 0);
        }
        return new Spread(s.getPercentile(50), s.getMin(), s.getMax(), (int) s.getN());
    }

    /** Round by round {@code a[i] / b[i]}: a ratio taken side by side, then summarised. */
    public static Spread ofRatios(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("ratio of " + a.length + " rounds to " + b.length);
        }
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] / b[i];
        }
        return of(r);
    }

    /** "0.55–0.66 over 5 rounds", three significant digits. */
    public String range() {
        return String.format(Locale.ROOT, "%.3g–%.3g over %d rounds", min, max, rounds);
    }

    /** "0.60 (0.55–0.66 over 5 rounds)". */
    public String describe() {
        return String.format(Locale.ROOT, "%.3g (%s)", median, range());
    }
}
