package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GainKeptTest {

    /**
     * A test set of {@code n} examples, 5 members: all members miss every other one of the first
     * {@code 2·gain} examples (the mean member makes {@code gain} errors), the ensemble misses none,
     * the student misses the first {@code missed}.
     */
    private static TestPredictions predictions(int n, int gain, int missed) {
        int[] labels = new int[n];
        int[] wrong = new int[n];
        int[] ensemble = new int[n];
        int[] student = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
            wrong[i] = i < 2 * gain ? (i % 2 == 0 ? 5 : 0) : 0;
            ensemble[i] = labels[i];
            student[i] = i < missed ? (labels[i] + 1) % 10 : labels[i];
        }
        return new TestPredictions(labels, wrong, 5).with("ensemble", ensemble).with("student", student);
    }

    @Test
    void shareIsTheStudentsFractionOfTheGapBetweenMeanMemberAndEnsemble() {
        // mean member: 100 errors, ensemble 0, student 25: 75% of the gain kept
        TestPredictions p = predictions(1000, 100, 25);
        assertEquals(100.0, p.meanMemberErrors(), 1e-12);
        assertEquals(75.0, GainKept.share(p, "ensemble", "student"), 1e-12);
    }

    @Test
    void aStudentThatCopiesTheEnsembleKeepsAllOfTheGainOnEveryResample() {
        GainKept.Interval i = GainKept.pairedBootstrap(List.of(predictions(500, 40, 0), predictions(500, 30, 0)),
                "ensemble", "student", 500, 1);
        assertEquals(100.0, i.lo(), 1e-12);
        assertEquals(100.0, i.hi(), 1e-12);
        assertEquals(2, i.n());
    }

    @Test
    void theBootstrapIntervalContainsTheMeanAndNarrowsWithALargerTestSet() {
        GainKept.Interval small = GainKept.pairedBootstrap(List.of(predictions(1000, 50, 20)), "ensemble", "student",
                2000, 7);
        GainKept.Interval large = GainKept.pairedBootstrap(List.of(predictions(10000, 500, 200)), "ensemble",
                "student", 2000, 7);
        assertEquals(60.0, small.mean(), 1e-12);
        assertEquals(60.0, large.mean(), 1e-12);
        assertTrue(small.lo() < 60 && small.hi() > 60, small.toString());
        assertTrue(large.lo() < 60 && large.hi() > 60, large.toString());
        // ten times the examples: the binomial noise shrinks by about √10
        assertTrue(large.halfWidth() < small.halfWidth() / 2.5, small + " vs " + large);
    }

    @Test
    void anEnsembleWithoutAResolvedGainGivesNoInterval() {
        // mean member 50 errors, ensemble 48: a gain of 2 errors, zero or negative on many resampled test sets
        TestPredictions p = predictions(1000, 50, 49);
        int[] ensemble = p.labels().clone();
        for (int i = 200; i < 248; i++) {
            ensemble[i] = (ensemble[i] + 1) % 10;  // 48 errors where no member errs
        }
        TestPredictions weak = new TestPredictions(p.labels(), p.membersWrong(), p.members())
                .with("ensemble", ensemble).with("student", p.predicted().get("student"));
        assertNull(GainKept.pairedBootstrap(List.of(weak), "ensemble", "student", 1000, 3));
    }

    @Test
    void theSeedIntervalIsTheStudentTIntervalOfTheMean() {
        double[] shares = {40, 50, 60, 70};
        GainKept.Interval i = GainKept.overSeeds(shares);
        double sd = Math.sqrt((225 + 25 + 25 + 225) / 3.0);
        double half = 3.182446305284263 * sd / 2; // t(0.975, 3)
        assertEquals(55 - half, i.lo(), 1e-6);
        assertEquals(55 + half, i.hi(), 1e-6);
        assertNull(GainKept.overSeeds(new double[] {50}));
    }

    @Test
    void theVerdictComesFromTheWholeInterval() {
        assertEquals("**met**", new GainKept.Interval(90, 81, 99, 5, "").verdict(80, Double.POSITIVE_INFINITY));
        assertEquals("missed", new GainKept.Interval(60, 50, 79, 5, "").verdict(80, Double.POSITIVE_INFINITY));
        assertEquals("unresolved", new GainKept.Interval(85, 70, 100, 5, "").verdict(80, Double.POSITIVE_INFINITY));
    }

    @Test
    void theVerdictTakesTheSeedIntervalAndNamesTheOneWithTheTestSetsNoise(@TempDir Path dir) {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        predictions(1000, 50, 20).write(a.resolve(TestPredictions.FILE));
        predictions(1000, 50, 30).write(b.resolve(TestPredictions.FILE));
        List<TestPredictions> runs = List.of(TestPredictions.read(a.resolve(TestPredictions.FILE)),
                TestPredictions.read(b.resolve(TestPredictions.FILE)));
        GainKept.Interval boot = GainKept.pairedBootstrap(runs, "ensemble", "student", GainKept.RESAMPLES,
                GainKept.BOOTSTRAP_SEED);
        assertTrue(boot.method().startsWith("bootstrap over seeds"), boot.method());
        assertEquals(50.0, boot.mean(), 1e-12);  // pooled: (30 + 20) / (50 + 50)
        GainKept.Interval verdict = GainKept.of(List.of(a, b), new double[] {60, 40}, "ensemble", "student");
        GainKept.Interval seeds = GainKept.overSeeds(new double[] {60, 40});
        assertEquals(seeds.lo(), verdict.lo(), 1e-12);
        assertEquals(seeds.hi(), verdict.hi(), 1e-12);
        GainKept.Interval wide = GainKept.overSeedsAndTestSet(new double[] {60, 40},
                GainKept.testSetVariance(runs, "ensemble", "student"));
        assertTrue(verdict.method().startsWith("t over seeds, this test set; with the test set's sampling noise "
                + wide.text(1)), verdict.method());
        // one run: the bootstrap over its test examples; runs without predictions: the seed interval alone
        GainKept.Interval one = GainKept.of(List.of(a), new double[] {60}, "ensemble", "student");
        assertEquals("bootstrap over test examples, one seed", one.method());
        GainKept.Interval older = GainKept.of(List.of(a, dir.resolve("old")), new double[] {60, 40}, "ensemble",
                "student");
        assertEquals(seeds, older);
    }

    @Test
    void identicalRunsLeaveTheirWholePerExampleVarianceToTheTestSet() {
        // mean member 50 errors (every member misses even i < 100), ensemble 0, student the first 20: share 0.6;
        // z = (m − s) − 0.6·m: −0.6 (10×), −1 (10×), 0.4 (40×), else 0: Σz² = 20, Σz = 0
        List<TestPredictions> same = List.of(predictions(1000, 50, 20), predictions(1000, 50, 20));
        double expected = 1e4 * (20.0 / 999) / (1000 * 0.05 * 0.05);
        assertEquals(expected, GainKept.testSetVariance(same, "ensemble", "student"), 1e-9);
        assertEquals(1.959963984540054 * Math.sqrt(expected), GainKept.testSetHalfWidth(expected), 1e-9);
        assertTrue(Double.isNaN(GainKept.testSetVariance(same.subList(0, 1), "ensemble", "student")));
    }

    @Test
    void whatDiffersBetweenRunsIsNotTheTestSets() {
        // the same members and ensemble; the students miss 20 images each, different ones, where no member errs:
        // the per-example outcomes the runs share are the members' and the ensemble's, not the students' misses
        TestPredictions base = predictions(1000, 50, 0);
        List<TestPredictions> runs = new java.util.ArrayList<>();
        for (int r = 0; r < 4; r++) {
            int[] student = base.labels().clone();
            for (int i = 100 + 20 * r; i < 120 + 20 * r; i++) {
                student[i] = (student[i] + 1) % 10;
            }
            runs.add(new TestPredictions(base.labels(), base.membersWrong(), base.members())
                    .with("ensemble", base.predicted().get("ensemble")).with("student", student));
        }
        // share 0.6, z_r = 0.4·m − s_r; over the 1,000 examples (denominator 999): Var(m) = 47.5/999,
        // Cov(m, s_r) = −1/999, Var(s_r) = 19.6/999, Cov(s_r, s_r') = −0.4/999 for r ≠ r'
        double shared = GainKept.testSetVariance(runs, "ensemble", "student");
        double own = GainKept.testSetVariance(List.of(runs.getFirst(), runs.getFirst()), "ensemble", "student");
        double scale = 1e4 / (1000 * 0.05 * 0.05);
        assertEquals(scale * (0.16 * 47.5 + 0.4 + 0.4 - 0.4) / 999, shared, 1e-9);
        assertEquals(scale * (0.16 * 47.5 + 0.8 + 19.6) / 999, own, 1e-9);
    }

    @Test
    void theIntervalWithTheTestSetAddsItsVarianceToTheSeeds() {
        double[] shares = {40, 50, 60, 70};
        double sd2 = (225 + 25 + 25 + 225) / 3.0;
        GainKept.Interval i = GainKept.overSeedsAndTestSet(shares, 25);
        double half = 3.182446305284263 * Math.sqrt(sd2 / 4 + 25);
        assertEquals(55 - half, i.lo(), 1e-6);
        assertEquals(55 + half, i.hi(), 1e-6);
        GainKept.Interval none = GainKept.overSeedsAndTestSet(shares, 0);
        assertEquals(GainKept.overSeeds(shares).halfWidth(), none.halfWidth(), 1e-9);
        assertNull(GainKept.overSeedsAndTestSet(new double[] {50}, 25));
        assertNull(GainKept.overSeedsAndTestSet(shares, Double.NaN));
    }

    @Test
    void predictionsSurviveTheirFile(@TempDir Path dir) {
        int[] labels = new SplittableRandom(3).ints(200, 0, 10).toArray();
        int[] wrong = new SplittableRandom(4).ints(200, 0, 11).toArray();
        int[] p = new SplittableRandom(5).ints(200, 0, 10).toArray();
        TestPredictions t = new TestPredictions(labels, wrong, 10).with("student", p);
        t.write(dir.resolve("p.csv"));
        TestPredictions back = TestPredictions.read(dir.resolve("p.csv"));
        assertTrue(java.util.Arrays.equals(labels, back.labels()) && java.util.Arrays.equals(wrong, back.membersWrong())
                && java.util.Arrays.equals(p, back.predicted().get("student")) && back.members() == 10);
    }
}
