package darkknowledge.kernels;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.MultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.api.StepFunction;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A training step's parameter update in one pass over memory, for a net whose parameters all
 * train with {@link FusedAdam}:
 *
 * <pre>
 *   g ← g / B                      (DL4J's division by the minibatch size B)
 *   m, v, u ← Adam(g)              ({@link FusedAdam})
 *   θ ← θ − u                      (DL4J's step function, ND4J's θ.subi(u))
 * </pre>
 *
 * <p>DL4J makes these three passes over the 1.27 M parameters of a 784-800-800-10 net: JFR on a Zen 5
 * put the division at 0.34 ms and the subtraction at 0.49 ms of a 9 ms step, beside Adam's own
 * 0.58 ms. Here {@link FusedAdam}'s pass divides and subtracts too, and the optimiser's step function
 * does nothing for a step this class has applied. The same float operations in the same order: a net
 * trained this way has bit for bit the parameters and state of one trained by {@code net.fit} alone
 * ({@code FusedStepTest}).
 *
 * <p>{@link #install} changes a net only where that holds: stochastic gradient descent, standard
 * backprop, every updater block a float {@link FusedAdam} over contiguous views, no regularisation
 * (L1, L2, weight decay: DL4J applies them between the division and the updater) and no gradient
 * normalisation or clipping (applied between the division and the updater too). Other nets train as
 * before. Constraints (max-norm) are applied after the step, as DL4J always does.
 *
 * <p>How: the net gets a {@link MultiLayerUpdater} subclass ({@link Updater}) over the same state
 * view, which skips the division and tells each {@link FusedAdam} block the divisor and its parameter
 * view; the optimiser's step function (a protected field of DL4J's {@link BaseOptimizer}, set by
 * reflection: DL4J builds its step functions from a closed list) subtracts only what a step did
 * not apply itself, so a net whose updater is later replaced still trains correctly.
 */
public final class FusedStep {
    /** {@code -Ddk.fusedStep=false} (e.g. in JDK_JAVA_OPTIONS) keeps DL4J's three passes: the A/B switch. */
    public static final String DISABLE_PROPERTY = "dk.fusedStep";
    private static final Field STEP_FUNCTION = stepFunctionField();

    private FusedStep() {
    }

    private static Field stepFunctionField() {
        try {
            Field f = BaseOptimizer.class.getDeclaredField("stepFunction");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Makes {@code net}'s updates one pass (above) if it qualifies; idempotent. Returns why not, or
     * null when installed (or already installed).
     */
    public static String install(MultiLayerNetwork net) {
        if (installed(net)) {
            return null;
        }
        String why = unsupported(net);
        if (why != null) {
            return why;
        }
        ConvexOptimizer optimizer = net.getOptimizer();
        if (!(optimizer instanceof StochasticGradientDescent sgd)) {
            return "optimizer " + optimizer.getClass().getSimpleName() + ", not stochastic gradient descent";
        }
        StepFunction before;
        try {
            before = (StepFunction) STEP_FUNCTION.get(sgd);
        } catch (IllegalAccessException e) {
            return "DL4J's step function is not accessible: " + e;
        }
        if (!(before instanceof org.deeplearning4j.optimize.stepfunctions.NegativeGradientStepFunction)) {
            return "step function " + (before == null ? "null" : before.getClass().getSimpleName())
                    + ", not the negative gradient";
        }
        Updater fused = new Updater(net, net.getUpdater().getStateViewArray());
        fused.fuseBlocks();
        net.setUpdater(fused);
        try {
            STEP_FUNCTION.set(sgd, new Step(fused));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("step function readable but not writable", e);
        }
        return null;
    }

    /** Whether {@code net} takes its updates through {@link #install}'s single pass. */
    public static boolean installed(MultiLayerNetwork net) {
        return net.getUpdater() instanceof Updater;
    }

    /** Why {@code net} cannot take the fused step (null: it can). */
    static String unsupported(MultiLayerNetwork net) {
        if (!Boolean.parseBoolean(System.getProperty(DISABLE_PROPERTY, "true"))) {
            return "disabled by -D" + DISABLE_PROPERTY + "=false";
        }
        if (STEP_FUNCTION == null) {
            return "DL4J's BaseOptimizer has no stepFunction field";
        }
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        if (conf.getBackpropType() != BackpropType.Standard) {
            return "backprop " + conf.getBackpropType();
        }
        if (net.params() == null || net.params().dataType() != DataType.FLOAT || !FusedAdam.contiguous(net.params())) {
            return "parameters not one contiguous float array";
        }
        for (int i = 0; i < net.getnLayers(); i++) {
            NeuralNetConfiguration c = conf.getConf(i);
            if (c.getOptimizationAlgo() != org.deeplearning4j.nn.api.OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT) {
                return "layer " + i + ": optimisation " + c.getOptimizationAlgo();
            }
            TrainingConfig t = c.getLayer();
            GradientNormalization g = t.getGradientNormalization();
            if (g != null && g != GradientNormalization.None) {
                return "layer " + i + ": gradient normalisation " + g;
            }
            for (String p : net.getLayer(i).paramTable().keySet()) {
                if (!(t.getUpdaterByParam(p) instanceof FusedAdam)) {
                    return "layer " + i + " parameter " + p + ": updater " + t.getUpdaterByParam(p);
                }
                if (!net.getLayer(i).updaterDivideByMinibatch(p)) {
                    return "layer " + i + " parameter " + p + ": not divided by the minibatch size";
                }
                var regularization = t.getRegularizationByParam(p);
                if (regularization != null && !regularization.isEmpty()) {
                    return "layer " + i + " parameter " + p + ": regularisation " + regularization;
                }
            }
        }
        return null;
    }

    /** DL4J's updater over the same state, with the division left to the fused blocks. */
    public static final class Updater extends MultiLayerUpdater {
        private float divisor = 1f;
        private boolean fusing;
        /** Whether the last {@link #update} applied its step to the parameters itself (read once by {@link Step}). */
        private boolean applied;

        Updater(MultiLayerNetwork net, INDArray state) {
            super(net, state);
        }

        private void fuseBlocks() {
            INDArray params = getParams().reshape(getParams().length());  // a view: the net's flat parameters
            for (UpdaterBlock ub : getUpdaterBlocks()) {
                if (!(ub.getGradientUpdater() instanceof FusedAdam.Updater u)) {
                    throw new IllegalStateException("updater block " + ub.getParamOffsetStart() + ".."
                            + ub.getParamOffsetEnd() + " is " + ub.getGradientUpdater() + ", not FusedAdam");
                }
                INDArray view = params.get(NDArrayIndex.interval(ub.getParamOffsetStart(), ub.getParamOffsetEnd()));
                if (!FusedAdam.contiguous(ub.getGradientView())) {
                    throw new IllegalStateException("updater block " + ub.getParamOffsetStart() + ".."
                            + ub.getParamOffsetEnd() + ": gradient view not contiguous");
                }
                u.fuse(view, this);
            }
        }

        /** Whether the blocks apply their step themselves (during {@link #update}). */
        boolean fusing() {
            return fusing;
        }

        /** The minibatch size the gradient is divided by (1 when the net's configuration is not a minibatch one). */
        float divisor() {
            return divisor;
        }

        @Override
        public synchronized void update(Gradient gradient, int iteration, int epoch, int batchSize,
                LayerWorkspaceMgr workspaceMgr) {
            divisor = isMiniBatch() ? batchSize : 1;
            fusing = true;
            try {
                super.update(gradient, iteration, epoch, batchSize, workspaceMgr);
                applied = true;
            } finally {
                fusing = false;
            }
        }

        /**
         * Nothing while fusing: the blocks divide. (DL4J's {@code update} calls the net's own gradient
         * "external" when the {@link Gradient} holds another array object over it, as a
         * {@code MultiLayerNetwork}'s does; the blocks then get views of that array, which they divide
         * all the same.)
         */
        @Override
        protected void divideByMinibatch(boolean isExternal, Gradient gradient, int batchSize) {
            if (!fusing) {
                super.divideByMinibatch(isExternal, gradient, batchSize);
            }
        }

        private boolean takeApplied() {
            boolean a = applied;
            applied = false;
            return a;
        }
    }

    /** θ ← θ − u unless the fused updater already did it this step. */
    private record Step(Updater fused) implements StepFunction {
        @Override
        public void step(INDArray x, INDArray line, double step) {
            step(x, line);
        }

        @Override
        public void step(INDArray x, INDArray line) {
            if (!fused.takeApplied()) {
                x.subi(line);
            }
        }

        @Override
        public void step() {
            throw new UnsupportedOperationException("the negative gradient step needs the parameters and the update");
        }
    }
}
