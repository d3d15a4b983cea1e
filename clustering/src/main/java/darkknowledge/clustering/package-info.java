/**
 * Assigning classes to specialists (Hinton, Vinyals &amp; Dean 2015, §5.3): the covariance of the
 * generalist's predicted class probabilities, clustered with K-means so that classes the generalist
 * often confuses share a specialist. Plain arrays in, a {@link darkknowledge.core.ClassPartition}
 * out; no dependency on DL4J.
 */
package darkknowledge.clustering;
