package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link NhwcMaxPool}'s max pooling of NHWC rows computed by oneDNN's pooling primitives
 * ({@link Dnnl}), multi-threaded on the OpenMP pool its convolutions use: the pooling of
 * {@code conv.backend=dnnl} nets, between {@link DnnlConv} layers.
 *
 * <p>The forward pass of a training step keeps oneDNN's workspace (where each window's max was) in
 * DL4J's activations workspace for the backward pass, which routes each output's gradient there and
 * 0 elsewhere. Where a window holds equal maxima the two may route to different ones of them: in a
 * net, after ReLU, that is a window of zeros, whose gradient the convolution's ReLU backward then
 * zeroes wherever it lands. {@code DnnlMaxPoolTest} checks outputs and gradients against
 * {@link NhwcMaxPool}. No parameters; float32 only.
 */
public class DnnlMaxPool extends NhwcMaxPool {
    /** Batch sizes whose primitives a layer keeps. */
    private static final int PLANS = 4;

    /** For JSON deserialisation of saved models. */
    public DnnlMaxPool() {
        super();
    }

    /** As {@link NhwcMaxPool#of}, computed by oneDNN. */
    public static DnnlMaxPool of(int height, int width, int channels, int size) {
        return geometry(new DnnlMaxPool(), height, width, channels, size);
    }

    /** The oneDNN implementations of a {@code DnnlMaxPool} layer at this batch size (forward, backward). */
    public static List<String> implementations(org.deeplearning4j.nn.api.Layer layer, long batch) {
        if (!(layer instanceof Impl impl)) {
            throw new IllegalArgumentException("not a DnnlMaxPool layer: " + layer.getClass().getName());
        }
        Plan p = impl.plan(batch);
        p.backwardPrimitives();
        return List.copyOf(p.implementations);
    }

    @Override
    AbstractLayer<NhwcMaxPool> implementation(NeuralNetConfiguration conf, DataType dataType) {
        Dnnl.library();  // fails here, naming what is missing, rather than at the first step
        return new Impl(conf, dataType);
    }

    /** The layer itself: {@link NhwcMaxPool}'s, its passes on oneDNN. */
    static final class Impl extends NhwcMaxPool.Impl {
        /** The training forward pass's workspace and input, for the backward pass. */
        private INDArray workspace;
        private INDArray workspaceInput;
        private final Map<Long, Plan> plans = new LinkedHashMap<>(8, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Plan> eldest) {
                if (size() > PLANS) {
                    eldest.getValue().close();
                    return true;
                }
                return false;
            }
        };

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private Plan plan(long n) {
            Plan p = plans.get(n);
            if (p == null) {
                p = new Plan(layerConf(), n);
                plans.put(n, p);
            }
            return p;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            workspace = null;
            workspaceInput = null;
            INDArray out = forward(ArrayType.ACTIVATIONS, training ? ArrayType.ACTIVATIONS : null, workspaceMgr);
            if (training) {
                workspaceInput = input;
            }
            return out;
        }

        /** The pooled rows; with {@code wsType}, the forward-training pass keeping its workspace in {@link #workspace}. */
        private INDArray forward(ArrayType outType, ArrayType wsType, LayerWorkspaceMgr workspaceMgr) {
            NhwcMaxPool c = layerConf();
            INDArray x = Im2colConv.rows(input, c.inputSize(), "input");
            long n = x.size(0);
            Plan p = plan(n);
            INDArray out = workspaceMgr.createUninitialized(outType, DataType.FLOAT, new long[] {n, c.outputSize()}, 'c');
            try {
                if (wsType == null) {
                    p.inference(Im2colConv.segment(x), Im2colConv.segment(out));
                } else {
                    workspace = workspaceMgr.createUninitialized(wsType, DataType.INT8, new long[] {p.workspaceBytes()},
                            'c');
                    p.training(Im2colConv.segment(x), Im2colConv.segment(out), bytes(workspace));
                }
            } finally {
                Im2colConv.alive(this, x);
            }
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            NhwcMaxPool c = layerConf();
            if (workspace == null || workspaceInput != input) {
                forward(ArrayType.BP_WORKING_MEM, ArrayType.BP_WORKING_MEM, workspaceMgr);
            }
            INDArray ws = workspace;
            workspace = null;
            workspaceInput = null;
            INDArray eps = Im2colConv.rows(epsilon, c.outputSize(), "epsilon");
            long n = eps.size(0);
            INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[] {n, c.inputSize()}, 'c');
            try {
                plan(n).backward(Im2colConv.segment(eps), Im2colConv.segment(epsNext), bytes(ws));
            } finally {
                Im2colConv.alive(this, eps, ws);
            }
            return new Pair<>(new DefaultGradient(), epsNext);
        }

        /** Native memory of a c-contiguous byte array. */
        private static MemorySegment bytes(INDArray a) {
            return MemorySegment.ofAddress(a.data().addressPointer().address()).reinterpret(a.length());
        }

        @Override
        public void clear() {
            super.clear();
            workspace = null;
            workspaceInput = null;
        }
    }

    /** One layer's pooling primitives for one batch size (NHWC), the backward one built at first use. */
    static final class Plan implements AutoCloseable {
        private final Dnnl lib = Dnnl.library();
        private final Dnnl.Natives nat = lib.new Natives(this);
        private final MemorySegment stream = nat.stream();
        private final long size;
        private final MemorySegment srcMd;
        private final MemorySegment dstMd;
        private final MemorySegment attr;
        private final MemorySegment trainingPd;
        private final MemorySegment src;
        private final MemorySegment dst;
        private final MemorySegment ws;
        private final Dnnl.Exec inference;
        private final Dnnl.Exec training;
        private MemorySegment diffDst;
        private MemorySegment diffSrc;
        private Dnnl.Exec backward;
        private final MemorySegment forwardScratch;
        private MemorySegment backwardScratch;
        final List<String> implementations = new java.util.ArrayList<>();

        Plan(NhwcMaxPool c, long n) {
            size = c.size();
            srcMd = nat.md(new long[] {n, c.channels(), c.height(), c.width()}, Dnnl.TAG_NHWC);
            dstMd = nat.md(new long[] {n, c.channels(), c.height() / size, c.width() / size}, Dnnl.TAG_NHWC);
            attr = nat.attr(false);
            MemorySegment inferencePd = nat.maxPoolForwardPd(srcMd, dstMd, size, false, attr);
            trainingPd = nat.maxPoolForwardPd(srcMd, dstMd, size, true, attr);
            implementations.add("fwd " + lib.implementation(trainingPd));
            forwardScratch = nat.scratchpad(inferencePd, trainingPd);
            src = nat.memory(srcMd, MemorySegment.NULL);
            dst = nat.memory(dstMd, MemorySegment.NULL);
            ws = nat.memory(lib.queryMd(trainingPd, Dnnl.QUERY_WORKSPACE_MD), MemorySegment.NULL);
            inference = nat.exec(inferencePd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DST}, new MemorySegment[] {src, dst},
                    forwardScratch);
            training = nat.exec(trainingPd, new int[] {Dnnl.ARG_SRC, Dnnl.ARG_DST, Dnnl.ARG_WORKSPACE},
                    new MemorySegment[] {src, dst, ws}, forwardScratch);
        }

        /** Bytes of the workspace a training forward pass fills and its backward pass reads. */
        long workspaceBytes() {
            return Math.max(1, lib.size(lib.queryMd(trainingPd, Dnnl.QUERY_WORKSPACE_MD)));
        }

        void backwardPrimitives() {
            if (backward != null) {
                return;
            }
            MemorySegment pd = nat.maxPoolBackwardPd(srcMd, dstMd, size, trainingPd, attr);
            implementations.add("bwd " + lib.implementation(pd));
            backwardScratch = nat.scratchpad(pd);
            diffDst = nat.memory(dstMd, MemorySegment.NULL);
            diffSrc = nat.memory(srcMd, MemorySegment.NULL);
            backward = nat.exec(pd, new int[] {Dnnl.ARG_DIFF_DST, Dnnl.ARG_WORKSPACE, Dnnl.ARG_DIFF_SRC},
                    new MemorySegment[] {diffDst, ws, diffSrc}, backwardScratch);
        }

        void inference(MemorySegment xs, MemorySegment outs) {
            lib.setHandle(src, xs);
            lib.setHandle(dst, outs);
            lib.execute(inference, stream);
        }

        void training(MemorySegment xs, MemorySegment outs, MemorySegment wss) {
            lib.setHandle(src, xs);
            lib.setHandle(dst, outs);
            lib.setHandle(ws, wss);
            lib.execute(training, stream);
        }

        /** ε_prev from ε through the maxima recorded in {@code wss} by {@link #training}. */
        void backward(MemorySegment epss, MemorySegment epsNexts, MemorySegment wss) {
            backwardPrimitives();
            lib.setHandle(diffDst, epss);
            lib.setHandle(diffSrc, epsNexts);
            lib.setHandle(ws, wss);
            lib.execute(backward, stream);
        }

        @Override
        public void close() {
            nat.close();
        }
    }
}
