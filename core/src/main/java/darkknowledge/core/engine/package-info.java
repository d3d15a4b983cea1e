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
 * naming what to do, never a captured object graph; its large inputs travel through the engine
 * ({@link darkknowledge.core.engine.Engine#share}: a Spark broadcast) and its outputs come back in its
 * result, which the driver writes into the run directory as each task finishes: nothing requires a
 * file system shared by the driver and the executors (where there is one, {@link
 * darkknowledge.core.engine.TaskContext#seesRunDir} lets a task keep its checkpoints there).
 */
package darkknowledge.core.engine;
