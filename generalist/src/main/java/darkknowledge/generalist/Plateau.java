package darkknowledge.generalist;

import darkknowledge.core.Check;

/**
 * Reduce-on-plateau: the learning rate is multiplied by {@code factor} each time {@code epochs}
 * epochs have passed without a new best validation error since the best epoch or the last
 * reduction, whichever came later. With the per-epoch decay of the schedule it is part of,
 *
 * <pre>
 *   lr_e = lr_0 · decay^e · factor^(r_e),
 *   r_e  = #{ k &lt; e : k − max(b_k, f_k) ≥ epochs },
 * </pre>
 *
 * where {@code b_k} is the first epoch with the fewest validation errors among epochs {@code 0..k}
 * and {@code f_k} the last epoch before {@code k} at which a reduction fired (−1 if none). The rate
 * is a function of the validation errors alone, so a training resumed from its checkpoint (which
 * keeps the history) takes the rates an uninterrupted one would have.
 *
 * <p>The paper does not say how JFT's generalist was scheduled (Hinton et al. 2015, §5 only says it
 * trained for six months); this is the common schedule of "train until validation stops improving"
 * (ReduceLROnPlateau of Keras and PyTorch), which does not, unlike a fixed decay from the first
 * epoch, tax a run that leaves its initial loss plateau an epoch later than another.
 *
 * @param epochs epochs without a new best validation error before each reduction (0 = never reduce)
 * @param factor multiplier of each reduction, in (0, 1)
 */
public record Plateau(int epochs, double factor) implements java.io.Serializable {
    /** No reductions: the schedule's own decay alone. */
    public static final Plateau OFF = new Plateau(0, 0.5);

    public Plateau {
        Check.atLeast("epochs", epochs, 0);
        Check.that(factor > 0 && factor < 1, "factor", "must be in (0, 1), got " + factor);
    }

    /** Whether reductions happen at all. */
    public boolean on() {
        return epochs > 0;
    }

    /**
     * {@code r_e}: the reductions fired after epochs {@code 0..e-1}, whose validation errors are
     * {@code validationErrors[0..e-1]}.
     */
    public int reductionsBefore(int e, int[] validationErrors) {
        if (!on() || e == 0) {
            return 0;
        }
        if (validationErrors.length < e) {
            throw new IllegalArgumentException("the plateau schedule of epoch " + e + " needs the validation errors of "
                    + e + " epochs, got " + validationErrors.length);
        }
        int best = Integer.MAX_VALUE;
        int bestEpoch = -1;
        int lastFired = -1;
        int r = 0;
        for (int k = 0; k < e; k++) {
            if (validationErrors[k] < 0) {
                throw new IllegalArgumentException("the plateau schedule needs validation errors; epoch " + k
                        + " has none (" + validationErrors[k] + ")");
            }
            if (validationErrors[k] < best) {
                best = validationErrors[k];
                bestEpoch = k;
            }
            if (k - Math.max(bestEpoch, lastFired) >= epochs) {
                r++;
                lastFired = k;
            }
        }
        return r;
    }

    /** {@code factor^(r_e)}: what the reductions so far multiply the learning rate by. */
    public double multiplierBefore(int e, int[] validationErrors) {
        return Math.pow(factor, reductionsBefore(e, validationErrors));
    }
}
