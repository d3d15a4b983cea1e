/**
 * Distillation, Hinton, Vinyals &amp; Dean 2015, §2 and §2.1: softmax at a temperature
 * ({@link TemperatureSoftmax}, eq. 1), the distillation objective ({@link DistillationLoss}), its
 * high-temperature limit, logit matching ({@link LogitMatchingLoss}), teachers and ensembles of
 * them ({@link Teacher}), soft targets computed once per transfer set ({@link SoftTargets}),
 * transfer sets ({@link TransferSet}) and the output-bias correction for classes a transfer set
 * omits (§3, {@link BiasShift}).
 *
 * <p>Imports no model module: a teacher is anything that maps inputs to logits or probabilities.
 */
package darkknowledge.distill;
