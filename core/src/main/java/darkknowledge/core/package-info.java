/**
 * Shared foundation, free of ND4J and DL4J: the flat configuration key space ({@link Settings},
 * {@link Configs}), seeds ({@link Seeds}), provenance ({@link Provenance}), run records
 * ({@link RunRecord}), atomic file writes ({@link AtomicFiles}), result tables
 * ({@link ResultTables}) and child processes with timeouts that fire ({@link ChildProcess}). Nothing here implements a section of the paper; everything here makes the
 * sections that do traceable.
 */
package darkknowledge.core;
