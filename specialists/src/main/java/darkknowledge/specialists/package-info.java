/**
 * Specialists (Hinton, Vinyals &amp; Dean 2015, §5): networks initialised from the generalist, each
 * trained on a subset of confusable classes plus a dustbin class (§5.2), with the dustbin logit
 * corrected for the oversampling, and the per-example combination of generalist and specialists by
 * minimising a sum of KL divergences (§5.4, {@link darkknowledge.specialists.KlCombiner}); §6.1's
 * specialists with a full softmax trained on the generalist's soft targets for the non-special classes.
 *
 * <p>Depends on {@code core}, {@code data}, {@code generalist} and {@code distill} (§6.1's soft-target loss); the class subsets come in as plain
 * {@code int[]}s, so this module does not depend on {@code clustering}.
 */
package darkknowledge.specialists;
