/**
 * {@code ./dk bench}: what the method's pieces cost on this machine, as ratios measured side by side
 * in one process, with the machine's provenance beside the figures.
 *
 * <ul>
 * <li>{@link darkknowledge.bench.Bench}: the entry point; runs the benches below in a fixed order,
 *     writes {@code results/bench.csv} and {@code bench.provenance.properties}, renders the table.
 * <li>{@code TrainingBench}: the MLP's epoch against the GEMM ceiling, against DL4J's stock layers
 *     and updater, against the NumPy peer, in alternating rounds ({@code Spread}: median and range);
 *     one Adam step; the overhead of distillation (§2).
 * <li>{@code GemmCeiling}: the ceiling, the best raw fp32 rate of MKL and OpenBLAS at a training
 *     step's products (and MKL's bf16 rate), measured by {@code GemmProbe} through FFM in a child JVM
 *     per library ({@code ProbeProcess}).
 * <li>{@code ConvBenchmark}: the convolutional generalist's layers against DL4J's, by hand.
 * <li>{@code SolverBench}: the §5.4 KL combination against the generalist's forward pass.
 * <li>{@code SpecialistsBench}: specialists (§5.2) trained by 2 workers against 1.
 * <li>{@code ClusteringBench}: the class covariance and K-means of §5.3, exact and sketched, up to
 *     JFT's 15,000 classes.
 * </ul>
 * Every random array is drawn from a stream derived from {@link darkknowledge.bench.Bench#SEED}.
 * Depends on the method modules, never on {@code experiments}.
 */
package darkknowledge.bench;
