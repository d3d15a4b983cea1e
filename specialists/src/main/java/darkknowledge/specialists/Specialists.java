package darkknowledge.specialists;

import darkknowledge.core.Seeds;
import darkknowledge.distill.DistillationLoss;
import darkknowledge.distill.TemperatureSoftmax;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.Schedule;
import darkknowledge.generalist.TrainingSchedule;
import darkknowledge.generalist.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Trains the specialists of a class partition (§5.2), independently and in parallel.
 *
 * <p>Specialist m's training set: every example whose label is in {@code S_m} (or a sample of them
 * when there are more than needed) making up a fraction {@code subsetShare} of its data, the rest
 * drawn uniformly without replacement from the other classes' examples; labels map to subset
 * indices 0..|S_m|−1 or the dustbin |S_m|. Its validation set is built the same way from the
 * validation split, so early stopping sees the distribution it trains on. After training the dustbin
 * logit is corrected ({@link DustbinCorrection}) with π = the subset's share of the training split.
 * With §6.1's full head the same examples are used, with the targets of {@link #fullHeadTargets}.
 */
public final class Specialists {
    private Specialists() {
    }

    /** The data a specialist is trained or validated on. */
    public record Task(int[] rows, int[] labels) {
    }

    /**
     * A trained specialist and its training record.
     *
     * @param subsetPrior  π, the subset's share of the training split
     * @param subsetShare  the subset's actual share of this specialist's training examples
     * @param fittedShift  the dustbin shift fitted on the validation split ({@link #fitDustbinShift})
     */
    public record Trained(int index, Specialist specialist, Trainer.Outcome outcome, double subsetPrior,
                          double subsetShare, int trainExamples, double fittedShift) {
        /** The dustbin shift {@code correction} prescribes for this specialist. */
        public double shift(DustbinCorrection correction) {
            return correction.dustbinShift(subsetPrior, subsetShare, fittedShift);
        }
    }

    /** Bounds of a fitted dustbin shift: a validation split with no dustbin (or no subset) example. */
    static final double MAX_FITTED_SHIFT = 30;

    /**
     * {@link DustbinCorrection#FITTED}: the shift {@code δ} of the dustbin logit that maximises the
     * posterior of the grouped validation labels (subset class or dustbin) under the specialist's
     * folded distribution, with a standard normal prior on {@code δ} (no correction unless the data
     * ask for one: a specialist sees only the few validation examples routed to it). With {@code d_i}
     * the dustbin probability of example i before the shift, the shifted one is
     * {@code σ(logit(d_i) + δ)}, and the log-posterior
     * {@code Σ_{i∈dustbin} (log d_i + δ) + Σ_{i∈subset} log p_{i,y_i} − Σ_i log(1 − d_i + d_i e^δ) − δ²/2}
     * is concave in δ with derivative {@code n_dustbin − Σ_i σ(logit(d_i) + δ) − δ}: at the optimum
     * the mean predicted dustbin mass nearly equals the dustbin's share of the examples. Found by
     * bisection on that decreasing function, within ±{@value #MAX_FITTED_SHIFT}.
     *
     * @param dustbin   {@code d_i}, each example's dustbin probability before the shift
     * @param isDustbin whether example i's true class is outside the subset
     */
    public static double fitDustbinShift(double[] dustbin, boolean[] isDustbin) {
        return fitDustbinShift(dustbin, isDustbin, 1);
    }

    /** {@link #fitDustbinShift(double[], boolean[])} with a normal prior of precision {@code priorPrecision} (0: none). */
    static double fitDustbinShift(double[] dustbin, boolean[] isDustbin, double priorPrecision) {
        if (dustbin.length != isDustbin.length) {
            throw new IllegalArgumentException("fitting a dustbin shift needs one label per probability, got "
                    + dustbin.length + " probabilities and " + isDustbin.length + " labels");
        }
        int n = 0;
        double[] logit = new double[dustbin.length];
        for (int i = 0; i < dustbin.length; i++) {
            n += isDustbin[i] ? 1 : 0;
            double d = Math.min(1 - 1e-15, Math.max(1e-300, dustbin[i]));
            logit[i] = Math.log(d) - Math.log1p(-d);
        }
        double lo = -MAX_FITTED_SHIFT;
        double hi = MAX_FITTED_SHIFT;
        for (int it = 0; it < 100 && hi - lo > 1e-9; it++) {
            double mid = 0.5 * (lo + hi);
            double mass = 0;
            for (double l : logit) {
                mass += 1 / (1 + Math.exp(-(l + mid)));
            }
            if (mass + priorPrecision * mid < n) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return 0.5 * (lo + hi);
    }

    /** Label of each class for a specialist of {@code subset}: its index in the subset, or the dustbin |S|. */
    public static int[] labelMap(int numClasses, int[] subset) {
        int[] m = new int[numClasses];
        Arrays.fill(m, subset.length);
        for (int i = 0; i < subset.length; i++) {
            m[subset[i]] = i;
        }
        return m;
    }

    /**
     * All examples of the subset plus {@code (1 − share)/share} times as many drawn from the rest
     * (fewer if the rest is smaller, in which case subset examples are subsampled to keep the share).
     */
    public static Task task(int[] labels, int numClasses, int[] subset, double share, long seed) {
        int[] map = labelMap(numClasses, subset);
        int dustbin = subset.length;
        int[] in = java.util.stream.IntStream.range(0, labels.length).filter(i -> map[labels[i]] != dustbin).toArray();
        int[] out = java.util.stream.IntStream.range(0, labels.length).filter(i -> map[labels[i]] == dustbin).toArray();
        int nIn = in.length;
        int nOut = (int) Math.round(nIn * (1 - share) / share);
        if (nOut > out.length) {
            nOut = out.length;
            nIn = (int) Math.round(nOut * share / (1 - share));
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] rows = new int[nIn + nOut];
        int[] pickIn = darkknowledge.data.Sampling.permutation(in.length, r.nextLong());
        int[] pickOut = darkknowledge.data.Sampling.permutation(out.length, r.nextLong());
        for (int i = 0; i < nIn; i++) {
            rows[i] = in[pickIn[i]];
        }
        for (int i = 0; i < nOut; i++) {
            rows[nIn + i] = out[pickOut[i]];
        }
        Arrays.sort(rows);
        int[] mapped = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            mapped[i] = map[labels[rows[i]]];
        }
        return new Task(rows, mapped);
    }

    /**
     * Trains one specialist per subset with {@code workers} threads; specialist m uses the seed
     * {@code seeds.derive("specialist", m)} and the generalist's architecture and regularisation with
     * {@code cfg}'s training settings.
     */
    public static List<Trained> trainAll(Classifier generalist, TrainingSchedule generalistCfg, List<int[]> subsets,
                                         SpecialistConfig cfg, INDArray trainX, int[] trainLabels, INDArray valX,
                                         int[] valLabels, int imageWidth, int imageHeight, Seeds seeds,
                                         Trainer.Listener listener) {
        return trainAll(generalist, generalistCfg, subsets, cfg, trainX, trainLabels, valX, valLabels, imageWidth,
                imageHeight, seeds, listener, null);
    }

    /**
     * As above, each specialist checkpointed every epoch into {@code checkpoints} (null = none) as
     * {@code specialist<m>}: after a kill, finished specialists come back from their last checkpoint
     * without training and the interrupted ones continue.
     */
    public static List<Trained> trainAll(Classifier generalist, TrainingSchedule generalistCfg, List<int[]> subsets,
                                         SpecialistConfig cfg, INDArray trainX, int[] trainLabels, INDArray valX,
                                         int[] valLabels, int imageWidth, int imageHeight, Seeds seeds,
                                         Trainer.Listener listener, darkknowledge.generalist.Checkpoints checkpoints) {
        int k = generalist.numClasses();
        Schedule training = schedule(generalistCfg, cfg);
        Trainer.Listener shared = synchronizedListener(listener);
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(cfg.workers(), Math.max(1, subsets.size())));
        try {
            List<Future<Trained>> futures = new ArrayList<>();
            for (int m = 0; m < subsets.size(); m++) {
                int index = m;
                futures.add(pool.submit(() -> trainOne(index, generalist, training, subsets.get(index), cfg, k, trainX,
                        trainLabels, valX, valLabels, imageWidth, imageHeight, seeds, shared, checkpoints, null,
                        null)));
            }
            List<Trained> out = new ArrayList<>();
            for (Future<Trained> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while training specialists", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("specialist training failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A specialist's training: the generalist's minibatch size and jitter, the specialist config's
     * epochs, patience and learning rate (its architecture and regularisation are the generalist's own).
     */
    public static Schedule schedule(TrainingSchedule generalistCfg, SpecialistConfig cfg) {
        return new Schedule(cfg.epochs(), generalistCfg.batchSize(), generalistCfg.jitter(), cfg.patience(),
                cfg.learningRate(), cfg.learningRateDecay());
    }

    /**
     * Trains specialist {@code m} of {@code subset} from {@code generalist}: its data drawn with the
     * seeds {@code seeds.derive("specialist-data", m)} (and {@code -validation}), its weights with
     * {@code seeds.derive("specialist", m)}; the unit of work an engine runs for one specialist.
     * {@code fresh} (null = none) gives the epoch inputs of rows of {@code trainX} drawn anew each
     * epoch (online augmentation); a §6.1 specialist's soft targets then come from the generalist on
     * each minibatch as it is fed, not once on fixed images. {@code generalistValTop} is the
     * generalist's top class on each row of {@code valX} (null: computed here), which every
     * specialist of a run shares: at 3,755 classes and 10,000 validation images it cost half of a
     * small specialist's time when each computed its own.
     */
    public static Trained trainOne(int m, Classifier generalist, TrainingSchedule training, int[] subset, SpecialistConfig cfg, int k,
                            INDArray trainX, int[] trainLabels, INDArray valX, int[] valLabels, int imageWidth,
                            int imageHeight, Seeds seeds, Trainer.Listener listener,
                            darkknowledge.generalist.Checkpoints checkpoints,
                            Function<int[], Trainer.EpochInputs> fresh, int[] generalistValTop) {
        if (generalistValTop != null && generalistValTop.length != valLabels.length) {
            throw new IllegalArgumentException("specialist" + m + ": the generalist's validation predictions have "
                    + generalistValTop.length + " rows, the validation split " + valLabels.length);
        }
        long seed = seeds.derive("specialist", m);
        Task t = task(trainLabels, k, subset, cfg.subsetShare(), seeds.derive("specialist-data", m));
        Task v = task(valLabels, k, subset, cfg.subsetShare(), seeds.derive("specialist-validation", m));
        INDArray x = trainX.getRows(t.rows());
        INDArray valRows = valX.getRows(v.rows());
        String name = "specialist" + m;
        Specialist s;
        INDArray y;
        Trainer.Validation validation;
        if (cfg.head() == SpecialistConfig.Head.FULL) {
            s = Specialist.initialiseFull(generalist, subset,
                    new DistillationLoss(cfg.softTemperature(), cfg.hardWeight()));
            y = fullHeadTargets(generalist, x, labelsOf(trainLabels, t.rows()), subset, cfg.softTemperature());
            validation = new Trainer.Validation(valRows, labelsOf(valLabels, v.rows()));
        } else {
            s = Specialist.initialise(generalist, subset, seed);
            y = oneHot(t.labels(), subset.length + 1);
            validation = new Trainer.Validation(valRows, v.labels());
        }
        Trainer.Relabel relabel = null;
        if (fresh != null && cfg.head() == SpecialistConfig.Head.FULL) {
            // [soft | hard]: a row whose hard half is empty (not a special class) takes the generalist's
            // soft targets on the very image it is fed.
            relabel = (features, targets) -> {
                INDArray soft = TemperatureSoftmax.soften(generalist.logits(features), cfg.softTemperature())
                        .castTo(targets.dataType());
                INDArray hard = targets.get(NDArrayIndex.all(), NDArrayIndex.interval(k, 2 * k));
                INDArray notSpecial = hard.sum(true, 1).rsubi(1);
                targets.get(NDArrayIndex.all(), NDArrayIndex.interval(0, k)).assign(soft.muliColumnVector(notSpecial));
            };
        }
        Trainer.TrainingData data = new Trainer.TrainingData(x, y, imageWidth, imageHeight, relabel,
                fresh == null ? null : fresh.apply(t.rows()));
        Trainer.Outcome o = Trainer.fit(name, s.model(), data, validation, training, seed, listener, checkpoints);
        int[] map = labelMap(k, subset);
        long inSubset = Arrays.stream(trainLabels).filter(c -> map[c] != subset.length).count();
        double prior = (double) inSubset / trainLabels.length;
        double share = (double) (t.rows().length - count(t.labels(), subset.length)) / t.rows().length;
        // The fitted correction sees the validation examples §5.4 routes to this specialist: those whose
        // top class under the generalist is in its subset (the paper's n = 1).
        int[] top = generalistValTop != null ? generalistValTop : generalist.predict(valX);
        int[] routed = java.util.stream.IntStream.range(0, valLabels.length)
                .filter(i -> map[top[i]] != subset.length).toArray();
        double fitted = 0;
        if (routed.length > 0) {
            double[][] pv = s.probabilities(valX.getRows(routed));
            double[] dustbin = new double[routed.length];
            boolean[] isDustbin = new boolean[routed.length];
            for (int i = 0; i < routed.length; i++) {
                dustbin[i] = pv[i][subset.length];
                isDustbin[i] = map[valLabels[routed[i]]] == subset.length;
            }
            fitted = fitDustbinShift(dustbin, isDustbin);
        }
        return new Trained(m, s.withDustbinShift(cfg.correction().dustbinShift(prior, share, fitted)), o, prior, share,
                t.rows().length, fitted);
    }

    /**
     * §6.1's targets for a full-head specialist, in {@link DistillationLoss}'s layout {@code [p | y]}:
     * an example of a special class gets its hard target (one-hot y, soft row 0), an example of any
     * other class the generalist's soft targets {@code p = softmax(z^g / T)} (hard row 0), so that
     * the specialist learns its subset from the labels and keeps the generalist's knowledge of the
     * rest: "training it with soft targets for the non-special classes" (Hinton et al. 2015, §6.1).
     */
    static INDArray fullHeadTargets(Classifier generalist, INDArray x, int[] labels, int[] subset, double temperature) {
        int k = generalist.numClasses();
        boolean[] special = new boolean[k];
        for (int c : subset) {
            special[c] = true;
        }
        INDArray soft = TemperatureSoftmax.soften(generalist.logits(x), temperature).castTo(
                org.nd4j.linalg.api.buffer.DataType.FLOAT);
        INDArray hard = oneHot(labels, k);
        for (int i = 0; i < labels.length; i++) {
            (special[labels[i]] ? soft : hard).getRow(i).assign(0);
        }
        return DistillationLoss.labels(soft, hard);
    }

    private static int[] labelsOf(int[] labels, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = labels[rows[i]];
        }
        return out;
    }

    /** The listener, called by one training thread at a time. */
    public static Trainer.Listener synchronizedListener(Trainer.Listener l) {
        return new Trainer.Listener() {
            @Override
            public synchronized void onBatch(String model, int epoch, int batch, int batches) {
                l.onBatch(model, epoch, batch, batches);
            }

            @Override
            public synchronized void onEpoch(Trainer.EpochReport report) {
                l.onEpoch(report);
            }

            @Override
            public synchronized void onRestoredEpoch(Trainer.EpochReport report) {
                l.onRestoredEpoch(report);
            }
        };
    }

    private static int count(int[] labels, int value) {
        int n = 0;
        for (int l : labels) {
            n += l == value ? 1 : 0;
        }
        return n;
    }

    static INDArray oneHot(int[] labels, int classes) {
        float[] y = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            y[i * classes + labels[i]] = 1f;
        }
        return Nd4j.createFromArray(y).reshape('c', labels.length, classes);
    }
}
