package darkknowledge.core;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;

/**
 * The share of an ensemble's gain that its distilled student keeps, and a 95% interval for it over
 * a config's runs (seeds). Hinton et al. 2015, §4 (Table 1): "more than 80% of the improvement in
 * frame classification accuracy achieved by using an ensemble of 10 models is transferred to the
 * distilled model". Per run, on the test set,
 * {@code share = 100 · (E_single − E_student) / (E_single − E_ensemble)}, where {@code E_single} is
 * the members' mean test errors. Over runs, the table's figure is the mean of the runs' shares; the
 * intervals' resampled figure is the pooled share,
 * {@code 100 · Σ_runs (E_single − E_student) / Σ_runs (E_single − E_ensemble)}, which a run whose
 * ensemble gained next to nothing on a resample cannot blow up as a ratio of its own would.
 *
 * <p>Two intervals, by what the runs recorded:
 * <ul>
 * <li>{@link #pairedBootstrap}: where every run left {@link TestPredictions}, a two-level percentile
 * bootstrap: each replicate draws the runs (seeds) with replacement and, independently, the test
 * examples with replacement, the same examples for every drawn run and, within a run, for the members,
 * the ensemble and the student (paired). It covers both sources of error: seed-to-seed training
 * variance and the test set's sampling noise (the test set is one sample of the population that the
 * claim is about, and all seeds share it, so seeds alone cannot show its noise).</li>
 * <li>{@link #overSeeds}: otherwise a Student-t interval on the mean of the runs' shares,
 * {@code mean ± t(0.975, n−1) · sd / √n}: seed-to-seed variance as measured on this one test set
 * only.</li>
 * </ul>
 * With few seeds the bootstrap understates the seed-to-seed spread (it resamples n runs as if they
 * were the population, and its percentiles carry no t correction), so the verdict ({@link #of})
 * takes the wider of the two where both exist.
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
     * The two-level percentile bootstrap of the mean share over {@code runs}, each paired on its test
     * examples (all runs must share one test set); see the class comment. Null when the ensemble's
     * pooled gain is zero or negative on more than 2.5% of the resampled sets: the share's interval
     * is then unbounded.
     */
    public static Interval pairedBootstrap(List<TestPredictions> runs, String ensemble, String student, int resamples,
                                           long seed) {
        Check.that(!runs.isEmpty(), "runs", "must name at least one run");
        Check.positive("resamples", resamples);
        List<Paired> paired = new ArrayList<>();
        for (TestPredictions p : runs) {
            Check.that(Arrays.equals(p.labels(), runs.getFirst().labels()), "runs",
                    "must share one test set (the labels of run " + (paired.size() + 1) + " of " + runs.size()
                    + " differ from the first's)");
            paired.add(new Paired(p, ensemble, student));
        }
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
     * The interval of the share kept by {@code student} of {@code ensemble}'s gain over the runs in
     * {@code dirs} (one per seed): the wider of the paired bootstrap and the t interval over the runs'
     * {@code shares} when every run left its {@link TestPredictions} with both models, else the t
     * interval alone; null when neither applies (see the class comment).
     */
    public static Interval of(List<Path> dirs, double[] shares, String ensemble, String student) {
        if (dirs.isEmpty()) {
            return null;
        }
        Interval seeds = overSeeds(shares);
        if (!allHavePredictions(dirs, ensemble, student)) {
            return seeds;
        }
        Interval boot = bootstrap(dirs, ensemble, student);
        if (boot == null || seeds == null) {
            return boot;
        }
        return seeds.halfWidth() > boot.halfWidth()
                ? new Interval(seeds.mean(), seeds.lo(), seeds.hi(), seeds.n(), seeds.method() + " (wider than the bootstrap)")
                : boot;
    }

    /** Which interval a table row shows. */
    public enum Method {
        /** {@link #pairedBootstrap}: seeds × test examples; "–" unless every run left its predictions. */
        PAIRED_BOOTSTRAP,
        /** {@link #overSeeds}: the training variance on this test set; "–" for fewer than two runs. */
        SEEDS
    }

    /**
     * A table row: the 95% interval of the share that {@code student} keeps of {@code ensemble}'s gain
     * (the runs' shares under {@code <student>.gain_kept_pct}) by {@code method}, shown as
     * {@code [lo, hi] (±half)}.
     */
    public record Row(String label, String paper, String ensemble, String student, Method method)
            implements ResultTables.ColumnRow {
        @Override
        public String value(List<ResultTables.ColumnRun> runs) {
            Shares s = Shares.of(runs, student);
            Interval i = null;
            if (!s.dirs().isEmpty()) {
                i = method == Method.SEEDS ? overSeeds(s.values())
                        : allHavePredictions(s.dirs(), ensemble, student) ? bootstrap(s.dirs(), ensemble, student) : null;
            }
            return i == null ? "–" : i.text(1) + " (±" + String.format(Locale.ROOT, "%.1f", i.halfWidth()) + ")";
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
        return pairedBootstrap(dirs.stream().map(d -> TestPredictions.read(d.resolve(TestPredictions.FILE))).toList(),
                ensemble, student, RESAMPLES, BOOTSTRAP_SEED);
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
