package darkknowledge.distill;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A teacher's soft targets on a transfer set, computed once (in chunks) and then only read: row
 * {@code i} belongs to transfer example {@code i}. Students gather minibatch rows of the features
 * and of the label matrix {@code [p | y]} with the same row indices, so the targets stay aligned
 * with their examples however the minibatches are shuffled.
 *
 * @param probabilities n × K, rows sum to 1
 * @param temperature   the T at which they were softened
 * @param teacherId     the teacher's id, for provenance
 */
public record SoftTargets(INDArray probabilities, double temperature, String teacherId) {
    private static final int CHUNK = 4096;

    public static SoftTargets compute(Teacher teacher, INDArray features, double temperature) {
        long n = features.rows();
        INDArray p = Nd4j.create(DataType.FLOAT, n, teacher.numClasses());
        for (long start = 0; start < n; start += CHUNK) {
            long end = Math.min(n, start + CHUNK);
            INDArray chunk = features.get(NDArrayIndex.interval(start, end), NDArrayIndex.all());
            p.get(NDArrayIndex.interval(start, end), NDArrayIndex.all())
                    .assign(teacher.softTargets(chunk, temperature));
        }
        return new SoftTargets(p, temperature, teacher.id());
    }

    /** The label matrix of {@link DistillationLoss}: {@code [p | oneHot]}. */
    public INDArray withHardLabels(INDArray oneHot) {
        return DistillationLoss.labels(probabilities, oneHot);
    }
}
