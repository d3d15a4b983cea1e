package darkknowledge.core.engine;

import darkknowledge.core.AtomicFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a task runs: built by the engine on the executor, never shipped.
 *
 * @param stage      the stage the task belongs to
 * @param taskIndex  the task's index in its stage's list
 * @param attempt    0 on the first run; higher when the engine reruns the task (a lost executor)
 * @param executorId the engine's name for the executor ({@code local-1}, Spark's executor id)
 * @param host       the executor's host name
 * @param cores      cores (and BLAS threads) the executor gives one task
 * @param scratchDir a private directory of the executor for temporary files; may vanish afterwards
 * @param runDir     the driver's run directory: tasks ship their outputs back to the driver, which
 *                   writes them there; an executor that also sees it (in process, or shared storage
 *                   such as NFS) may keep checkpoints there ({@link #seesRunDir()})
 */
public record TaskContext(String stage, int taskIndex, int attempt, String executorId, String host, int cores,
                          Path scratchDir, Path runDir) {

    /** "executor 3 (host-a)": how errors name where they happened. */
    public String where() {
        return "executor " + executorId + " (" + host + ")";
    }

    /**
     * {@code path} if this executor can read it; otherwise a {@link TaskInputException} naming the
     * path and the executor (storage not mounted here, a wrong data directory), not a hang or a bare
     * {@code NoSuchFileException} deep in a loader.
     */
    public Path input(Path path) {
        if (!Files.exists(path)) {
            throw new TaskInputException("stage " + stage + " task " + taskIndex + " on " + where()
                    + " cannot see its input " + path.toAbsolutePath()
                    + ": no such file or directory (is it on storage that every executor mounts at the same path?)");
        }
        if (!Files.isReadable(path)) {
            throw new TaskInputException("stage " + stage + " task " + taskIndex + " on " + where()
                    + " cannot read its input " + path.toAbsolutePath() + ": permission denied");
        }
        return path;
    }

    /**
     * True when this executor sees the driver's run directory at its path and may write it (in
     * process, or a cluster on shared storage): then a task may keep its checkpoints there, so that
     * a rerun on another executor resumes mid-training. Never required: without it checkpoints stay
     * in {@link #scratchDir()} and a lost task starts over (with the same result).
     */
    public boolean seesRunDir() {
        return Files.isDirectory(runDir) && Files.isWritable(runDir);
    }

    /** {@code runDir/relative}; the run directory must exist and be writable from this executor. */
    public Path output(String relative) {
        requireRunDir();
        Path out = runDir.resolve(relative).normalize();
        if (!out.startsWith(runDir.normalize())) {
            throw new IllegalArgumentException("output " + relative + " is outside the run directory " + runDir);
        }
        return out;
    }

    /**
     * Writes {@code runDir/relative} all-or-nothing (temporary file beside it, then atomic rename):
     * a reader, or a rerun of this task after its executor was lost mid-write, never sees half a file.
     */
    public Path writeOutput(String relative, AtomicFiles.Writer writer) {
        Path out = output(relative);
        AtomicFiles.write(out, writer);
        return out;
    }

    /** Fails naming the run directory and the executor unless the run directory is a writable directory here. */
    public void requireRunDir() {
        if (!Files.isDirectory(runDir)) {
            throw new TaskInputException("stage " + stage + " task " + taskIndex + " on " + where()
                    + " cannot see the run directory " + runDir.toAbsolutePath()
                    + " (is it on storage that every executor mounts at the same path?)");
        }
        if (!Files.isWritable(runDir)) {
            throw new TaskInputException("stage " + stage + " task " + taskIndex + " on " + where()
                    + " cannot write the run directory " + runDir.toAbsolutePath() + ": permission denied");
        }
    }
}
