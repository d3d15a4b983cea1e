/**
 * Engines: where the independent pieces of a stage run. A stage hands a list of {@link
 * darkknowledge.core.engine.Task}s (a specialist, a slice of transfer examples, one sweep point) to an
 * {@link darkknowledge.core.engine.Engine} and gets their small results back in order. The in-process
 * thread pool ({@link darkknowledge.core.engine.LocalEngine}) is one engine; Apache Spark (module
 * {@code spark}, found through {@link darkknowledge.core.engine.EngineProvider}) is the other, so a
 * test runs in process the same code that a cluster runs (as Apache Beam's runners do).
 *
 * <p>The paper's specialists "can be trained completely independently" (Hinton et al. 2015, §5):
 * that independence is what lets a stage be a list of tasks. A task is a small serialisable record
 * naming what to do and where its inputs are, never a captured object graph; it writes its large
 * outputs into the shared run directory by atomic rename ({@link
 * darkknowledge.core.engine.TaskContext#writeOutput}) and returns only small results.
 */
package darkknowledge.core.engine;
