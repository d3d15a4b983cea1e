package darkknowledge.pipeline;

import darkknowledge.core.AtomicFiles;
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
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One student of a sweep (a temperature, a seed) as an engine task: {@link Models#distill} on any
 * executor, with the teacher and the run's data the engine ships it ({@link Shipped}) and the run's
 * own seeds, so the student is the one the driver would have trained (Hinton et al. 2015, §2:
 * {@code T² · CE(p_T, q_T) + w · CE(y, q_1)}). The student trains in a store of the executor's
 * scratch space (or in the run directory itself when the executor sees it, so that a rerun resumes
 * from its checkpoints); its model and done record come back as bytes, and the driver writes them
 * into the run directory's store ({@link #save}), where the experiment then finds it, as a resumed
 * run does.
 *
 * @param name         the student's name (its store entry and seed)
 * @param cfg          the student's net and schedule
 * @param distill      temperature, hard-label weight, objective
 * @param teacher      the teacher
 * @param teacherName  the name the teacher's id is made from
 * @param data         the run's data
 * @param runSeed      the run's master seed
 * @param runDir       the driver's run directory
 * @param transferRows the rows of the training split the student is taught on
 * @param labeled      whether the hard-label term is used
 */
public record DistillTask(String name, MlpConfig cfg, DistillConfig distill, Shipped.Model teacher,
                          String teacherName, Shipped.Data data, long runSeed, String runDir,
                          int[] transferRows, boolean labeled) implements Task<DistillTask.Done> {
    private static final Logger LOG = LoggerFactory.getLogger(DistillTask.class);

    /** What a student of a sweep is, before the engine ships its inputs. */
    public record Student(String name, MlpConfig cfg, DistillConfig distill, int[] transferRows, boolean labeled) {
    }

    /** The trained student: its hash, and the bytes of its model and of its done record. */
    public record Done(String name, String sha256, byte[] model, byte[] record) implements Serializable {
    }

    @Override
    public String label() {
        return name + " (T = " + distill.temperature() + ")";
    }

    @Override
    public Done run(TaskContext ctx) throws IOException {
        Path dir;
        if (ctx.seesRunDir() && Files.isWritable(Path.of(runDir))) {
            dir = Path.of(runDir);
        } else {
            dir = Files.createDirectories(ctx.scratchDir().resolve("run"));
            if (!Files.exists(dir.resolve(RunRecord.CONFIG))) {
                Files.writeString(dir.resolve(RunRecord.CONFIG), "");
            }
        }
        RunData s = data.get(ctx);
        Classifier t = teacher.load(ctx);
        Trainer.Listener listener = SpecialistTask.inProcessListener();
        RunContext run = new RunContext(RunRecord.open(dir), new Seeds(runSeed), new DataStore(ctx.scratchDir()),
                Provenance.empty(), listener != null ? listener : r -> LOG.info("{} epoch {}/{}: validation errors {}",
                r.model(), r.epoch() + 1, r.epochs(), r.validationErrors()));
        Models.Trained student = Models.distill(run, name, cfg, distill,
                Models.asTeacher(new Models.Trained(teacherName, t, new Trainer.Outcome(0, 0, 0, 0, List.of()))), s,
                transferRows, labeled);
        Store.Entry at = run.store().open(name);
        return new Done(name, student.model().fingerprint(), Files.readAllBytes(at.model(name)),
                Files.readAllBytes(at.doneFile()));
    }

    /** On the driver: the student's model, then its done record, each atomically into the run's store. */
    public static void save(Store store, Done d) {
        Store.Entry at = store.open(d.name());
        try {
            Files.createDirectories(at.dir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + at.dir(), e);
        }
        AtomicFiles.write(at.model(d.name()), out -> out.write(d.model()));
        AtomicFiles.write(at.doneFile(), out -> out.write(d.record()));
    }
}
