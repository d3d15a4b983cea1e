package darkknowledge.specialists;

import java.util.List;

/**
 * The §5.4 combination of a generalist with the specialists active on one example: the full
 * distribution {@code q = softmax(z)} over all K classes that minimises
 * <pre>
 *   F(q) = KL(p^g ‖ q) + Σ_m KL(p^m ‖ q^m)
 * </pre>
 * where {@code p^g} is the generalist's distribution, {@code p^m} specialist m's distribution over its
 * subset {@code S_m} plus dustbin, and {@code q^m} is q seen by specialist m: {@code q^m_c = q_c} for
 * c ∈ S_m and {@code q^m_dustbin = Σ_{c∉S_m} q_c}.
 *
 * <p>Gradient with respect to the logits (J = 1 + number of specialists, {@code G_j(k)} the group of
 * class k in model j: k itself, or the dustbin, and {@code Q^j} its mass under q):
 * <pre>  ∂F/∂z_k = J·q_k − Σ_j p^j_{G_j(k)} · q_k / Q^j_{G_j(k)}.</pre>
 * Setting it to zero gives the fixed point used here, an EM iteration for grouped multinomial data
 * (each dustbin's mass is shared among its classes in proportion to the current q):
 * <pre>  q_k ← (1/J) · Σ_j p^j_{G_j(k)} · q_k / Q^j_{G_j(k)},</pre>
 * which never increases F and converges to its minimum (F is convex in q on the simplex). Started at
 * p^g; stops when no q_k moves by more than
 * {@code tolerance} or after {@code maxIterations}. With no specialist the answer is p^g itself; when
 * every model covers every class it is the arithmetic mean of the distributions.
 */
public final class KlCombiner {
    private final double tolerance;
    private final int maxIterations;

    public KlCombiner(double tolerance, int maxIterations) {
        if (!(tolerance > 0) || maxIterations < 1) {
            throw new IllegalArgumentException("tolerance must be > 0 and maxIterations >= 1; got " + tolerance
                    + ", " + maxIterations);
        }
        this.tolerance = tolerance;
        this.maxIterations = maxIterations;
    }

    public static KlCombiner defaults() {
        return new KlCombiner(1e-7, 2000);
    }

    /** One specialist's view: its subset (class ids) and its distribution over subset + dustbin (last). */
    public record View(int[] subset, double[] p) {
        public View {
            if (p.length != subset.length + 1) {
                throw new IllegalArgumentException("a specialist of " + subset.length + " classes gives "
                        + (subset.length + 1) + " probabilities, got " + p.length);
            }
        }
    }

    /** The combined distribution and how the solve went. */
    public record Result(double[] q, int iterations, boolean converged) {
    }

    public Result combine(double[] generalist, List<View> specialists) {
        int k = generalist.length;
        if (specialists.isEmpty()) {
            return new Result(generalist.clone(), 0, true);
        }
        // Reduction: a class in no active subset is, for every specialist, part of its dustbin, so
        // only the generalist tells such classes apart and at the optimum q keeps the generalist's
        // proportions among them (their fixed-point equations differ only by p^g_k). They become one
        // variable O; the solve runs over (union of active subsets) + O, and O's mass is then shared
        // out in proportion to p^g. Exact, and it removes the slow EM mode in which mass drifts
        // between classes only the generalist distinguishes.
        int[] index = new int[k];
        java.util.Arrays.fill(index, -1);
        int u = 0;
        int[] union = new int[k];
        List<View> reduced = new java.util.ArrayList<>(specialists.size());
        for (View v : specialists) {
            int[] mapped = new int[v.subset().length];
            for (int i = 0; i < mapped.length; i++) {
                int c = v.subset()[i];
                if (index[c] < 0) {
                    union[u] = c;
                    index[c] = u++;
                }
                mapped[i] = index[c];
            }
            reduced.add(new View(mapped, v.p()));
        }
        double outside = 0;
        for (int c = 0; c < k; c++) {
            if (index[c] < 0) {
                outside += generalist[c];
            }
        }
        boolean hasOutside = u < k;
        double[] g = new double[u + (hasOutside ? 1 : 0)];
        for (int i = 0; i < u; i++) {
            g[i] = generalist[union[i]];
        }
        if (hasOutside) {
            g[u] = outside;
        }
        Result r = solve(g, reduced);
        double[] q = new double[k];
        for (int c = 0; c < k; c++) {
            q[c] = index[c] >= 0 ? r.q()[index[c]]
                    : outside > 0 ? r.q()[u] * generalist[c] / outside : r.q()[u] / (k - u);
        }
        return new Result(q, r.iterations(), r.converged());
    }

    /**
     * The EM fixed point on an already reduced problem (k = union of the active subsets + 1).
     * Each specialist's dustbin mass is {@code Σ q − Σ_{S_m} q}, O(|S_m|); only when that difference
     * would lose more than a millionth of itself to cancellation (the subset holds all but 1e-6 of
     * the mass) is it summed directly over the classes outside {@code S_m}, which are then listed once.
     */
    private Result solve(double[] generalist, List<View> specialists) {
        int k = generalist.length;
        int j = specialists.size() + 1;
        int[][] outsideOf = new int[specialists.size()][];
        double[] q = generalist.clone();
        double[] next = new double[k];
        int iterations = 0;
        boolean converged = false;
        while (iterations < maxIterations) {
            iterations++;
            double total = 0;
            for (int c = 0; c < k; c++) {
                total += q[c];
            }
            // Specialist m gives class c its own p^m_c if c ∈ S_m, else share_m·q_c with
            // share_m = p^m_dustbin / Q^m_out. Summing share_m over all m once and subtracting it for the
            // subset members keeps the update itself O(k + Σ|S_m|).
            double totalShare = 0;
            for (int m = 0; m < outsideOf.length; m++) {
                View v = specialists.get(m);
                double inside = 0;
                for (int c : v.subset()) {
                    inside += q[c];
                }
                double outside = total - inside;
                if (outside < 1e-6 * total) {
                    // 1 − Σ_subset q cancels to 0 when the subset holds nearly all the mass, and the
                    // dustbin's share then explodes: sum the outside classes directly.
                    if (outsideOf[m] == null) {
                        outsideOf[m] = outsideClasses(v.subset(), k);
                    }
                    outside = 0;
                    for (int c : outsideOf[m]) {
                        outside += q[c];
                    }
                }
                double share = v.p()[v.subset().length] / Math.max(outside, Double.MIN_NORMAL);
                totalShare += share;
                for (int i = 0; i < v.subset().length; i++) {
                    int c = v.subset()[i];
                    next[c] += v.p()[i] - share * q[c];
                }
            }
            double sum = 0;
            for (int c = 0; c < k; c++) {
                next[c] = (next[c] + generalist[c] + totalShare * q[c]) / j;
                sum += next[c];
            }
            double delta = 0;
            for (int c = 0; c < k; c++) {
                next[c] /= sum;
                delta = Math.max(delta, Math.abs(next[c] - q[c]));
            }
            double[] t = q;
            q = next;
            next = t;
            java.util.Arrays.fill(next, 0);
            if (delta < tolerance) {
                converged = true;
                break;
            }
        }
        return new Result(q, iterations, converged);
    }

    private static int[] outsideClasses(int[] subset, int k) {
        boolean[] in = new boolean[k];
        for (int c : subset) {
            in[c] = true;
        }
        int[] out = new int[k - subset.length];
        int n = 0;
        for (int c = 0; c < k; c++) {
            if (!in[c]) {
                out[n++] = c;
            }
        }
        return n == out.length ? out : java.util.Arrays.copyOf(out, n);
    }

    /** F(q) = KL(p^g ‖ q) + Σ_m KL(p^m ‖ q^m). */
    public static double objective(double[] generalist, List<View> specialists, double[] q) {
        double f = kl(generalist, q);
        for (View v : specialists) {
            f += kl(v.p(), project(v.subset(), q));
        }
        return f;
    }

    /** ∂F/∂z at {@code q = softmax(z)}. */
    public static double[] gradient(double[] generalist, List<View> specialists, double[] q) {
        int k = q.length;
        double[] g = new double[k];
        for (int c = 0; c < k; c++) {
            g[c] = q[c] - generalist[c];
        }
        for (View v : specialists) {
            double[] qm = project(v.subset(), q);
            double dustbinRatio = v.p()[v.subset().length] / qm[v.subset().length];
            double[] ratio = new double[k];
            java.util.Arrays.fill(ratio, dustbinRatio);
            for (int i = 0; i < v.subset().length; i++) {
                ratio[v.subset()[i]] = v.p()[i] / qm[i];
            }
            for (int c = 0; c < k; c++) {
                g[c] += q[c] - ratio[c] * q[c];
            }
        }
        return g;
    }

    /** q as specialist {@code subset} sees it: subset classes then the dustbin's total. */
    static double[] project(int[] subset, double[] q) {
        double[] out = new double[subset.length + 1];
        double inside = 0;
        for (int i = 0; i < subset.length; i++) {
            out[i] = q[subset[i]];
            inside += q[subset[i]];
        }
        out[subset.length] = Math.max(0, 1 - inside);
        return out;
    }

    static double kl(double[] p, double[] q) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                s += p[i] * (Math.log(p[i]) - Math.log(q[i]));
            }
        }
        return s;
    }
}
