/**
 * The student leaves the lab: a trained {@link darkknowledge.generalist.Classifier} written as a
 * MultiLayerNetwork of DL4J's stock layers ({@link darkknowledge.export.StockDl4j}) and as a standard
 * ONNX graph ({@link darkknowledge.export.OnnxGraph}), both from one description of what the net
 * computes at inference ({@link darkknowledge.export.NetLayout}), each carrying the run's provenance
 * ({@link darkknowledge.export.Export}); and the two checks that they compute what the net did: ONNX
 * Runtime ({@link darkknowledge.export.OnnxRuntimeNet}) and stock DL4J in a child JVM without this
 * project's classes ({@link darkknowledge.export.StockDl4jProcess}). Distillation exists to ship one
 * small net instead of an ensemble (Hinton et al. 2015, §1); this is the shipping.
 */
package darkknowledge.export;
