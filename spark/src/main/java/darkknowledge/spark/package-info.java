/**
 * The Apache Spark engine ({@link darkknowledge.spark.SparkEngine}): the only package of the project
 * that imports {@code org.apache.spark}. Stages hand it the same {@link darkknowledge.core.engine.Task}s
 * that the in-process {@link darkknowledge.core.engine.LocalEngine} runs; {@code engine.kind=spark}
 * picks it through {@link darkknowledge.spark.SparkEngineProvider}. The paper's specialists "can be
 * trained completely independently" (Hinton et al. 2015, §5): here each is a Spark task, one per
 * partition, with its model written atomically to storage every executor sees.
 */
package darkknowledge.spark;
