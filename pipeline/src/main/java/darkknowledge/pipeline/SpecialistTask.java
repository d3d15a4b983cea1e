package darkknowledge.pipeline;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskInputException;
import darkknowledge.data.DataStore;
import darkknowledge.data.GlyphsConfig;
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
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One specialist of §5.2 as an engine task: "the specialists can be trained completely
 * independently" (Hinton et al. 2015, §5). A small serialisable record saying what to do and where
 * its inputs are — the generalist's saved model (checked against its SHA-256), the recipe that
 * rebuilds the run's data on any machine that sees the data directory (checked against the
 * training set's SHA-256), the subset, the schedule and the seeds — never a captured object graph.
 *
 * <p>Its outputs go to {@code outputDir} on storage every executor sees: the model
 * {@code specialist<m>.zip}, then, last and atomically, {@code specialist<m>.done.properties}. A
 * task whose done record exists returns it without training (a retried task whose first attempt
 * finished, or a resumed run); a task killed mid-training leaves no done record, and its retry
 * resumes from {@code checkpoints/}. The same specialist trained by any engine has the same
 * parameters (the seeds and data are the task's; one thread per executor is bit-identical).
 *
 * @param index            m, the specialist's number
 * @param subset           S_m, the classes it covers
 * @param generalist       path of the generalist's saved model
 * @param generalistSha256 the generalist's parameter hash
 * @param data             how to rebuild the run's data
 * @param training         the specialist's schedule
 * @param cfg              the specialist config (subset share, dustbin correction)
 * @param seed             master seed of the specialists ({@code seeds.derive("specialists")})
 * @param outputDir        where its model and done record go
 */
public record SpecialistTask(int index, int[] subset, String generalist, String generalistSha256, Recipe data,
                             Schedule training, SpecialistConfig cfg, long seed, String outputDir)
        implements Task<SpecialistTask.Done> {
    private static final Logger LOG = LoggerFactory.getLogger(SpecialistTask.class);

    /** Data already built in this JVM, by recipe: the driver's own (in-process engine) or a previous task's. */
    private static final Map<Recipe, RunData> DATA = new ConcurrentHashMap<>();

    /** The run's data for {@code recipe}: the driver's, one built before in this JVM, or built now. */
    static RunData data(Recipe recipe, TaskContext ctx) {
        return DATA.computeIfAbsent(recipe, r -> r.build(ctx));
    }

    /** Progress of in-process tasks goes to the driver's listener; on an executor, to the log. */
    private static volatile Trainer.Listener listener;

    /**
     * The run's data, rebuilt the same way on any machine: a specialist dataset, or (null) the
     * dataset {@code data.source} names.
     *
     * @param dataDir       the data cache every executor sees at this path
     * @param trainSha256   the training split's SHA-256, checked on the executor
     */
    public record Recipe(SpecialistDataset dataset, DataConfig data, Synthetic synthetic, GlyphsConfig glyphs,
                         long runSeed, String dataDir, String trainSha256) implements Serializable {
        RunData build(TaskContext ctx) {
            Path dir = ctx.input(Path.of(dataDir));
            RunData s = dataset == null
                    ? RunData.load(new DataStore(dir), Provenance.empty(), ctx.scratchDir(), data)
                    : dataset.load(data, synthetic, glyphs, new DataStore(dir), new Seeds(runSeed), Provenance.empty(),
                    ctx.scratchDir()).data();
            if (!s.train().sha256().equals(trainSha256)) {
                throw new TaskInputException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on " + ctx.where()
                        + ": the training set rebuilt from " + dir.toAbsolutePath() + " has SHA-256 "
                        + s.train().sha256() + ", the driver's has " + trainSha256
                        + " (another version of the data files on this machine?)");
            }
            return s;
        }
    }

    /** What the driver collects: small figures, the model stays on shared storage. */
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
            Classifier model = Classifier.load(file);
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

    /** Lets in-process tasks build on the driver's data instead of loading it again. */
    static void share(Recipe recipe, RunData data) {
        DATA.put(recipe, data);
    }

    /** Drops the driver's data once its stage is over (a long-lived JVM runs many experiments). */
    public static void forget(Recipe recipe) {
        DATA.remove(recipe);
    }

    /**
     * This specialist's done record in {@code outputDir} if it finished for this very task (the same
     * subset and generalist), else null: a record left by another partition or generalist is not
     * reused, and is replaced when the task runs.
     */
    Done finished() {
        Path done = doneFile(Path.of(outputDir), index);
        if (!Files.isRegularFile(done)) {
            return null;
        }
        SortedMap<String, String> p = RunRecord.readProperties(done);
        boolean same = java.util.Arrays.toString(subset).equals(p.get("subset"))
                && generalistSha256.equals(p.get("generalist_sha256"))
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
    public Done run(TaskContext ctx) {
        Path out = ctx.input(Path.of(outputDir));
        Path done = doneFile(out, index);
        Done before = finished();
        if (before != null) {
            return before;
        }
        Path genFile = ctx.input(Path.of(generalist));
        Classifier g = Classifier.load(genFile);
        if (!g.fingerprint().equals(generalistSha256)) {
            throw new TaskInputException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on " + ctx.where()
                    + ": the generalist " + genFile + " has SHA-256 " + g.fingerprint() + ", expected "
                    + generalistSha256);
        }
        RunData s = data(data, ctx);
        Trainer.Listener l = listener != null ? listener : logging();
        Specialists.Trained t = Specialists.trainOne(index, g, training, subset, cfg, g.numClasses(), s.trainX(),
                s.train().labels(), s.validationX(), s.validation().labels(), s.train().imageWidth(),
                s.train().imageHeight(), new Seeds(seed), l, new Checkpoints(out.resolve("checkpoints")),
                s.fresh() == null ? null : s::freshInputs);
        Classifier model = t.specialist().model();
        model.save(out.resolve(name(index) + ".zip"));
        Done result = new Done(index, model.fingerprint(), t.specialist().dustbinShift(), t.subsetPrior(),
                t.subsetShare(), t.trainExamples(), t.outcome().bestEpoch(), t.outcome().bestValidationErrors(),
                t.outcome().epochsRun(), t.outcome().trainSeconds(), ctx.executorId() + "@" + ctx.host(),
                t.outcome().history(), cfg.head(), t.fittedShift());
        // Written last: its presence says the model beside it is complete.
        SortedMap<String, String> record = result.toProperties();
        record.put("subset", java.util.Arrays.toString(subset));
        record.put("generalist_sha256", generalistSha256);
        AtomicFiles.writeString(done, Configs.toText(record));
        new Checkpoints(out.resolve("checkpoints")).clear(name(index));
        return result;
    }

    private static Trainer.Listener logging() {
        return r -> LOG.info("{} epoch {}/{}: loss {}, validation errors {}", r.model(), r.epoch() + 1, r.epochs(),
                String.format(Locale.ROOT, "%.4f", r.loss()), r.validationErrors());
    }
}
