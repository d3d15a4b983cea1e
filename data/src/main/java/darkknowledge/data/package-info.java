/**
 * Real data for the reproduction: MNIST and Fashion-MNIST fetched and verified by SHA-256, a user's
 * own IDX files or image folders named by {@code data.source} ({@link darkknowledge.data.DataSource}), an IDX
 * reader that validates every header, fixed seeded train/validation splits, minibatches gathered over a
 * seeded permutation, the ±2 px input jitter of the MNIST teacher (Hinton et al. 2015, §3), and a
 * synthetic many-class generator with planted confusable groups (the structure §5 exploits), and
 * {@code glyphs}, 3,755 Chinese characters rendered from real typefaces with the test faces held out of
 * training: a many-class problem whose confusions nobody planted ({@link darkknowledge.data.Glyphs}).
 *
 * <p>Depends on {@code core} and {@code nd4j-api} only (and on Java2D, headless, for the glyphs).
 */
package darkknowledge.data;
