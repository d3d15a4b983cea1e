/**
 * Real data for the reproduction: MNIST and Fashion-MNIST fetched and verified by SHA-256, a user's
 * own IDX files or image folders named by {@code data.source} ({@link darkknowledge.data.DataSource}), an IDX
 * reader that validates every header, fixed seeded train/validation splits, minibatches gathered over a
 * seeded permutation, the ±2 px input jitter of the MNIST teacher (Hinton et al. 2015, §3), and a
 * synthetic many-class generator with planted confusable groups (the structure §5 exploits).
 *
 * <p>Depends on {@code core} and {@code nd4j-api} only.
 */
package darkknowledge.data;
