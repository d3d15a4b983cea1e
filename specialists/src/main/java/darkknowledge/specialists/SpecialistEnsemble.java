package darkknowledge.specialists;

import darkknowledge.generalist.Classifier;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Generalist plus specialists at inference (§5.4): for each example, the generalist's {@code topN}
 * most probable classes select the active specialists (those whose subset contains one of them),
 * and {@link KlCombiner} turns the generalist's and the active specialists' distributions into one.
 * Specialists run only on the examples they are active for.
 */
public final class SpecialistEnsemble {
    private final Classifier generalist;
    private final List<Specialist> specialists;
    private final int topN;
    private final KlCombiner combiner;

    public SpecialistEnsemble(Classifier generalist, List<Specialist> specialists, int topN, KlCombiner combiner) {
        if (topN < 1) {
            throw new IllegalArgumentException("topN: expected >= 1, got " + topN);
        }
        this.generalist = generalist;
        this.specialists = List.copyOf(specialists);
        this.topN = topN;
        this.combiner = combiner;
    }

    /** Combined distributions, the active specialists of each example and solver statistics. */
    public record Combined(double[][] q, int[][] active, int maxIterations, int unconverged) {
        public int[] predictions() {
            int[] out = new int[q.length];
            for (int i = 0; i < q.length; i++) {
                int best = 0;
                for (int c = 1; c < q[i].length; c++) {
                    if (q[i][c] > q[i][best]) {
                        best = c;
                    }
                }
                out[i] = best;
            }
            return out;
        }
    }

    public Combined combine(INDArray x) {
        int n = (int) x.rows();
        double[][] pg = Specialist.softmaxRows(generalist.logits(x).castTo(DataType.DOUBLE).toDoubleMatrix());
        int k = generalist.numClasses();
        List<List<Integer>> activeLists = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            activeLists.add(new ArrayList<>());
        }
        int[][] tops = new int[n][];
        for (int i = 0; i < n; i++) {
            tops[i] = top(pg[i], topN);
        }
        int[][] subsets = specialists.stream().map(Specialist::subset).toArray(int[][]::new);
        double[][][] views = new double[specialists.size()][][];
        int[][] rowInView = new int[specialists.size()][];
        for (int m = 0; m < specialists.size(); m++) {
            boolean[] in = new boolean[k];
            for (int c : subsets[m]) {
                in[c] = true;
            }
            List<Integer> rows = new ArrayList<>();
            rowInView[m] = new int[n];
            for (int i = 0; i < n; i++) {
                rowInView[m][i] = -1;
                for (int c : tops[i]) {
                    if (in[c]) {
                        rowInView[m][i] = rows.size();
                        rows.add(i);
                        activeLists.get(i).add(m);
                        break;
                    }
                }
            }
            if (!rows.isEmpty()) {
                views[m] = specialists.get(m).probabilities(x.getRows(rows.stream().mapToInt(Integer::intValue).toArray()));
            }
        }
        double[][] q = new double[n][];
        int[][] active = new int[n][];
        KlCombiner.Result[] results = new KlCombiner.Result[n];
        // Examples are independent problems and KlCombiner is stateless: solve them on every core
        // (each writes only its own slots, so the result does not depend on the scheduling).
        java.util.stream.IntStream.range(0, n).parallel().forEach(i -> {
            List<KlCombiner.View> v = new ArrayList<>();
            for (int m : activeLists.get(i)) {
                v.add(new KlCombiner.View(subsets[m], views[m][rowInView[m][i]]));
            }
            results[i] = combiner.combine(pg[i], v);
            q[i] = results[i].q();
            active[i] = activeLists.get(i).stream().mapToInt(Integer::intValue).toArray();
        });
        int maxIter = java.util.Arrays.stream(results).mapToInt(KlCombiner.Result::iterations).max().orElse(0);
        int unconverged = (int) java.util.Arrays.stream(results).filter(r -> !r.converged()).count();
        return new Combined(q, active, maxIter, unconverged);
    }

    /** Indices of the {@code n} largest entries of {@code p}. */
    static int[] top(double[] p, int n) {
        int m = Math.min(n, p.length);
        int[] best = new int[m];
        boolean[] used = new boolean[p.length];
        for (int t = 0; t < m; t++) {
            int b = -1;
            for (int c = 0; c < p.length; c++) {
                if (!used[c] && (b < 0 || p[c] > p[b])) {
                    b = c;
                }
            }
            used[b] = true;
            best[t] = b;
        }
        return best;
    }
}
