package darkknowledge.specialists;

/**
 * How a specialist's dustbin logit is corrected after training on oversampled data (§5.2).
 *
 * <p>A specialist sees a fraction {@code s} (the subset share, ½ in the paper) of its training
 * examples from its subset S, whose true prior is {@code π = P(y ∈ S)}, and {@code 1 − s} from the
 * rest. Its softmax therefore estimates posteriors under the training prior.
 * <ul>
 * <li>{@link #LOG_OVERSAMPLING}: the paper's sentence — "we increment the logit of the dustbin class by
 *     the log of the proportion by which the specialist data has been oversampled": {@code + log(s / π)}.
 * <li>{@link #PRIOR_SHIFT}: the exact prior-shift correction of the posterior (Saerens et al. 2002):
 *     every logit moves by the log ratio of true to training prior, {@code log(π/s)} for subset
 *     classes and {@code log((1−π)/(1−s))} for the dustbin; softmax ignores a common shift, so the
 *     dustbin alone moves by {@code log((1−π)/(1−s)) − log(π/s)}.
 * <li>{@link #FITTED}: a shift fitted per specialist on the validation examples §5.4 would route to
 *     it (the generalist's top class in its subset), where the priors are those the specialist meets
 *     in the ensemble: the {@code δ} maximising the likelihood of the grouped labels (subset class or
 *     dustbin) under the folded distribution with the dustbin logit moved by {@code δ}, with a
 *     standard normal prior on {@code δ}. At its stationary point the mean predicted dustbin mass
 *     about equals the dustbin's share of those examples (see {@link Specialists#fitDustbinShift}).
 * </ul>
 * The two differ by {@code log((1−π)/(1−s))}: for the paper's JFT specialists (π ≪ 1, s = ½) that is
 * log 2, for a subset holding half the classes of Fashion-MNIST it is large.
 */
public enum DustbinCorrection {
    NONE, LOG_OVERSAMPLING, PRIOR_SHIFT, FITTED;

    /**
     * The amount added to the dustbin logit, for true subset prior {@code pi} and training share
     * {@code share}; {@link #FITTED} depends on the specialist itself, so it takes {@code fitted}, the
     * shift {@link Specialists#fitDustbinShift} found for it.
     */
    public double dustbinShift(double pi, double share, double fitted) {
        return this == FITTED ? fitted : dustbinShift(pi, share);
    }

    /** The amount added to the dustbin logit, for true subset prior {@code pi} and training share {@code share}. */
    public double dustbinShift(double pi, double share) {
        if (this == FITTED) {
            throw new IllegalArgumentException("the fitted correction is fitted on each specialist's validation data, "
                    + "not computed from the priors");
        }
        if (!(pi > 0 && pi < 1) || !(share > 0 && share < 1)) {
            throw new IllegalArgumentException("priors must be in (0, 1): subset prior " + pi + ", share " + share);
        }
        return switch (this) {
            case NONE -> 0;
            case LOG_OVERSAMPLING -> Math.log(share / pi);
            case PRIOR_SHIFT -> Math.log((1 - pi) / (1 - share)) - Math.log(pi / share);
            case FITTED -> throw new AssertionError();
        };
    }
}
