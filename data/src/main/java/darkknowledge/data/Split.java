package darkknowledge.data;

/**
 * A fixed train/validation split of a training set. Validation is what tuning and early stopping
 * use; the test set is only for reporting.
 *
 * @param trainIndicesSha256 SHA-256 of the training rows' indices into the full set, for provenance
 * @param trainIndices       the training rows' indices into the full set, ascending
 */
public record Split(Dataset train, Dataset validation, long seed, String trainIndicesSha256, int[] trainIndices) {
}
