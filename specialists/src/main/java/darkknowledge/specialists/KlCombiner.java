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
 *
 * <p>When the active specialists' subsets are disjoint (the paper's K-means clusters) the fixed point
 * is solved in closed form up to one scalar found by Newton's method ({@code combineDisjoint}),
 * exact to rounding and O(k + Σ|S_m|) per example, 3 to 4 Newton steps on the bench's problems
 * against the iteration's 5 passes over all classes; overlapping subsets use the iteration.
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
        // One pass over the subsets: mark each class's owner (a second owner means overlap) and sum
        // the generalist's and the specialist's probabilities on the subset.
        int n = specialists.size();
        boolean[] owned = new boolean[k];
        double[] inside = new double[n];
        double[] s = new double[n];
        double[] d = new double[n];
        double total = 0;
        double smallest = Double.POSITIVE_INFINITY;
        boolean overlap = false;
        for (int m = 0; m < n; m++) {
            View v = specialists.get(m);
            int[] subset = v.subset();
            double[] p = v.p();
            double g = 0;
            double sp = 0;
            for (int i = 0; i < subset.length; i++) {
                int c = subset[i];
                overlap |= owned[c];
                owned[c] = true;
                g += generalist[c];
                sp += p[i];
            }
            inside[m] = g;
            s[m] = g + sp;
            d[m] = p[subset.length];
            total += sp + d[m];
            if (s[m] > 0) {
                smallest = Math.min(smallest, s[m]);
            }
        }
        if (overlap) {
            return combineIteratively(generalist, specialists);
        }
        // Σ p^g and its part outside every subset, in two interleaved sums each (the additions of
        // one sum wait for each other).
        double all0 = 0;
        double all1 = 0;
        double out0 = 0;
        double out1 = 0;
        int c = 0;
        for (; c + 1 < k; c += 2) {
            all0 += generalist[c];
            all1 += generalist[c + 1];
            out0 += owned[c] ? 0 : generalist[c];  // selects, not branches: subsets are scattered
            out1 += owned[c + 1] ? 0 : generalist[c + 1];
        }
        if (c < k) {
            all0 += generalist[c];
            out0 += owned[c] ? 0 : generalist[c];
        }
        return combineDisjoint(generalist, specialists, inside, s, d, all0 + all1, out0 + out1, total + all0 + all1,
                smallest);
    }

    /**
     * Disjoint subsets (the paper's specialists, and ours unless {@code clustering.overlap} > 0): the
     * optimum in closed form up to one scalar. Write {@code a_m = p^m_dustbin / Q^m_dustbin} and
     * {@code λ = T − Σ_m a_m} with {@code T = Σ p^g + Σ_m Σ p^m} (= J). The stationarity conditions
     * (the fixed point above, with the normalisation's multiplier equal to T) give
     * <pre>
     *   q_c = p^g_c / λ                      for c in no subset (mass Q_O = G_O / λ, G_O = Σ_O p^g)
     *   q_c = (p^g_c + p^m_c) / t_m          for c ∈ S_m,  t_m = λ + a_m,
     * </pre>
     * so subset S_m holds {@code Q_m = s_m / t_m} with {@code s_m = Σ_{S_m} (p^g + p^m)}, and
     * {@code a_m = d_m / (1 − Q_m)} (d_m the dustbin probability) makes {@code u_m = t_m − s_m > 0}
     * the positive root of {@code u² + (s_m − λ − d_m)·u − s_m·d_m = 0}. Every Q is then a decreasing
     * function of λ, and λ is the one root of {@code Σ Q(λ) = 1}, found by Newton's method kept
     * inside a bracket: {@code λ ≤ T} (the a_m are ≥ 0) and {@code λ ≥ G_O} (Q_O ≤ 1). The sum is
     * written as {@code Σ_{other atoms} Q − (1 − Q_*)} with * the atom of most evidence and
     * {@code 1 − Q_m = u_m / t_m}, so that a subset holding all but 1e-18 of the mass leaves the
     * others' tiny masses exact rather than lost to 1 − Q cancelling. O(k + Σ|S_m|) per example.
     *
     * <p>{@code inside} holds Σ_{S_m} p^g, {@code s} the s_m, {@code d} the d_m, {@code smallest}
     * the smallest positive s_m; {@code outside} is G_O and {@code total} T.
     */
    private static Result combineDisjoint(double[] generalist, List<View> specialists, double[] inside, double[] s,
                                          double[] d, double generalistTotal, double outside, double total,
                                          double smallest) {
        int k = generalist.length;
        int n = specialists.size();
        // The atom with the most evidence: -1 for the classes outside every subset.
        int star = -1;
        double most = outside;
        int positive = outside > 0 ? 1 : 0;
        for (int m = 0; m < n; m++) {
            if (s[m] > 0) {
                positive++;
            }
            if (s[m] > most) {
                most = s[m];
                star = m;
            }
        }
        if (positive == 0) {
            throw new IllegalArgumentException("§5.4 solver: the generalist and the " + n
                    + " active specialists give no probability to any class");
        }
        double[] q = new double[k];
        if (positive == 1) {
            // One atom holds all the evidence, so all the mass: its classes in proportion to it.
            if (star < 0) {
                for (int c = 0; c < k; c++) {
                    q[c] = generalist[c] / outside;
                }
            } else {
                View v = specialists.get(star);
                for (int i = 0; i < v.subset().length; i++) {
                    q[v.subset()[i]] = (generalist[v.subset()[i]] + v.p()[i]) / s[star];
                }
            }
            return new Result(q, 0, true);
        }
        // Newton's method on x, kept inside a bracket [lo, hi] where f(x) changes sign, f increasing.
        // With classes outside every subset λ lies in [G_O, T] and x = 1/λ, in which their mass G_O·x is
        // linear (in λ it is a hyperbola that Newton crosses only by halving the bracket, some 40 times
        // when the generalist and a specialist disagree); else x = λ, bracketed below by doubling.
        boolean inverse = outside > 0;
        double lo;
        double hi;
        if (inverse) {
            lo = 1 / total;
            hi = 1 / outside;
        } else {
            hi = total;
            lo = -1;
            for (int expand = 0; residual(lo, outside, s, d, star, null) < 0; expand++) {
                if (expand > 1100) {
                    throw new IllegalStateException("§5.4 solver: no lower bracket for λ (T = " + total + ")");
                }
                lo *= 2;
            }
        }
        // Start from one fixed-point step taken at q = p^g, where a_m = d_m / (1 − G_m): Q_O = G_O·(1 + Σ a_m)/T,
        // that is 1/λ = (1 + Σ a_m)/T; or λ = T − Σ a_m.
        double shares = 0;
        for (int m = 0; m < n; m++) {
            shares += d[m] / Math.max(generalistTotal - inside[m], Double.MIN_NORMAL);
        }
        double x = inverse ? (1 + shares) / total : total - shares;
        if (!(x > lo && x < hi)) {
            x = lo + 0.5 * (hi - lo);
        }
        double[] slope = new double[1];
        int iterations = 0;
        boolean converged = false;
        double step = hi - lo;
        double stepBefore = step;
        while (iterations < MAX_NEWTON) {
            iterations++;
            double lambda = inverse ? 1 / x : x;
            double r = residual(lambda, outside, s, d, star, slope);
            double f = inverse ? r : -r;
            double df = inverse ? -slope[0] * lambda * lambda : -slope[0];
            if (f == 0) {
                converged = true;
                break;
            }
            if (f < 0) {
                lo = x;
            } else {
                hi = x;
            }
            double next = x - f / df;
            // Exact enough once the step is a few ulps: of 1/λ, which fixes G_O/λ and t_m = λ + a_m ≥ λ
            // to as many digits; of λ (or, near 0, of the smallest s_m < t_m) without outside classes.
            double scale = inverse ? x : Math.max(Math.abs(x), smallest);
            if (Math.abs(next - x) <= 4 * Math.ulp(scale)) {
                x = next;
                converged = true;
                break;
            }
            // Newton's step unless it leaves the bracket or is not half the step before last (as in
            // Numerical Recipes' rtsafe: where f bends sharply, as 1/x does, Newton creeps, doubling
            // its distance each step); then the bracket is halved, in its logarithm when it spans
            // orders of magnitude (1/λ up to 1/G_O, 1e30 when a model is all but certain against the rest).
            if (!(next > lo && next < hi) || Math.abs(next - x) > 0.5 * stepBefore) {
                next = inverse && hi > 4 * lo ? Math.sqrt(lo) * Math.sqrt(hi) : lo + 0.5 * (hi - lo);
                if (!(next > lo && next < hi)) {
                    converged = true;  // the bracket is down to adjacent doubles
                    break;
                }
            }
            stepBefore = step;
            step = Math.abs(next - x);
            x = next;
        }
        double lambda = inverse ? 1 / x : x;
        double scale = inverse ? x : 0;
        for (int c = 0; c < k; c++) {
            q[c] = generalist[c] * scale;
        }
        for (int m = 0; m < n; m++) {
            View v = specialists.get(m);
            double t = s[m] + root(s[m], d[m], lambda);
            int[] subset = v.subset();
            double[] p = v.p();
            for (int i = 0; i < subset.length; i++) {
                q[subset[i]] = s[m] > 0 ? (generalist[subset[i]] + p[i]) / t : 0;
            }
        }
        return new Result(q, iterations, converged);
    }

    private static final int MAX_NEWTON = 200;

    /** u = t − s ≥ 0, the larger root of u² + (s − λ − d)·u − s·d = 0, without cancellation. */
    private static double root(double s, double d, double lambda) {
        double b = s - lambda - d;
        double r = Math.sqrt(b * b + 4 * s * d);
        return b > 0 ? 2 * s * d / (b + r) : 0.5 * (r - b);
    }

    /**
     * {@code Σ_{atoms ≠ *} Q(λ) − (1 − Q_*(λ))}, decreasing in λ; its derivative goes to
     * {@code slope[0]} when slope is given. dt_m/dλ = u_m / √(b² + 4 s_m d_m).
     */
    private static double residual(double lambda, double outside, double[] s, double[] d, int star, double[] slope) {
        double r = 0;
        double dr = 0;
        if (outside > 0) {
            r += star < 0 ? -(lambda - outside) / lambda : outside / lambda;
            dr -= outside / (lambda * lambda);
        }
        for (int m = 0; m < s.length; m++) {
            if (s[m] == 0) {
                continue;
            }
            double b = s[m] - lambda - d[m];
            double sq = Math.sqrt(b * b + 4 * s[m] * d[m]);
            double u = b > 0 ? 2 * s[m] * d[m] / (b + sq) : 0.5 * (sq - b);
            double t = s[m] + u;
            r += m == star ? -u / t : s[m] / t;
            dr -= sq > 0 ? s[m] * (u / sq) / (t * t) : 0;
        }
        if (slope != null) {
            slope[0] = dr;
        }
        return r;
    }

    /**
     * The fixed-point iteration below on any subsets, overlapping or not: the solver for overlapping
     * subsets, and the reference the closed form is tested against.
     */
    Result combineIteratively(double[] generalist, List<View> specialists) {
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
