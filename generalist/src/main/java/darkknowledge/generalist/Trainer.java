package darkknowledge.generalist;

import darkknowledge.kernels.FusedStep;
import darkknowledge.kernels.Subnormals;
import darkknowledge.data.Jitter;
import darkknowledge.data.Minibatches;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Minibatch training with a per-epoch learning-rate decay, reductions of it when validation stops
 * improving ({@link Plateau}, if the schedule asks), and early stopping on the validation split: the parameters of the epoch with the fewest validation errors are restored at the end.
 * Without a validation split ({@code validation = null}, the paper's protocol) there is no early
 * stopping and no selection: the net is its last epoch's, and the reports carry -1 validation errors
 * of 0 examples.
 * Minibatches are gathered over a seeded permutation per epoch, so a run is reproducible from its
 * seed (with {@code OMP_NUM_THREADS=1}).
 */
public final class Trainer {
    private Trainer() {
    }

    /**
     * What the net learns from: inputs and the matching rows of the targets (one-hot labels, or
     * wider rows such as {@code [soft targets | one-hot]} for a distillation loss). Image size is
     * used only by input jitter. {@code relabel} (null = none) rewrites each minibatch's targets
     * from its features as the net is about to see them, after jitter. {@code fresh} (null = none)
     * replaces {@code features} with inputs drawn anew for each epoch (online augmentation).
     */
    public record TrainingData(INDArray features, INDArray targets, int imageWidth, int imageHeight,
                               Relabel relabel, EpochInputs fresh) {
        public TrainingData(INDArray features, INDArray targets, int imageWidth, int imageHeight) {
            this(features, targets, imageWidth, imageHeight, null, null);
        }

        public TrainingData(INDArray features, INDArray targets, int imageWidth, int imageHeight, Relabel relabel) {
            this(features, targets, imageWidth, imageHeight, relabel, null);
        }

        /** The same data with inputs drawn anew each epoch by {@code inputs} (null: the fixed features). */
        public TrainingData withFresh(EpochInputs inputs) {
            return new TrainingData(features, targets, imageWidth, imageHeight, relabel, inputs);
        }
    }

    /**
     * Inputs drawn anew for each epoch (online augmentation): epoch {@code e}'s features of the same
     * rows, in the same order as {@link TrainingData#features()}, a function of {@code (seed, e)} alone
     * ({@code seed} is the training's own), so that a run is reproducible and a resumed training sees
     * the very images an uninterrupted one would have.
     */
    @FunctionalInterface
    public interface EpochInputs {
        INDArray features(int epoch, long seed);
    }

    /**
     * Targets that depend on the very inputs of a minibatch: a teacher labelling the jittered images
     * a student is fed, where targets computed once on the un-jittered images would belong to
     * other inputs (Beyer et al. 2022, "consistent teaching"). Called once per minibatch, after
     * augmentation and before the update, with the batch's own copies of features and targets:
     * writing into {@code targets} leaves the dataset untouched.
     */
    @FunctionalInterface
    public interface Relabel {
        void apply(INDArray features, INDArray targets);
    }

    /** The split used to pick the best epoch; never the test set. */
    public record Validation(INDArray features, int[] labels) {
    }

    /** One finished epoch. */
    public record EpochReport(String model, int epoch, int epochs, double loss, int validationErrors,
                              int validationExamples, double learningRate, double seconds, double examplesPerSecond,
                              double etaSeconds) implements java.io.Serializable {

        /** One line of text ({@link #parse} reads it back): how checkpoints and done records keep the history. */
        public String toText() {
            return String.join(",", model, Integer.toString(epoch), Integer.toString(epochs), Double.toString(loss),
                    Integer.toString(validationErrors), Integer.toString(validationExamples),
                    Double.toString(learningRate), Double.toString(seconds), Double.toString(examplesPerSecond),
                    Double.toString(etaSeconds));
        }

        public static EpochReport parse(String text) {
            String[] f = text.split(",");
            if (f.length != 10) {
                throw new IllegalArgumentException("an epoch report has 10 comma-separated fields, found " + f.length
                        + ": " + text);
            }
            return new EpochReport(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), Double.parseDouble(f[3]),
                    Integer.parseInt(f[4]), Integer.parseInt(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                    Double.parseDouble(f[8]), Double.parseDouble(f[9]));
        }

        /** {@code history.<i>} entries of a properties map, in order. */
        public static void putHistory(java.util.Map<String, String> p, List<EpochReport> history) {
            for (int i = 0; i < history.size(); i++) {
                p.put("history." + i, history.get(i).toText());
            }
        }

        /** The validation errors of the epochs in {@code history}, in order (what a {@link Plateau} reads). */
        public static int[] validationErrors(List<EpochReport> history) {
            return history.stream().mapToInt(EpochReport::validationErrors).toArray();
        }

        /** The history {@link #putHistory} wrote (empty if none). */
        public static List<EpochReport> history(java.util.function.Function<String, String> p) {
            List<EpochReport> out = new ArrayList<>();
            for (int i = 0; p.apply("history." + i) != null; i++) {
                out.add(parse(p.apply("history." + i)));
            }
            return List.copyOf(out);
        }
    }

    /** Observes training; called on the training thread. */
    public interface Listener {
        default void onBatch(String model, int epoch, int batch, int batches) {
        }

        void onEpoch(EpochReport report);

        /**
         * An epoch restored from a checkpoint rather than trained now. A run killed after its
         * checkpoint was saved but before {@link #onEpoch} returned would otherwise never report it.
         */
        default void onRestoredEpoch(EpochReport report) {
        }
    }

    /** How training went. */
    public record Outcome(int bestEpoch, int bestValidationErrors, int epochsRun, double trainSeconds,
                          List<EpochReport> history) {
    }

    public static Outcome fit(String name, Classifier model, TrainingData data, Validation validation,
                              TrainingSchedule cfg, long seed, Listener listener) {
        return fit(name, model, data, validation, cfg, seed, listener, null);
    }

    /**
     * Trains {@code model}, checkpointing into {@code checkpoints} (null = none) after every epoch, or
     * once its interval has passed ({@link Checkpoints#Checkpoints(java.nio.file.Path, double)}), and
     * first resuming from the checkpoint found there, if any. Epoch e's minibatch order, jitter and
     * dropout masks are seeded by (seed, e) alone, so a resumed training is identical to an
     * uninterrupted one.
     */
    public static Outcome fit(String name, Classifier model, TrainingData data, Validation validation,
                              TrainingSchedule cfg, long seed, Listener listener, Checkpoints checkpoints) {
        if (validation == null && cfg.patience() > 0) {
            throw new IllegalArgumentException(name + ": patience " + cfg.patience()
                    + " (early stopping) needs a validation split; got none");
        }
        if (validation == null && cfg.plateau().on()) {
            throw new IllegalArgumentException(name + ": plateau.epochs " + cfg.plateau().epochs()
                    + " (learning-rate reductions when validation stops improving) needs a validation split; got none");
        }
        MultiLayerNetwork net = model.network();
        Minibatches batches = batches(data, data.features(), cfg, seed);
        List<EpochReport> history = new ArrayList<>();
        INDArray best = null;
        int bestEpoch = -1;
        int bestErrors = Integer.MAX_VALUE;
        double totalSeconds = 0;
        long n = data.features().rows();
        int start = 0;
        if (checkpoints != null) {
            var restored = checkpoints.restore(name, net);
            if (restored.isPresent()) {
                Checkpoints.State st = restored.get();
                start = st.epochsDone();
                best = st.best();
                bestEpoch = st.bestEpoch();
                bestErrors = st.bestErrors();
                totalSeconds = st.trainSeconds();
                history.addAll(st.history());
                st.history().forEach(listener::onRestoredEpoch);
            }
        }
        // Adam's pass also divides by the minibatch and subtracts the update where the net allows it
        // (FusedStep): the same parameters bit for bit, two passes over them fewer per step.
        FusedStep.install(net);
        double sinceCheckpoint = 0;
        darkknowledge.core.Seeds seeds = new darkknowledge.core.Seeds(seed);
        boolean stopped = start > 0 && cfg.patience() > 0 && start - 1 - bestEpoch >= cfg.patience();
        for (int epoch = start; epoch < cfg.epochs() && !stopped; epoch++) {
            double lr = cfg.learningRateAt(epoch, EpochReport.validationErrors(history));
            net.setLearningRate(lr);
            org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(seeds.derive("dropout", epoch));
            long t0 = System.nanoTime();
            if (data.fresh() != null) {  // the epoch's own images; its batch order is the same function of (seed, epoch)
                INDArray x = data.fresh().features(epoch, seed);
                if (x.rows() != n || x.columns() != data.features().columns()) {
                    throw new IllegalStateException(name + ": epoch " + epoch + "'s fresh inputs are " + x.rows() + "x"
                            + x.columns() + ", expected " + n + "x" + data.features().columns());
                }
                batches = batches(data, x, cfg, seed);
            }
            batches.startEpoch(epoch);
            double lossSum = 0;
            long seen = 0;
            int batchIndex = 0;
            int total = batches.batchesPerEpoch();
            while (batches.hasNext()) {
                Minibatches.Batch b = batches.next();
                if (data.relabel() != null) {
                    data.relabel().apply(b.features(), b.targets());
                }
                net.fit(b.features(), b.targets());
                Subnormals.guard(net);
                double loss = net.score();
                if (!Double.isFinite(loss)) {
                    if (best != null) {
                        net.setParams(best);
                    }
                    throw new TrainingDivergedException(name, epoch, batchIndex, loss);
                }
                lossSum += loss * b.rows().length;
                seen += b.rows().length;
                listener.onBatch(name, epoch, batchIndex++, total);
            }
            net.incrementEpochCount();
            double seconds = (System.nanoTime() - t0) / 1e9;
            totalSeconds += seconds;
            int errors = validation == null ? -1 : model.errors(validation.features(), validation.labels());
            int valN = validation == null ? 0 : validation.labels().length;
            boolean improved = validation != null && errors < bestErrors;
            if (improved || validation == null) {
                best = net.params().dup();
                bestEpoch = epoch;
                bestErrors = errors;
            }
            double eta = totalSeconds / (epoch + 1) * (cfg.epochs() - epoch - 1);
            EpochReport report = new EpochReport(name, epoch, cfg.epochs(), lossSum / seen, errors, valN, lr, seconds,
                    n / seconds, eta);
            history.add(report);
            sinceCheckpoint += seconds;
            if (checkpoints != null && checkpoints.due(sinceCheckpoint)) {
                checkpoints.save(name, net, new Checkpoints.State(epoch + 1, bestEpoch, bestErrors, totalSeconds,
                        List.copyOf(history), best));
                sinceCheckpoint = 0;
            }
            listener.onEpoch(report);
            stopped = cfg.patience() > 0 && epoch - bestEpoch >= cfg.patience();
        }
        net.setParams(best);
        return new Outcome(bestEpoch, bestErrors, history.size(), totalSeconds, List.copyOf(history));
    }

    /** Minibatches over {@code features} and {@code data}'s targets, jittered if {@code cfg} says so. */
    private static Minibatches batches(TrainingData data, INDArray features, TrainingSchedule cfg, long seed) {
        Minibatches batches = new Minibatches(features, data.targets(), cfg.batchSize(), seed);
        return cfg.jitter() > 0 ? batches.withAugmentation(new Jitter(data.imageWidth(), data.imageHeight(),
                cfg.jitter())) : batches;
    }
}
