package darkknowledge.experiments;

/**
 * Models an experiment may reuse instead of training again (a path to a saved {@code teacher.zip}
 * from an earlier run, typically of {@code mnist-distillation}); empty means train it here. A reused
 * model's parameter hash goes into the run's provenance, so the result still names its input.
 *
 * @param teacher checkpoint of the teacher, or empty
 */
public record Inputs(String teacher) {
    public static Inputs none() {
        return new Inputs("");
    }
}
