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

    /**
     * Refuses an {@code inputs.teacher} of {@code experimentConfig} that names no file, when a config
     * is resolved or a run resumed: before a run directory is made or a resumed run's records are
     * touched, so that a run which could only fail at its first step leaves nothing behind. A
     * relative path is read against the working directory, the repository's root under {@code ./dk},
     * as the teacher is loaded.
     */
    static void requireExisting(Record experimentConfig) {
        for (var c : experimentConfig.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(experimentConfig);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot read " + c.getName() + " of " + experimentConfig, e);
            }
            if (v instanceof Inputs in && !in.teacher().isBlank()
                    && !java.nio.file.Files.isRegularFile(java.nio.file.Path.of(in.teacher()))) {
                throw new darkknowledge.core.ConfigException(c.getName() + ".teacher: checkpoint not found: "
                        + java.nio.file.Path.of(in.teacher()).toAbsolutePath() + " (a teacher.zip saved by an earlier run; "
                        + "saved models are not committed, so one from another machine must be trained again here)");
            }
        }
    }
}
