/**
 * The experiments: each a class with a card (what it reproduces, the paper's figure, its cost and
 * the command), wiring the method's modules together; plus the command line ({@link Main}) that
 * runs them, lists them, and regenerates the result tables from run records.
 */
package darkknowledge.experiments;
