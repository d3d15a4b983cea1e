package darkknowledge.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The share of an ensemble's gain that its distilled student keeps, and 95% intervals for it over
 * a config's runs (seeds). Hinton et al. 2015, §4 (Table 1): "more than 80% of the improvement in
 * frame classification accuracy achieved by using an ensemble of 10 models is transferred to the
 * distilled model". Per run, on the test set,
 * {@code share = 100 · (E_single − E_student) / (E_single − E_ensemble)}, where {@code E_single} is
 * the members' mean test errors. Over runs, the table's figure is the mean of the runs' shares; the
 * bootstrap's resampled figure is the pooled share,
 * {@code 100 · Σ_runs (E_single − E_student) / Σ_runs (E_single − E_ensemble)}, which a run whose
 * ensemble gained next to nothing on a resample cannot blow up as a ratio of its own would.
 *
 * <p>What varies. Linearised at the pooled share {@code P} (a fraction), run {@code r} contributes
 * {@code z_ri = (m_ri − s_ri) − P · (m_ri − e_ri)} on test example {@code i} ({@code m} the members'
 * mean error indicator, {@code e} and {@code s} the ensemble's and the student's), and
 * {@code z_ri = μ_i + ε_ri}: {@code μ_i} what example {@code i} contributes in expectation over
 * training seeds, {@code ε_ri} which examples one seed's nets happen to get wrong. Only the
 * {@code μ} part is shared by all seeds; the {@code ε} part is most of the seed-to-seed spread of
 * the shares and averages away over seeds. Three intervals:
 * <ul>
 * <li>{@link #overSeeds}, the verdict's ({@link #of}): a Student-t interval on the mean of the
 * runs' shares, {@code mean ± t(0.975, n−1) · sd / √n}: the share on this test set, in expectation
 * over training seeds. The paper's figure is a share on its one fixed test set, and so is the
 * question the verdict answers; the interval narrows to nothing as seeds are added.</li>
 * <li>{@link #overSeedsAndTestSet}: the same with the test set's sampling noise added, for the share
 * on the population that the test set samples: {@code mean ± t(0.975, n−1) · √(sd²/n + V)} with
 * {@code V = 100² · Cov_{r≠r'}(z_r, z_r') / (N · Ḡ²)} ({@link #testSetVariance}): the delta-method
 * variance of the pooled share from the {@code μ} part ({@code N} test examples, {@code Ḡ} the
 * ensemble's mean gain per example). The covariance between different runs over the examples
 * estimates {@code Var(μ)} free of the {@code ε} part, which {@code sd²} already holds. As seeds are
 * added it narrows to {@code ±1.96 · √V}, the test set's floor. The t quantile with {@code n − 1}
 * degrees of freedom for the sum is conservative against a Welch–Satterthwaite count.</li>
 * <li>{@link #pairedBootstrap}: a two-level percentile bootstrap: each replicate draws the runs
 * (seeds) with replacement and, independently, the test examples with replacement, the same examples
 * for every drawn run and, within a run, for the members, the ensemble and the student (paired).
 * Resampling both factors of a crossed design is conservative (Owen 2007, "The pigeonhole
 * bootstrap", Ann. Appl. Stat. 1(2):386–411): here the {@code ε} part enters through the seeds'
 * spread and again through each drawn run's resampled examples, {@code (3n − 2) / n²} times its
 * variance in all against the {@code 1/n} it has, while the seeds' own variance gets the plug-in
 * {@code (n − 1)/n}. It is used where there is one run only (no seed spread to measure), and by
 * {@link #overSeedsAndTestSet}'s row for a one-seed column.</li>
 * </ul>
 */
public final class GainKept {
    /** Resamples of the bootstrap: the percentiles move by well under a point between seeds of it. */
    public static final int RESAMPLES = 4000;
    /** The bootstrap's own seed: the tables are regenerated identically. */
    public static final long BOOTSTRAP_SEED = 20150309L;
    private static final double LEVEL = 0.95;

    private GainKept() {
    }

    /**
     * A 95% interval for the mean share.
     *
     * @param n      runs (seeds) it rests on
     * @param method what it covers, as the tables say it
     */
    public record Interval(double mean, double lo, double hi, int n, String method) {
        public double halfWidth() {
            return (hi - lo) / 2;
        }

        /** {@code [lo, hi]} with {@code decimals} decimals. */
        public String text(int decimals) {
            String f = "%." + decimals + "f";
            return "[" + String.format(Locale.ROOT, f, lo) + ", " + String.format(Locale.ROOT, f, hi) + "]";
        }

        /**
         * The verdict against a target {@code [targetLo, targetHi]}: met when the whole interval lies
         * inside it, missed when the whole interval lies outside, unresolved when it straddles a bound.
         */
        public String verdict(double targetLo, double targetHi) {
            if (lo >= targetLo && hi <= targetHi) {
                return "**met**";
            }
            if (hi < targetLo || lo > targetHi) {
                return "missed";
            }
            return "unresolved";
        }
    }

    /** One run's share on the test set, from its predictions: see the class comment. */
    public static double share(TestPredictions p, String ensemble, String student) {
        int[] once = new int[p.labels().length];
        Arrays.fill(once, 1);
        return share(new Paired(p, ensemble, student), once);
    }

    /** Student-t interval on the mean of {@code shares} (one per seed); null for fewer than two. */
    public static Interval overSeeds(double[] shares) {
        if (shares.length < 2) {
            return null;
        }
        DescriptiveStatistics s = new DescriptiveStatistics(shares);
        double t = new TDistribution(shares.length - 1).inverseCumulativeProbability(0.5 + LEVEL / 2);
        double half = t * s.getStandardDeviation() / Math.sqrt(shares.length);
        return new Interval(s.getMean(), s.getMean() - half, s.getMean() + half, shares.length,
                "t over seeds, this test set");
    }

    /**
     * The test set's sampling variance of the pooled share (squared percentage points),
     * {@code V = 100² · Cov_{r≠r'}(z_r, z_r') / (N · Ḡ²)}: the mean over pairs of different runs of the
     * covariance over test examples of their contributions {@code z} (see the class comment), which
     * leaves out what differs from seed to seed. Clamped at 0 (a negative estimate is noise around
     * none). NaN for fewer than two runs or without a pooled gain of the ensemble.
     */
    public static double testSetVariance(List<TestPredictions> runs, String ensemble, String student) {
        List<Paired> paired = paired(runs, ensemble, student);
        int examples = runs.getFirst().labels().length;
        if (paired.size() < 2 || examples < 2) {
            return Double.NaN;
        }
        int[] once = new int[examples];
        Arrays.fill(once, 1);
        double[] all = new double[2];
        paired.forEach(r -> gains(r, once, all));
        if (all[1] <= 0) {
            return Double.NaN;
        }
        double p = all[0] / all[1];
        double meanGain = all[1] / ((double) paired.size() * examples);
        // Σ_{r≠r'} Cov(z_r, z_r') = Var(Σ_r z_r) − Σ_r Var(z_r)
        double[] sum = new double[examples];
        double own = 0;
        for (Paired r : paired) {
            double[] z = new double[examples];
            for (int i = 0; i < examples; i++) {
                double m = r.member()[i];
                z[i] = (m - (r.student()[i] ? 1 : 0)) - p * (m - (r.ensemble()[i] ? 1 : 0));
                sum[i] += z[i];
            }
            own += variance(z);
        }
        double cross = (variance(sum) - own) / ((double) paired.size() * (paired.size() - 1));
        return 1e4 * Math.max(0, cross) / (examples * meanGain * meanGain);
    }

    /**
     * The t interval of the mean of {@code shares} (one per seed) widened by the test set's sampling
     * variance {@code testSetVariance} ({@link #testSetVariance}):
     * {@code mean ± t(0.975, n−1) · √(sd²/n + V)}; null for fewer than two shares or a NaN variance.
     */
    public static Interval overSeedsAndTestSet(double[] shares, double testSetVariance) {
        if (shares.length < 2 || Double.isNaN(testSetVariance)) {
            return null;
        }
        DescriptiveStatistics s = new DescriptiveStatistics(shares);
        double t = new TDistribution(shares.length - 1).inverseCumulativeProbability(0.5 + LEVEL / 2);
        double half = t * Math.sqrt(s.getVariance() / shares.length + testSetVariance);
        return new Interval(s.getMean(), s.getMean() - half, s.getMean() + half, shares.length,
                "t over seeds + the test set's sampling variance");
    }

    /** The test set's floor: the half-width {@code z(0.975) · √V} that {@link #overSeedsAndTestSet} narrows to with seeds. */
    public static double testSetHalfWidth(double testSetVariance) {
        return new NormalDistribution().inverseCumulativeProbability(0.5 + LEVEL / 2)
                * Math.sqrt(testSetVariance);
    }

    /**
     * The two-level percentile bootstrap of the mean share over {@code runs}, each paired on its test
     * examples (all runs must share one test set); see the class comment. Null when the ensemble's
     * pooled gain is zero or negative on more than 2.5% of the resampled sets: the share's interval
     * is then unbounded.
     */
    public static Interval pairedBootstrap(List<TestPredictions> runs, String ensemble, String student, int resamples,
                                           long seed) {
        Check.positive("resamples", resamples);
        List<Paired> paired = paired(runs, ensemble, student);
        int examples = runs.getFirst().labels().length;
        int[] once = new int[examples];
        Arrays.fill(once, 1);
        double[] all = new double[2];
        paired.forEach(r -> gains(r, once, all));
        double mean = all[1] > 0 ? 100.0 * all[0] / all[1] : Double.NaN;
        SplittableRandom rng = new SplittableRandom(seed);
        double[] replicates = new double[resamples];
        int[] weights = new int[examples];
        double[] sums = new double[2];
        int noGain = 0;
        for (int b = 0; b < resamples; b++) {
            Arrays.fill(weights, 0);
            for (int i = 0; i < examples; i++) {
                weights[rng.nextInt(examples)]++;
            }
            sums[0] = 0;
            sums[1] = 0;
            for (int k = 0; k < paired.size(); k++) {
                gains(paired.get(rng.nextInt(paired.size())), weights, sums);
            }
            if (sums[1] <= 0) {
                noGain++;
                replicates[b] = Double.NaN;
            } else {
                replicates[b] = 100.0 * sums[0] / sums[1];
            }
        }
        if (noGain > (1 - LEVEL) / 2 * resamples) {
            // the ensemble's own gain is not resolved: the share's upper end is unbounded
            return null;
        }
        // resamples without a gain would have an unbounded share: they count as the largest
        double[] sorted = Arrays.stream(replicates).map(r -> Double.isNaN(r) ? Double.POSITIVE_INFINITY : r)
                .sorted().toArray();
        double lo = sorted[(int) Math.floor((1 - LEVEL) / 2 * (resamples - 1))];
        double hi = sorted[(int) Math.ceil((1 + LEVEL) / 2 * (resamples - 1))];
        return new Interval(mean, lo, hi, runs.size(), runs.size() == 1
                ? "bootstrap over test examples, one seed"
                : "bootstrap over seeds × test examples");
    }

    /**
     * The verdict's interval of the share kept by {@code student} of {@code ensemble}'s gain over the
     * runs in {@code dirs} (one per seed): the t interval over the runs' {@code shares} (this test set,
     * see the class comment), its method naming the interval with the test set's sampling noise too
     * where every run left its {@link TestPredictions} with both models; with one run, the bootstrap
     * over its test examples where it left them; else null.
     */
    public static Interval of(List<Path> dirs, double[] shares, String ensemble, String student) {
        if (dirs.isEmpty()) {
            return null;
        }
        Interval seeds = overSeeds(shares);
        if (!allHavePredictions(dirs, ensemble, student)) {
            return seeds;
        }
        if (seeds == null) {
            return bootstrap(dirs, ensemble, student);
        }
        Interval wide = overSeedsAndTestSet(shares, testSetVariance(read(dirs), ensemble, student));
        return wide == null ? seeds : new Interval(seeds.mean(), seeds.lo(), seeds.hi(), seeds.n(),
                seeds.method() + "; with the test set's sampling noise " + wide.text(1));
    }

    /** Which interval a table row shows. */
    public enum Method {
        /** {@link #pairedBootstrap}: seeds × test examples; "–" unless every run left its predictions. */
        PAIRED_BOOTSTRAP,
        /** {@link #overSeeds}: the training variance on this test set; "–" for fewer than two runs. */
        SEEDS,
        /**
         * {@link #overSeedsAndTestSet}, followed by the test set's floor ({@link #testSetHalfWidth});
         * for one run the {@link #pairedBootstrap} over its test examples; "–" unless every run left its
         * predictions.
         */
        SEEDS_AND_TEST_SET
    }

    /**
     * A table row: the 95% interval of the share that {@code student} keeps of {@code ensemble}'s gain
     * (the runs' shares under {@code <student>.gain_kept_pct}) by {@code method}, shown as
     * {@code [lo, hi] (±half)}, or {@code [lo, hi] (±half; test set ±floor)} for
     * {@link Method#SEEDS_AND_TEST_SET} over two runs or more.
     */
    public record Row(String label, String paper, String ensemble, String student, Method method)
            implements ResultTables.ColumnRow {
        @Override
        public String value(List<ResultTables.ColumnRun> runs) {
            Shares s = Shares.of(runs, student);
            if (s.dirs().isEmpty() || (method != Method.SEEDS && !allHavePredictions(s.dirs(), ensemble, student))) {
                return "–";
            }
            Interval i;
            String floor = "";
            if (method == Method.SEEDS) {
                i = overSeeds(s.values());
            } else if (method == Method.PAIRED_BOOTSTRAP || s.dirs().size() == 1) {
                i = bootstrap(s.dirs(), ensemble, student);
            } else {
                double v = testSetVariance(read(s.dirs()), ensemble, student);
                i = overSeedsAndTestSet(s.values(), v);
                floor = "; test set ±" + String.format(Locale.ROOT, "%.1f", testSetHalfWidth(v));
            }
            return i == null ? "–" : i.text(1) + " (±" + String.format(Locale.ROOT, "%.1f", i.halfWidth()) + floor + ")";
        }
    }

    /** The runs with a numeric share of a student: their directories and shares, in the same order. */
    private record Shares(List<Path> dirs, double[] values) {
        static Shares of(List<ResultTables.ColumnRun> runs, String student) {
            List<Path> dirs = new ArrayList<>();
            List<Double> shares = new ArrayList<>();
            for (ResultTables.ColumnRun r : runs) {
                String v = r.result().get(student + ".gain_kept_pct");
                if (v != null && !v.isBlank() && !v.equals("NaN")) {
                    try {
                        shares.add(Double.parseDouble(v));
                        dirs.add(r.dir());
                    } catch (NumberFormatException e) {
                        // a non-numeric figure: not a share
                    }
                }
            }
            return new Shares(dirs, shares.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    /** {@link #pairedBootstrap} over the predictions the runs in {@code dirs} recorded, with the tables' resamples and seed. */
    private static Interval bootstrap(List<Path> dirs, String ensemble, String student) {
        return pairedBootstrap(read(dirs), ensemble, student, RESAMPLES, BOOTSTRAP_SEED);
    }

    /** The test predictions the runs in {@code dirs} recorded. */
    private static List<TestPredictions> read(List<Path> dirs) {
        return dirs.stream().map(d -> TestPredictions.read(d.resolve(TestPredictions.FILE))).toList();
    }

    /** The runs' per-example errors; they must share one test set. */
    private static List<Paired> paired(List<TestPredictions> runs, String ensemble, String student) {
        Check.that(!runs.isEmpty(), "runs", "must name at least one run");
        List<Paired> paired = new ArrayList<>();
        for (TestPredictions p : runs) {
            Check.that(Arrays.equals(p.labels(), runs.getFirst().labels()), "runs",
                    "must share one test set (the labels of run " + (paired.size() + 1) + " of " + runs.size()
                    + " differ from the first's)");
            paired.add(new Paired(p, ensemble, student));
        }
        return paired;
    }

    /** The sample variance (denominator {@code n − 1}) of {@code x}. */
    private static double variance(double[] x) {
        double mean = Arrays.stream(x).sum() / x.length;
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        return ss / (x.length - 1);
    }

    private static boolean allHavePredictions(List<Path> dirs, String ensemble, String student) {
        return dirs.stream().allMatch(d -> hasPredictions(d, ensemble, student));
    }

    private static boolean hasPredictions(Path dir, String ensemble, String student) {
        Path f = dir.resolve(TestPredictions.FILE);
        if (!Files.isRegularFile(f)) {
            return false;
        }
        TestPredictions p = TestPredictions.read(f);
        return p.predicted().containsKey(ensemble) && p.predicted().containsKey(student);
    }

    /** {@link #of} over the runs with a numeric share of {@code student}; null when there is none. */
    public static Interval interval(List<ResultTables.ColumnRun> runs, String ensemble, String student) {
        Shares s = Shares.of(runs, student);
        return s.dirs().isEmpty() ? null : of(s.dirs(), s.values(), ensemble, student);
    }

    /** A run's per-example errors: members' mean, ensemble, student. */
    private record Paired(double[] member, boolean[] ensemble, boolean[] student) {
        Paired(TestPredictions p, String ensemble, String student) {
            this(Arrays.stream(p.membersWrong()).mapToDouble(w -> (double) w / p.members()).toArray(),
                    p.wrong(ensemble), p.wrong(student));
        }
    }

    /** The share on the test set weighted by {@code weights} (how often each example was drawn); NaN without a gain. */
    private static double share(Paired r, int[] weights) {
        double[] g = new double[2];
        gains(r, weights, g);
        return g[1] <= 0 ? Double.NaN : 100.0 * g[0] / g[1];
    }

    /** Adds to {@code sums} the student's ({@code E_single − E_student}) and the ensemble's gain on the weighted test set. */
    private static void gains(Paired r, int[] weights, double[] sums) {
        double single = 0;
        double ensemble = 0;
        double student = 0;
        for (int i = 0; i < weights.length; i++) {
            int w = weights[i];
            if (w != 0) {
                single += w * r.member()[i];
                ensemble += r.ensemble()[i] ? w : 0;
                student += r.student()[i] ? w : 0;
            }
        }
        sums[0] += single - student;
        sums[1] += single - ensemble;
    }
}
