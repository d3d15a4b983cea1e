package darkknowledge.pipeline;

import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.data.DataStore;
import darkknowledge.distill.DistillConfig;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One student of a sweep (a temperature, a seed) as an engine task: {@link Models#distill} on any
 * executor that sees the run directory and the data, with the run's own seeds, so the student is
 * the one the driver would have trained (Hinton et al. 2015, §2: {@code T² · CE(p_T, q_T) + w ·
 * CE(y, q_1)}). The model and its done record go into the run directory's store; the driver then
 * finds it there, as a resumed run does.
 *
 * @param name         the student's name (its store entry and seed)
 * @param cfg          the student's net and schedule
 * @param distill      temperature, hard-label weight, objective
 * @param teacher      the teacher's saved model and hash
 * @param teacherName  the name the teacher's id is made from
 * @param data         how to rebuild the run's data
 * @param runSeed      the run's master seed
 * @param runDir       the run directory, on storage every executor sees
 * @param transferRows the rows of the training split the student is taught on
 * @param labeled      whether the hard-label term is used
 */
public record DistillTask(String name, MlpConfig cfg, DistillConfig distill, EnsembleTargetsTask.Model teacher,
                          String teacherName, SpecialistTask.Recipe data, long runSeed, String runDir,
                          int[] transferRows, boolean labeled) implements Task<DistillTask.Done> {
    private static final Logger LOG = LoggerFactory.getLogger(DistillTask.class);

    /** The trained student's hash, for the driver's log. */
    public record Done(String name, String sha256) implements Serializable {
    }

    @Override
    public String label() {
        return name + " (T = " + distill.temperature() + ")";
    }

    @Override
    public Done run(TaskContext ctx) {
        Path dir = ctx.input(Path.of(runDir));
        RunData s = SpecialistTask.data(data, ctx);
        Classifier t = teacher.load(ctx);
        Trainer.Listener listener = SpecialistTask.inProcessListener();
        RunContext run = new RunContext(RunRecord.open(dir), new Seeds(runSeed), new DataStore(Path.of(data.dataDir())),
                Provenance.empty(), listener != null ? listener : r -> LOG.info("{} epoch {}/{}: validation errors {}",
                r.model(), r.epoch() + 1, r.epochs(), r.validationErrors()));
        Models.Trained student = Models.distill(run, name, cfg, distill,
                Models.asTeacher(new Models.Trained(teacherName, t, new Trainer.Outcome(0, 0, 0, 0, List.of()))), s,
                transferRows, labeled);
        return new Done(name, student.model().fingerprint());
    }
}
