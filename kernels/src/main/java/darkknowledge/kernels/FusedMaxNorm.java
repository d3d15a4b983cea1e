package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import org.deeplearning4j.nn.conf.constraint.BaseConstraint;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The max-norm constraint of dropout training (Srivastava et al. 2014, §5.1; the teacher recipe of
 * Hinton et al. 2015, §3), DL4J's {@link MaxNormConstraint} computed in one pass per unit: after
 * every update, each unit's incoming weight vector {@code w_j} (a column of W, nIn × nOut) becomes
 *
 * <pre>
 *   w_j ← w_j · min(‖w_j‖₂, c) / (‖w_j‖₂ + ε),    ε = 10⁻⁶ (DL4J's default)
 * </pre>
 *
 * exactly DL4J's formula (including the ε that shrinks every column by a factor 1 − ε/‖w_j‖ per
 * step), so nets trained before and after agree to float rounding ({@code FusedMaxNormTest}).
 *
 * <p>Why: DL4J's version is four ND4J ops (a norm along a dimension, a copy, a conditional replace,
 * a broadcast multiply), and a JFR profile of the paper-protocol 1200-1200 teacher showed them at a
 * third of its training time (norm 17.6%, broadcast 15.8% of samples, 2026-12-01). Here W's
 * column-major storage ('f', DL4J's layout) makes each column contiguous: its sum of squares and its
 * scaling are two passes over a few kilobytes that stay in cache ({@link Simd} vectors where the
 * JVM has them). Parameters that are not a dense 'f' float matrix normed over dimension 0 take
 * DL4J's computation.
 */
public final class FusedMaxNorm extends BaseConstraint {
    @JsonProperty
    private double maxNorm;

    /** For JSON deserialisation of saved models. */
    private FusedMaxNorm() {
        super();
    }

    /**
     * @param maxNorm    the largest L2 norm a unit's incoming weight vector may keep, {@code c > 0}
     * @param dimensions the dimensions the norm runs over ({@code 0} for a dense layer's W)
     */
    public FusedMaxNorm(double maxNorm, int... dimensions) {
        super(java.util.Collections.emptySet(), DEFAULT_EPSILON, dimensions);
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max-norm needs a positive bound, got " + maxNorm);
        }
        this.maxNorm = maxNorm;
    }

    public double getMaxNorm() {
        return maxNorm;
    }

    @Override
    public void apply(INDArray param) {
        boolean columns = Arrays.equals(dimensions, new int[] {0}) && param.rank() == 2
                && param.dataType() == DataType.FLOAT && FusedAdam.dense(param, 'f');
        if (!columns) {
            dl4j().apply(param);
            return;
        }
        int rows = (int) param.size(0);
        int cols = (int) param.size(1);
        MemorySegment w = FusedAdam.segment(param, 4);
        float c = (float) maxNorm;
        float eps = (float) epsilon;
        for (int j = 0; j < cols; j++) {
            long from = (long) j * rows;
            long to = from + rows;
            float norm = (float) Math.sqrt(sumOfSquares(w, from, to));
            float factor = Math.min(norm, c) / (norm + eps);
            scale(w, from, to, factor);
        }
    }

    /** Σ w² over elements [from, to), accumulated in float. */
    static float sumOfSquares(MemorySegment w, long from, long to) {
        if (Simd.AVAILABLE) {
            return Simd.Kernels.sumOfSquares(w, from, to);
        }
        float s = 0f;
        for (long i = from; i < to; i++) {
            float x = w.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            s += x * x;
        }
        return s;
    }

    /** Elements [from, to) multiplied by {@code factor} in place (exact per element, either loop). */
    static void scale(MemorySegment w, long from, long to, float factor) {
        if (Simd.AVAILABLE) {
            Simd.Kernels.scale(w, from, to, factor);
            return;
        }
        for (long i = from; i < to; i++) {
            w.setAtIndex(ValueLayout.JAVA_FLOAT, i, w.getAtIndex(ValueLayout.JAVA_FLOAT, i) * factor);
        }
    }

    private MaxNormConstraint dl4j() {
        MaxNormConstraint m = new MaxNormConstraint(maxNorm, params, dimensions);
        m.setEpsilon(epsilon);
        return m;
    }

    @Override
    public FusedMaxNorm clone() {
        FusedMaxNorm f = new FusedMaxNorm(maxNorm, dimensions == null ? new int[0] : dimensions.clone());
        f.setParams(params == null ? null : new java.util.HashSet<>(params));
        f.setEpsilon(epsilon);
        return f;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FusedMaxNorm f && f.maxNorm == maxNorm && f.epsilon == epsilon
                && Arrays.equals(f.dimensions, dimensions) && Objects.equals(f.params, params);
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxNorm, epsilon, Arrays.hashCode(dimensions), params);
    }

    @Override
    public String toString() {
        return "FusedMaxNorm(maxNorm=" + maxNorm + ", dimensions=" + Arrays.toString(dimensions) + ")";
    }
}
