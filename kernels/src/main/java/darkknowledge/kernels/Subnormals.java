package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Keeps an optimiser's state out of float's subnormal range (|x| &lt; 1.2·10⁻³⁸), where x86 arithmetic
 * takes a microcode assist on every operation that reads or writes such a value (no flush-to-zero
 * mode is set for Java's or ND4J's code).
 *
 * <p>Why (measured): a weight whose gradient is zero for many steps (an input pixel that
 * is blank in most images, a dead ReLU unit) has its optimiser state decay geometrically: Adam's m by
 * β1 = 0.9 per step, its v by β2 = 0.999, Nesterov's velocity by the momentum. On the way to zero
 * each value spends ~150 (m) to ~16,000 (v) steps as a subnormal. Training 784-800-800-10 on MNIST,
 * 2.4% of m was subnormal after ~900 steps, and an Adam step with 20% subnormal state took ~18× as
 * long as with none: the long runs whose epochs grew from 6.6 to 9.5 s.
 *
 * <p>The fix: any state value below {@link #THRESHOLD} = 10⁻³⁰ is set to 0. {@link FusedAdam} does it
 * in its own loop at every step; for the other updaters (ND4J's Nesterov momentum) {@link Trainer}
 * calls {@link #guard} after every step, which flushes the whole state every {@link #PERIOD} steps.
 * Between two flushes a value of 10⁻³⁰ decays to no less than 10⁻³⁰·μ^16, still normal for any
 * decay factor μ ≥ 0.32 (our smallest is the dropout recipe's starting momentum, 0.5). The flush
 * does not move training: a state value of 10⁻³⁰ moves a weight by less than 10⁻²² (Adam: α·m/ε),
 * far below the rounding of any weight.
 */
public final class Subnormals {
    /** State values smaller than this in magnitude are stored as 0. */
    public static final float THRESHOLD = 1e-30f;
    /** Steps between two flushes of an updater state that does not guard itself. */
    public static final int PERIOD = 16;

    private Subnormals() {
    }

    /**
     * After a training step: flushes {@code net}'s updater state every {@link #PERIOD} iterations
     * (counted by the net, so a resumed training flushes at the same steps), unless its updater is
     * {@link FusedAdam}, which guards itself, or it has no state.
     */
    public static void guard(MultiLayerNetwork net) {
        if (net.getIterationCount() % PERIOD != 0 || net.getnLayers() == 0) {
            return;
        }
        IUpdater u = net.getLayerWiseConfigurations().getConf(0).getLayer().getUpdaterByParam("W");
        if (u instanceof FusedAdam) {
            return;
        }
        INDArray state = net.getUpdater().getStateViewArray();
        if (state != null) {
            flush(state);
        }
    }

    /** How many values of {@code net}'s optimiser state are subnormal, and how many it holds ({0, 0}: no state). */
    public static long[] countInState(MultiLayerNetwork net) {
        INDArray state = net.getUpdater().getStateViewArray();
        if (state == null) {
            return new long[] {0, 0};
        }
        double minNormal = state.dataType() == DataType.FLOAT ? Float.MIN_NORMAL : Double.MIN_NORMAL;
        long count = 0;
        for (double v : state.dup().data().asDouble()) {
            count += v != 0 && Math.abs(v) < minNormal ? 1 : 0;
        }
        return new long[] {count, state.length()};
    }

    /** Sets every value of {@code a} smaller than {@link #THRESHOLD} in magnitude to 0; returns how many were non-zero. */
    public static long flush(INDArray a) {
        if (a.length() == 0) {
            return 0;
        }
        if (!FusedAdam.contiguous(a)) {
            throw new IllegalArgumentException("flush needs a contiguous array, got shape "
                    + java.util.Arrays.toString(a.shape()) + " with strides " + java.util.Arrays.toString(a.stride()));
        }
        long n = a.length();
        long flushed = 0;
        if (a.dataType() == DataType.FLOAT) {
            MemorySegment s = FusedAdam.segment(a, 4);
            for (long i = 0; i < n; i++) {
                float x = s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (x != 0f && Math.abs(x) < THRESHOLD) {
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, i, 0f);
                    flushed++;
                }
            }
        } else if (a.dataType() == DataType.DOUBLE) {
            MemorySegment s = FusedAdam.segment(a, 8);
            for (long i = 0; i < n; i++) {
                double x = s.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
                if (x != 0 && Math.abs(x) < THRESHOLD) {
                    s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, 0);
                    flushed++;
                }
            }
        } else {
            throw new IllegalArgumentException("flush supports FLOAT or DOUBLE arrays, got " + a.dataType());
        }
        return flushed;
    }
}
