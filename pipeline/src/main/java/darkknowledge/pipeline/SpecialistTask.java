package darkknowledge.pipeline;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.generalist.Checkpoints;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.Schedule;
import darkknowledge.generalist.Trainer;
import darkknowledge.specialists.Specialist;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.Specialists;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One specialist of §5.2 as an engine task: "the specialists can be trained completely
 * independently" (Hinton et al. 2015, §5). A small serialisable record saying what to do — the
 * subset, the schedule and the seeds — with its large inputs as handles the engine ships
 * ({@link Shipped}: the generalist's saved model, checked against its SHA-256, and the run's data,
 * checked against the training set's SHA-256), never a captured object graph and never a path the
 * executor would have to share with the driver.
 *
 * <p>Its output comes back to the driver: the model's bytes and its figures ({@link Output}); the
 * driver writes them into {@code outputDir} ({@link #save}): the model {@code specialist<m>.zip},
 * then, last and atomically, {@code specialist<m>.done.properties}, as each task finishes. A
 * specialist whose done record exists is not trained again (a resumed run, {@link #finished}). A
 * task killed mid-training is rerun from the start, or from its checkpoints when the executor sees
 * the run directory (in process, shared storage). The same specialist trained by any engine has the
 * same parameters (the seeds and data are the task's; one thread per executor is bit-identical).
 *
 * @param index      m, the specialist's number
 * @param subset     S_m, the classes it covers
 * @param generalist the generalist's saved model
 * @param data       the run's data
 * @param training   the specialist's schedule
 * @param cfg        the specialist config (subset share, dustbin correction)
 * @param seed       master seed of the specialists ({@code seeds.derive("specialists")})
 * @param outputDir  the driver's directory for its model and done record (checkpoints there too when
 *                   the executor sees it)
 * @param checkpointSeconds training seconds between its checkpoints ({@code engine.checkpointSeconds};
 *                   0: every epoch)
 */
public record SpecialistTask(int index, int[] subset, Shipped.Model generalist, Shipped.Data data, Schedule training,
                             SpecialistConfig cfg, long seed, String outputDir, int checkpointSeconds)
        implements Task<SpecialistTask.Output> {
    private static final Logger LOG = LoggerFactory.getLogger(SpecialistTask.class);

    /**
     * The generalist's top class on each validation image, per (generalist, data) pair, once per JVM:
     * every specialist task of a run needs the same array (which validation examples §5.4 routes to
     * it), and computing it per task was half of a small specialist's time at 3,755 classes.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, int[]> VALIDATION_TOP =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Progress of in-process tasks goes to the driver's listener; on an executor, to the log. */
    private static volatile Trainer.Listener listener;

    /**
     * What a task sends back: its figures and its model's bytes ({@code .zip} as
     * {@link Classifier#saveForInference} writes it: no optimiser state), and how long it took to receive its inputs.
     *
     * @param inputSeconds time on the executor to get and decode the data and load the generalist
     */
    public record Output(Done done, byte[] model, double inputSeconds) implements Serializable {
    }

    /** A specialist's figures, as its done record keeps them. */
    public record Done(int index, String sha256, double dustbinShift, double subsetPrior, double subsetShare,
                       int trainExamples, int bestEpoch, int bestValidationErrors, int epochsRun, double trainSeconds,
                       String executor, List<Trainer.EpochReport> history, SpecialistConfig.Head head,
                       double fittedShift) implements Serializable {

        SortedMap<String, String> toProperties() {
            SortedMap<String, String> p = new TreeMap<>();
            p.put("sha256", sha256);
            p.put("dustbin_shift", Double.toString(dustbinShift));
            p.put("subset_prior", Double.toString(subsetPrior));
            p.put("subset_share", Double.toString(subsetShare));
            p.put("train_examples", Integer.toString(trainExamples));
            p.put("best_epoch", Integer.toString(bestEpoch));
            p.put("best_validation_errors", Integer.toString(bestValidationErrors));
            p.put("epochs_run", Integer.toString(epochsRun));
            p.put("train_seconds", Double.toString(trainSeconds));
            p.put("executor", executor);
            p.put("head", head.name().toLowerCase(java.util.Locale.ROOT));
            p.put("fitted_shift", Double.toString(fittedShift));
            Trainer.EpochReport.putHistory(p, history);
            return p;
        }

        static Done of(int index, SortedMap<String, String> p) {
            return new Done(index, p.get("sha256"), Double.parseDouble(p.get("dustbin_shift")),
                    Double.parseDouble(p.get("subset_prior")), Double.parseDouble(p.get("subset_share")),
                    Integer.parseInt(p.get("train_examples")), Integer.parseInt(p.get("best_epoch")),
                    Integer.parseInt(p.get("best_validation_errors")), Integer.parseInt(p.get("epochs_run")),
                    Double.parseDouble(p.get("train_seconds")), p.get("executor"), Trainer.EpochReport.history(p::get),
                    // Records written before §6.1 and the fitted correction: a dustbin head, no fitted shift.
                    SpecialistConfig.Head.valueOf(p.getOrDefault("head", "dustbin").toUpperCase(java.util.Locale.ROOT)),
                    Double.parseDouble(p.getOrDefault("fitted_shift", "NaN")));
        }

        /** The trained specialist, loaded from {@code dir} and checked against its recorded hash. */
        Specialists.Trained load(Path dir, int[] subset) {
            Path file = dir.resolve(name(index) + ".zip");
            Classifier model = Classifier.loadForInference(file);  // used for predictions only
            if (!model.fingerprint().equals(sha256)) {
                throw new IllegalStateException(file + ": expected parameters with SHA-256 " + sha256 + ", found "
                        + model.fingerprint());
            }
            return new Specialists.Trained(index, new Specialist(subset, model, dustbinShift, head),
                    new Trainer.Outcome(bestEpoch, bestValidationErrors, epochsRun, trainSeconds, List.of()),
                    subsetPrior, subsetShare, trainExamples, fittedShift);
        }
    }

    /** {@code specialist<m>}: the model's file stem and checkpoint name. */
    public static String name(int m) {
        return "specialist" + m;
    }

    /** The done record of specialist {@code m} in {@code dir}, if it finished. */
    static Path doneFile(Path dir, int m) {
        return dir.resolve(name(m) + ".done.properties");
    }

    /**
     * This specialist's done record in {@code outputDir} if it finished for this very task (the same
     * subset and generalist), else null: a record left by another partition or generalist is not
     * reused, and is replaced when the task runs.
     */
    public Done finished() {
        Path done = doneFile(Path.of(outputDir), index);
        if (!Files.isRegularFile(done)) {
            return null;
        }
        SortedMap<String, String> p = RunRecord.readProperties(done);
        boolean same = java.util.Arrays.toString(subset).equals(p.get("subset"))
                && generalist.sha256().equals(p.get("generalist_sha256"))
                && cfg.head().name().toLowerCase(java.util.Locale.ROOT).equals(p.getOrDefault("head", "dustbin"));
        return same ? Done.of(index, p) : null;
    }

    static Trainer.Listener inProcessListener() {
        return listener;
    }

    static void listenInProcess(Trainer.Listener l) {
        listener = l;
    }

    @Override
    public String label() {
        return name(index) + " (" + subset.length + " classes)";
    }

    @Override
    public Output run(TaskContext ctx) {
        long t0 = System.nanoTime();
        Classifier g = generalist.load(ctx);
        RunData s = data.get(ctx);
        double inputSeconds = (System.nanoTime() - t0) / 1e9;
        Trainer.Listener l = listener != null ? listener : logging();
        Path out = Path.of(outputDir);
        // Checkpoints where a rerun elsewhere finds them (the run directory, if this executor sees it),
        // else in this executor's scratch space.
        Path checkpoints = ctx.seesRunDir() && Files.isDirectory(out) && Files.isWritable(out)
                ? out.resolve("checkpoints") : ctx.scratchDir().resolve("checkpoints");
        Specialists.Trained t = Specialists.trainOne(index, g, training, subset, cfg, g.numClasses(), s.trainX(),
                s.train().labels(), s.validationX(), s.validation().labels(), s.train().imageWidth(),
                s.train().imageHeight(), new Seeds(seed), l, new Checkpoints(checkpoints, checkpointSeconds),
                s.fresh() == null ? null : s::freshInputs, validationTop(g, s));
        Classifier model = t.specialist().model();
        Done result = new Done(index, model.fingerprint(), t.specialist().dustbinShift(), t.subsetPrior(),
                t.subsetShare(), t.trainExamples(), t.outcome().bestEpoch(), t.outcome().bestValidationErrors(),
                t.outcome().epochsRun(), t.outcome().trainSeconds(), ctx.executorId() + "@" + ctx.host(),
                t.outcome().history(), cfg.head(), t.fittedShift());
        byte[] bytes = Shipped.bytes(model, ctx.scratchDir(), name(index));
        new Checkpoints(checkpoints).clear(name(index));
        return new Output(result, bytes, inputSeconds);
    }

    /** Empties {@link #VALIDATION_TOP}: after a stage, and between the bench's runs (each pays for its own). */
    public static void forgetValidationPredictions() {
        VALIDATION_TOP.clear();
    }

    /** {@link #VALIDATION_TOP}'s entry for this task's generalist and data, computed by the first task to ask. */
    private int[] validationTop(Classifier g, RunData s) {
        if (!s.hasValidation()) {
            return null;
        }
        return VALIDATION_TOP.computeIfAbsent(generalist.sha256() + "/" + data.key(), k -> g.predict(s.validationX()));
    }

    /**
     * On the driver, as {@code o} arrives: writes the model into {@code outputDir}, then, last, its
     * done record (whose presence says the model beside it is complete), each atomically; removes
     * checkpoints an earlier attempt left there. Returns the figures.
     */
    public Done save(Output o) {
        Path out = Path.of(outputDir);
        Path zip = out.resolve(name(index) + ".zip");
        AtomicFiles.write(zip, w -> w.write(o.model()));
        SortedMap<String, String> record = o.done().toProperties();
        record.put("subset", java.util.Arrays.toString(subset));
        record.put("generalist_sha256", generalist.sha256());
        AtomicFiles.writeString(doneFile(out, index), Configs.toText(record));
        new Checkpoints(out.resolve("checkpoints")).clear(name(index));
        return o.done();
    }

    private static Trainer.Listener logging() {
        return r -> LOG.info("{} epoch {}/{}: loss {}, validation errors {}", r.model(), r.epoch() + 1, r.epochs(),
                String.format(Locale.ROOT, "%.4f", r.loss()), r.validationErrors());
    }
}
