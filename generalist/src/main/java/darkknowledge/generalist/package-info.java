/**
 * The networks and their training: ReLU MLPs of any depth and width with the paper's
 * regularisers (dropout, max-norm weight constraints, input jitter; Hinton et al. 2015, §3), and
 * the trainer used for the generalist (§5.1), the MNIST teacher and baseline (§3), and, given a
 * distillation loss from outside, the students (§2).
 *
 * <p>{@link Classifier} wraps a DL4J network and exposes its logits; softening them at a
 * temperature is the {@code distill} module's business.
 */
package darkknowledge.generalist;
