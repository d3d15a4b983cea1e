package darkknowledge.specialists;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KlCombinerTest {
    private final KlCombiner solver = new KlCombiner(1e-12, 100000);

    @Test
    void noActiveSpecialistLeavesTheGeneralistUnchanged() {
        double[] pg = {0.6, 0.3, 0.1};
        KlCombiner.Result r = solver.combine(pg, List.of());
        assertArrayEquals(pg, r.q());
        assertEquals(0, r.iterations());
    }

    @Test
    void modelsCoveringAllClassesGiveTheArithmeticMean() {
        double[] pg = {0.6, 0.3, 0.1};
        double[] p1 = {0.2, 0.5, 0.3, 0.0};
        double[] p2 = {0.1, 0.1, 0.8, 0.0};
        KlCombiner.Result r = solver.combine(pg, List.of(new KlCombiner.View(new int[]{0, 1, 2}, p1),
                new KlCombiner.View(new int[]{0, 1, 2}, p2)));
        assertArrayEquals(new double[]{0.3, 0.3, 0.4}, r.q(), 1e-9);
        assertTrue(r.converged());
    }

    @Test
    void handComputedThreeClassCase() {
        // Generalist (0.5, 0.3, 0.2); a specialist on {0} says 0.8 for class 0 and 0.2 for its dustbin {1, 2}.
        // The mass of {0} is the mean of the two models' masses, (0.5 + 0.8)/2 = 0.65; the remaining 0.35
        // is split as only the generalist distinguishes 1 from 2, 3:2, giving 0.21 and 0.14.
        double[] pg = {0.5, 0.3, 0.2};
        KlCombiner.Result r = solver.combine(pg, List.of(new KlCombiner.View(new int[]{0}, new double[]{0.8, 0.2})));
        assertArrayEquals(new double[]{0.65, 0.21, 0.14}, r.q(), 1e-9);
        // Two specialists disagreeing on class 2: {2} says 0.5, {1, 2} says (0.1, 0.6 | 0.3).
        double[] q = solver.combine(pg, List.of(new KlCombiner.View(new int[]{2}, new double[]{0.5, 0.5}),
                new KlCombiner.View(new int[]{1, 2}, new double[]{0.1, 0.6, 0.3}))).q();
        assertArrayEquals(new double[]{0, 0, 0}, KlCombiner.gradient(pg, List.of(new KlCombiner.View(new int[]{2},
                new double[]{0.5, 0.5}), new KlCombiner.View(new int[]{1, 2}, new double[]{0.1, 0.6, 0.3})), q), 1e-8);
    }

    @Test
    void aSpecialistDisagreeingWithAConfidentGeneralistConvergesFast() {
        // The Fashion-MNIST failure mode of the unreduced EM: the generalist puts almost no mass outside
        // the subset while the specialist's dustbin holds 0.3; mass outside moves only through the
        // generalist's tiny share, which took thousands of iterations.
        double[] pg = {0.5, 0.3, 0.2 - 2e-6, 1e-6, 1e-6};
        KlCombiner.View v = new KlCombiner.View(new int[]{0, 1, 2}, new double[]{0.4, 0.2, 0.1, 0.3});
        KlCombiner.Result r = new KlCombiner(1e-10, 50).combine(pg, List.of(v));
        assertTrue(r.converged(), "iterations " + r.iterations());
        // One specialist: subset classes get the mean of the two models, the rest share the mean outside mass.
        assertArrayEquals(new double[]{0.45, 0.25, 0.15 - 1e-6, 0.075 + 5e-7, 0.075 + 5e-7}, r.q(), 1e-9);
        for (double gv : KlCombiner.gradient(pg, List.of(v), r.q())) {
            assertEquals(0, gv, 1e-8);
        }
    }

    @Test
    void agreementOnAnAlmostCertainClassConverges() {
        // From a Fashion-MNIST test image: generalist and the {dress, bag} specialist both all but
        // certain of "bag"; 1 − Σ_subset q cancelled to 0 and the solver oscillated for 2,000 iterations.
        double[] pg = {4.3e-25, 4.0e-26, 1.0e-24, 1.6e-31, 9.4e-27, 3.4e-18, 6.5e-20, 2.0e-28, 1.0, 1.7e-24};
        double[] pm = {6.7e-31, 1.0, 1.8e-18};
        KlCombiner.Result r = KlCombiner.defaults().combine(pg, List.of(new KlCombiner.View(new int[]{3, 8}, pm)));
        assertTrue(r.converged(), "iterations " + r.iterations());
        assertEquals(1.0, r.q()[8], 1e-12);
        assertEquals((1.6e-31 + 6.7e-31) / 2, r.q()[3], 1e-40);
    }

    @Test
    void gradientMatchesFiniteDifferencesAndSolutionIsAMinimum() {
        SplittableRandom r = new SplittableRandom(5);
        int k = 12;
        double[] pg = random(r, k);
        List<KlCombiner.View> views = List.of(new KlCombiner.View(new int[]{0, 3, 7}, random(r, 4)),
                new KlCombiner.View(new int[]{3, 4}, random(r, 3)), new KlCombiner.View(new int[]{11}, random(r, 2)));
        double[] z = new double[k];
        for (int i = 0; i < k; i++) {
            z[i] = r.nextGaussian();
        }
        double[] g = KlCombiner.gradient(pg, views, softmax(z));
        double h = 1e-6;
        for (int i = 0; i < k; i++) {
            double[] zp = z.clone();
            double[] zm = z.clone();
            zp[i] += h;
            zm[i] -= h;
            double fd = (KlCombiner.objective(pg, views, softmax(zp)) - KlCombiner.objective(pg, views, softmax(zm))) / (2 * h);
            assertEquals(fd, g[i], 1e-6, "dF/dz_" + i);
        }
        KlCombiner.Result res = solver.combine(pg, views);
        assertTrue(res.converged());
        double best = KlCombiner.objective(pg, views, res.q());
        for (int trial = 0; trial < 200; trial++) {
            double[] zz = new double[k];
            for (int i = 0; i < k; i++) {
                zz[i] = Math.log(res.q()[i]) + 0.05 * r.nextGaussian();
            }
            assertTrue(KlCombiner.objective(pg, views, softmax(zz)) >= best - 1e-12, "no nearby point is better");
        }
        for (double v : KlCombiner.gradient(pg, views, res.q())) {
            assertEquals(0, v, 1e-7);
        }
    }

    @Test
    void closedFormForDisjointSubsetsIsTheFixedPointsLimit() {
        // The closed form against the fixed-point iteration run to 1e-14, on problems shaped like the
        // bench's and a real run's (peaked softmax outputs, up to 1,000 classes and 20 specialists),
        // with sharper ones whose probabilities go down to 1e-300, with classes no specialist covers
        // and with every class covered.
        SplittableRandom r = new SplittableRandom(17);
        KlCombiner reference = new KlCombiner(1e-14, 1_000_000);
        double worst = 0;
        for (int trial = 0; trial < 300; trial++) {
            int k = trial % 3 == 0 ? 1000 : 2 + r.nextInt(60);
            double sharpness = trial % 5 == 0 ? 25 : 3;
            boolean allCovered = trial % 4 == 1;
            int[] order = shuffled(r, k);
            // (A single specialist covering every class has an empty dustbin: no finite optimum.)
            int specialists = allCovered ? 2 + r.nextInt(Math.min(19, k - 1)) : 1 + r.nextInt(Math.min(20, k - 1));
            int covered = allCovered ? k : specialists + r.nextInt(k - specialists);
            List<KlCombiner.View> views = new java.util.ArrayList<>();
            int from = 0;
            for (int m = 0; m < specialists; m++) {
                int to = m == specialists - 1 ? covered : from + 1 + r.nextInt(covered - from - (specialists - m) + 1);
                int[] subset = java.util.Arrays.copyOfRange(order, from, to);
                views.add(new KlCombiner.View(subset, peaked(r, subset.length + 1, sharpness)));
                from = to;
            }
            double[] pg = peaked(r, k, sharpness);
            KlCombiner.Result fast = KlCombiner.defaults().combine(pg, views);
            KlCombiner.Result slow = reference.combineIteratively(pg, views);
            assertTrue(fast.converged() && slow.converged(), "trial " + trial + ": " + fast.iterations() + " Newton, "
                    + slow.iterations() + " fixed-point iterations, k " + k + ", " + specialists + " specialists");
            assertTrue(fast.iterations() <= 60, "trial " + trial + ": " + fast.iterations() + " Newton steps");
            double sum = 0;
            for (int c = 0; c < k; c++) {
                assertEquals(slow.q()[c], fast.q()[c], 1e-10, "trial " + trial + ", class " + c);
                worst = Math.max(worst, Math.abs(slow.q()[c] - fast.q()[c]));
                sum += fast.q()[c];
            }
            assertEquals(1, sum, 1e-12, "trial " + trial);
            assertTrue(KlCombiner.objective(pg, views, fast.q()) <= KlCombiner.objective(pg, views, slow.q()) + 1e-12,
                    "trial " + trial + ": the closed form is no worse than the iteration");
        }
        assertTrue(worst < 1e-10, "largest difference " + worst);
    }

    @Test
    void closedFormKeepsTinyMassesExact() {
        // The almost-certain case again, now checking the classes outside the subset: with one
        // specialist each outside class gets p^g_c · (G_O + d) / (2 G_O), a relative precision the
        // difference 1 − Q_subset (~1e-18 of 1) could not give.
        double[] pg = {4.3e-25, 4.0e-26, 1.0e-24, 1.6e-31, 9.4e-27, 3.4e-18, 6.5e-20, 2.0e-28, 1.0, 1.7e-24};
        double[] pm = {6.7e-31, 1.0, 1.8e-18};
        double[] q = KlCombiner.defaults().combine(pg, List.of(new KlCombiner.View(new int[]{3, 8}, pm))).q();
        double outside = 0;
        for (int c = 0; c < pg.length; c++) {
            outside += c == 3 || c == 8 ? 0 : pg[c];
        }
        for (int c = 0; c < pg.length; c++) {
            if (c != 3 && c != 8) {
                double expected = pg[c] * (outside + pm[2]) / (2 * outside);
                assertEquals(expected, q[c], 1e-12 * expected, "class " + c);
            }
        }
        // Two disjoint specialists both all but certain, one of them of the true class.
        double[] pg2 = {1e-300, 1 - 2e-12, 1e-12, 1e-12, 1e-200};
        List<KlCombiner.View> views = List.of(new KlCombiner.View(new int[]{0, 1}, new double[]{1e-250, 1 - 1e-15, 1e-15}),
                new KlCombiner.View(new int[]{2, 3}, new double[]{1e-9, 1e-9, 1 - 2e-9}));
        // The fixed-point iteration's tolerance is absolute, so it leaves masses below it unconverged;
        // the fixed-point equations themselves, relative to each q_k, hold to rounding here.
        KlCombiner.Result fast = KlCombiner.defaults().combine(pg2, views);
        assertTrue(fast.converged());
        double[] ratio = fixedPointRatio(pg2, views, fast.q());
        for (int c = 0; c < pg2.length; c++) {
            assertEquals(1, ratio[c], 1e-12, "class " + c + ", q " + fast.q()[c]);
        }
        ratio = fixedPointRatio(pg, List.of(new KlCombiner.View(new int[]{3, 8}, pm)), q);
        for (int c = 0; c < pg.length; c++) {
            assertEquals(1, ratio[c], 1e-12, "class " + c + ", q " + q[c]);
        }
    }

    /**
     * The fixed point's right-hand side over q_k, {@code (1/J) Σ_j p^j_{G_j(k)} / Q^j_{G_j(k)}}: 1 for
     * every class at the optimum. Dustbin masses are summed over the classes outside each subset, so
     * that tiny ones are exact.
     */
    static double[] fixedPointRatio(double[] pg, List<KlCombiner.View> views, double[] q) {
        int k = q.length;
        double[] ratio = new double[k];
        for (int c = 0; c < k; c++) {
            ratio[c] = pg[c] / q[c];
        }
        for (KlCombiner.View v : views) {
            boolean[] in = new boolean[k];
            for (int i = 0; i < v.subset().length; i++) {
                in[v.subset()[i]] = true;
                ratio[v.subset()[i]] += v.p()[i] / q[v.subset()[i]];
            }
            double dustbin = 0;
            for (int c = 0; c < k; c++) {
                dustbin += in[c] ? 0 : q[c];
            }
            for (int c = 0; c < k; c++) {
                ratio[c] += in[c] ? 0 : v.p()[v.subset().length] / dustbin;
            }
        }
        for (int c = 0; c < k; c++) {
            ratio[c] /= views.size() + 1;
        }
        return ratio;
    }

    @Test
    void closedFormOnModelsAllButCertainAgainstEachOther() {
        // Disjoint specialists and a generalist that are sure (1 − e) of conflicting answers, e down
        // to 1e-30: the bracket for 1/λ then spans 30 orders of magnitude.
        KlCombiner reference = new KlCombiner(1e-16, 10_000_000);
        for (double e : new double[]{1e-3, 1e-6, 1e-10, 1e-16, 1e-30}) {
            List<double[]> generalists = List.of(new double[]{e, 1 - 2 * e, e}, new double[]{1 - 2 * e, e, e},
                    new double[]{0.5, e, 0.5 - e, e}, new double[]{e, e, e, 1 - 3 * e});
            List<List<KlCombiner.View>> specialists = List.of(
                    // sure of an uncovered class; both specialists sure of their dustbins
                    List.of(new KlCombiner.View(new int[]{0}, new double[]{e, 1 - e}),
                            new KlCombiner.View(new int[]{2}, new double[]{e, 1 - e})),
                    // sure of class 0, whose specialist is sure of its dustbin; the other sure of class 2
                    List.of(new KlCombiner.View(new int[]{0}, new double[]{e, 1 - e}),
                            new KlCombiner.View(new int[]{2}, new double[]{1 - e, e})),
                    // every class covered, each specialist sure of the other's subset
                    List.of(new KlCombiner.View(new int[]{0, 1}, new double[]{e, e, 1 - 2 * e}),
                            new KlCombiner.View(new int[]{2, 3}, new double[]{e, e, 1 - 2 * e})),
                    // all sure of class 3
                    List.of(new KlCombiner.View(new int[]{0}, new double[]{e, 1 - e}),
                            new KlCombiner.View(new int[]{3}, new double[]{1 - e, e})));
            for (int i = 0; i < generalists.size(); i++) {
                double[] pg = generalists.get(i);
                List<KlCombiner.View> views = specialists.get(i);
                KlCombiner.Result fast = KlCombiner.defaults().combine(pg, views);
                KlCombiner.Result slow = reference.combineIteratively(pg, views);
                String what = "case " + i + ", e " + e;
                assertTrue(fast.converged() && fast.iterations() <= 30, what + ": " + fast.iterations() + " Newton steps");
                assertTrue(slow.converged(), what);
                assertArrayEquals(slow.q(), fast.q(), 1e-15, what);
                double fFast = KlCombiner.objective(pg, views, fast.q());
                double fSlow = KlCombiner.objective(pg, views, slow.q());
                assertTrue(fFast <= fSlow + 1e-13 * Math.max(1, Math.abs(fSlow)) || fFast == fSlow, what + ": F " + fFast + " vs " + fSlow);
            }
        }
    }

    @Test
    void overlappingSubsetsStillSolveByIteration() {
        double[] pg = {0.5, 0.3, 0.2};
        List<KlCombiner.View> views = List.of(new KlCombiner.View(new int[]{2}, new double[]{0.5, 0.5}),
                new KlCombiner.View(new int[]{1, 2}, new double[]{0.1, 0.6, 0.3}));
        assertArrayEquals(solver.combineIteratively(pg, views).q(), solver.combine(pg, views).q());
    }

    @Test
    void noEvidenceAtAllIsAClearError() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> solver.combine(new double[]{0, 0, 0}, List.of(new KlCombiner.View(new int[]{1}, new double[]{0, 1}))));
        assertTrue(e.getMessage().contains("no probability"), e.getMessage());
    }

    private static int[] shuffled(SplittableRandom r, int k) {
        int[] order = java.util.stream.IntStream.range(0, k).toArray();
        for (int i = k - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** p_i ∝ exp(sharpness · z_i), z standard normal: 25 puts most classes below 1e-100. */
    private static double[] peaked(SplittableRandom r, int n, double sharpness) {
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = sharpness * r.nextGaussian();
        }
        return softmax(z);
    }

    static double[] random(SplittableRandom r, int n) {
        double[] p = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            p[i] = r.nextDouble() + 0.01;
            s += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= s;
        }
        return p;
    }

    static double[] softmax(double[] z) {
        return Specialist.softmaxRows(new double[][]{z})[0];
    }
}
