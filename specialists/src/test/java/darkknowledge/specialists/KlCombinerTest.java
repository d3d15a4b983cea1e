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
