/**
 * The specialist method as stages (Hinton, Vinyals &amp; Dean 2015, §5, and its distillation, §2/§8):
 * functions of typed inputs that the experiments wire together and that an engine can run.
 *
 * <ul>
 * <li>{@link darkknowledge.pipeline.RunData}: the run's train / validation / test sets;
 *     {@link darkknowledge.pipeline.SpecialistDataset} the datasets the specialist experiments ship with.
 * <li>{@link darkknowledge.pipeline.Models}: train or load a net on hard labels or on a teacher's soft
 *     targets at temperature T ({@code T² · CE(p_T, q_T) + w · CE(y, q_1)}, §2).
 * <li>{@link darkknowledge.pipeline.SpecialistStages}: clustering (§5.3), specialists (§5.2), the KL
 *     ensemble (§5.4), Table 3/4 figures and the compute-matched control.
 * <li>{@link darkknowledge.pipeline.Store}: the one fingerprinted store every train-or-load goes through.
 * </ul>
 * Depends on every method module; only {@code experiments} (and engines) depend on it.
 */
package darkknowledge.pipeline;
