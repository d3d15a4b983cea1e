package darkknowledge.experiments;

import darkknowledge.core.Check;
import darkknowledge.core.Provenance;
import darkknowledge.core.Seeds;
import darkknowledge.core.Sha256;
import darkknowledge.data.Sampling;
import darkknowledge.pipeline.RunData;

/**
 * Whether the student's transfer set is the teacher's own training images or images the teacher
 * never saw (Hinton et al. 2015, §2: "the transfer set ... could consist entirely of unlabeled
 * data or we could use the original training set"; §3 uses the training set). Tests the
 * hypothesis that soft targets carry more on images the teacher did not fit.
 *
 * <ul>
 *   <li>{@code all}: teacher, baseline and student train on the whole training split (the paper);</li>
 *   <li>{@code same}: the training split is cut into two halves of equal size by a seeded
 *       permutation (the same for every {@code run.seed}); teacher, baseline and student all train on
 *       the first;</li>
 *   <li>{@code other}: the teacher trains on the first half; the student is taught, and the baseline
 *       trained on hard labels, on the second, which the teacher never saw.</li>
 * </ul>
 * {@code same} and {@code other} train the same teacher (same rows, same seed; reuse one with
 * {@code inputs.teacher}), and their students and baselines see as many images; the baseline always
 * sees the student's images, so each student is measured against the same net on the same labels.
 *
 * @param half {@code all}, {@code same} or {@code other}
 */
public record Transfer(Half half) {

    /** Which images the student learns on, relative to the teacher's. */
    public enum Half { ALL, SAME, OTHER }

    /** The seed of the halves: fixed, like the validation split, so every seed shares one teacher. */
    static final long HALVES_SEED = new Seeds(RunData.SPLIT_MASTER_SEED).derive("transfer-halves");

    public Transfer {
        Check.that(half != null, "half", "must be all, same or other");
    }

    public static Transfer all() {
        return new Transfer(Half.ALL);
    }

    /** The data the teacher trains on and the data student and baseline train on. */
    record Split(RunData teacher, RunData student, String description) {
    }

    /**
     * Cuts {@code s} as {@link #half} says; the teacher's rows go into the provenance
     * ({@link RunData#TEACHER_ROWS_KEY}) before anything trains, so that a reused teacher is checked
     * against them.
     */
    Split split(RunData s, Provenance provenance) {
        int n = s.train().numExamples();
        if (half == Half.ALL) {
            return new Split(s, s, "all " + n + " training images (the teacher's)");
        }
        int[][] halves = Sampling.halves(n, HALVES_SEED);
        RunData teacher = s.withTrainRows(halves[0]);
        RunData student = half == Half.SAME ? teacher : s.withTrainRows(halves[1]);
        provenance.put("transfer.half", half.name().toLowerCase(java.util.Locale.ROOT))
                .put("transfer.halves_seed", Long.toString(HALVES_SEED))
                .put(RunData.TEACHER_ROWS_KEY, Sha256.begin().update(halves[0]).hex())
                .put("split.student_rows_sha256", Sha256.begin().update(halves[half == Half.SAME ? 0 : 1]).hex());
        return new Split(teacher, student, half == Half.SAME
                ? "same half: " + halves[0].length + " images, the teacher's"
                : "other half: " + halves[1].length + " images the teacher never saw");
    }
}
