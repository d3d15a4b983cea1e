package darkknowledge.pipeline;

import darkknowledge.core.Sha256;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskInputException;
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
 * so the transfer set is cut into slices that any executor computes from the saved generalist and
 * specialists (each checked against its SHA-256) and the data recipe; the slice is written
 * atomically into {@code outputDir} as {@code transfer-q.<from>-<to>.bin} and the driver joins them.
 *
 * @param from        first row of the slice
 * @param to          one past its last row
 * @param generalist  the generalist's saved model and hash
 * @param specialists every specialist: saved model, hash, subset and dustbin shift
 * @param ensemble    topN, solver tolerance and iteration cap
 * @param data        how to rebuild the run's data
 * @param outputDir   where the slice goes
 */
public record EnsembleTargetsTask(int from, int to, Model generalist, List<SpecialistModel> specialists,
                                  EnsembleConfig ensemble, SpecialistTask.Recipe data, String outputDir)
        implements Task<EnsembleTargetsTask.Slice> {

    /** A saved model and its parameter hash. */
    public record Model(String path, String sha256) implements Serializable {
        Classifier load(TaskContext ctx) {
            Path file = ctx.input(Path.of(path));
            Classifier c = Classifier.load(file);
            if (!c.fingerprint().equals(sha256)) {
                throw new TaskInputException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on "
                        + ctx.where() + ": " + file + " has SHA-256 " + c.fingerprint() + ", expected " + sha256);
            }
            return c;
        }
    }

    /** A specialist as saved by its stage. */
    public record SpecialistModel(Model model, int[] subset, double dustbinShift, SpecialistConfig.Head head)
            implements Serializable {
        /** A specialist with §5.2's dustbin head. */
        public SpecialistModel(Model model, int[] subset, double dustbinShift) {
            this(model, subset, dustbinShift, SpecialistConfig.Head.DUSTBIN);
        }
    }

    /** What the driver collects: where the slice is and the hash of its bytes. */
    public record Slice(int from, int to, String file, String sha256) implements Serializable {
    }

    @Override
    public String label() {
        return "ensemble targets, rows " + from + ".." + (to - 1);
    }

    @Override
    public Slice run(TaskContext ctx) {
        Path out = ctx.input(Path.of(outputDir));
        RunData s = SpecialistTask.data(data, ctx);
        if (to > s.trainX().rows() || from < 0 || from >= to) {
            throw new IllegalArgumentException(label() + ": the training split has " + s.trainX().rows() + " rows");
        }
        List<Specialist> specs = new ArrayList<>();
        for (SpecialistModel m : specialists) {
            specs.add(new Specialist(m.subset(), m.model().load(ctx), m.dustbinShift(), m.head()));
        }
        INDArray x = s.trainX().get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
        double[][] q = SpecialistStages.ensemble(generalist.load(ctx), specs, ensemble).combine(x).q();
        INDArray slice = Nd4j.createFromArray(toFloat(q));
        Path file = out.resolve("transfer-q." + from + "-" + to + ".bin");
        SpecialistStages.writeMatrix(file, slice);
        try {
            return new Slice(from, to, file.toString(), Sha256.of(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read back " + file, e);
        }
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
