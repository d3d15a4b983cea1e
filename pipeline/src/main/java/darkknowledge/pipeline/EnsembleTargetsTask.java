package darkknowledge.pipeline;

import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.generalist.Classifier;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The §5.4 ensemble's distribution on one slice of the transfer set, as an engine task: for rows
 * {@code [from, to)} of the training split, {@code q = argmin_q KL(p^g‖q) + Σ_{m∈A_k} KL(p^m‖q)},
 * the targets the distilled student learns from (§8, beyond the paper). Examples are independent,
 * so the transfer set is cut into slices that any executor computes from the generalist, the
 * specialists and the run's data the engine ships it ({@link Shipped}; each model checked against
 * its SHA-256); the slice's rows come back to the driver, which joins them.
 *
 * @param from        first row of the slice
 * @param to          one past its last row
 * @param generalist  the generalist
 * @param specialists every specialist: model, subset, dustbin shift and head
 * @param ensemble    topN, solver tolerance and iteration cap
 * @param data        the run's data
 */
public record EnsembleTargetsTask(int from, int to, Shipped.Model generalist, List<Member> specialists,
                                  EnsembleConfig ensemble, Shipped.Data data)
        implements Task<EnsembleTargetsTask.Slice> {

    /** A saved model on the driver and its parameter hash. */
    public record Model(String path, String sha256) implements Serializable {
        /** Ships this model's bytes through {@code engine}. */
        Shipped.Model ship(Engine engine) {
            return Shipped.model(engine, Path.of(path), sha256);
        }
    }

    /** A specialist as saved by its stage, on the driver. */
    public record SpecialistModel(Model model, int[] subset, double dustbinShift, SpecialistConfig.Head head)
            implements Serializable {
        /** A specialist with §5.2's dustbin head. */
        public SpecialistModel(Model model, int[] subset, double dustbinShift) {
            this(model, subset, dustbinShift, SpecialistConfig.Head.DUSTBIN);
        }
    }

    /** A specialist as the tasks receive it. */
    public record Member(Shipped.Model model, int[] subset, double dustbinShift, SpecialistConfig.Head head)
            implements Serializable {
    }

    /**
     * What the driver collects: the slice's rows ({@code [to - from, K]} floats, row-major) and the
     * SHA-256 of their bits, checked on arrival.
     */
    public record Slice(int from, int to, int classes, float[] q, String sha256) implements Serializable {
        /** The rows as a matrix; an error naming the slice when they are not what the task hashed. */
        INDArray matrix() {
            float[][] rows = new float[to - from][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = java.util.Arrays.copyOfRange(q, i * classes, (i + 1) * classes);
            }
            if (!Shipped.sha256(rows).equals(sha256)) {
                throw new IllegalStateException("ensemble targets, rows " + from + ".." + (to - 1)
                        + ": the rows received do not have the SHA-256 their task reported (" + sha256 + ")");
            }
            return Nd4j.createFromArray(rows);
        }
    }

    /**
     * The tasks of {@code n} transfer rows cut into {@code slices} slices, with the generalist and
     * the specialists shipped through {@code engine} once for all of them.
     */
    public static List<EnsembleTargetsTask> slices(Engine engine, Model generalist, List<SpecialistModel> specialists,
                                                   EnsembleConfig cfg, Shipped.Data data, int n, int slices) {
        Shipped.Model g = generalist.ship(engine);
        List<Member> members = new ArrayList<>();
        for (SpecialistModel m : specialists) {
            members.add(new Member(m.model().ship(engine), m.subset(), m.dustbinShift(), m.head()));
        }
        int size = Math.max(1, (n + slices - 1) / slices);
        List<EnsembleTargetsTask> tasks = new ArrayList<>();
        for (int from = 0; from < n; from += size) {
            tasks.add(new EnsembleTargetsTask(from, Math.min(n, from + size), g, members, cfg, data));
        }
        return tasks;
    }

    @Override
    public String label() {
        return "ensemble targets, rows " + from + ".." + (to - 1);
    }

    @Override
    public Slice run(TaskContext ctx) {
        RunData s = data.get(ctx);
        if (to > s.trainX().rows() || from < 0 || from >= to) {
            throw new IllegalArgumentException(label() + ": the training split has " + s.trainX().rows() + " rows");
        }
        List<Specialist> specs = new ArrayList<>();
        for (Member m : specialists) {
            specs.add(new Specialist(m.subset(), m.model().load(ctx), m.dustbinShift(), m.head()));
        }
        Classifier g = generalist.load(ctx);
        INDArray x = s.trainX().get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
        float[][] q = toFloat(SpecialistStages.ensemble(g, specs, ensemble).combine(x).q());
        int k = q.length == 0 ? 0 : q[0].length;
        float[] flat = new float[q.length * k];
        for (int i = 0; i < q.length; i++) {
            System.arraycopy(q[i], 0, flat, i * k, k);
        }
        return new Slice(from, to, k, flat, Shipped.sha256(q));
    }

    static float[][] toFloat(double[][] a) {
        float[][] f = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            f[i] = new float[a[i].length];
            for (int j = 0; j < a[i].length; j++) {
                f[i][j] = (float) a[i][j];
            }
        }
        return f;
    }
}
