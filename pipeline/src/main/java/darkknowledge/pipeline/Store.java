package darkknowledge.pipeline;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.RunRecord;
import darkknowledge.generalist.Checkpoints;
import darkknowledge.generalist.Classifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The one place a trained model (or any stage output) is kept and found again. An entry is named by
 * its stage and keyed by the hash of its inputs (the stage's own config text and the hashes of the
 * entries it reads), as in DVC or Kedro: an entry whose {@code <name>.done.properties} exists
 * (written last, atomically, after everything it describes) is reused; one without it is redone,
 * its trainings resuming from their per-epoch checkpoints in the entry's {@code checkpoints/}.
 *
 * <p>Two layouts, one mechanism:
 * <ul>
 * <li>{@link #shared}: {@code <root>/<stage>/<hash>/}, reused by every later run with the same inputs
 *     (the pipeline's stages); {@code from} names the first stage to redo regardless, with every
 *     stage after it.
 * <li>{@link #inRun}: every entry lives in the run directory itself ({@code <run>/<name>.zip}); a
 *     resumed run ({@code ./dk run --resume}) finds what it finished before.
 * </ul>
 */
public final class Store {
    private final Path root;
    private final boolean flat;
    private final List<String> order;
    private final String from;

    private Store(Path root, boolean flat, List<String> order, String from) {
        if (!from.isEmpty() && !order.contains(from)) {
            throw new ConfigException("stages.from: expected one of " + order + " or empty, got '" + from + "'");
        }
        this.root = root;
        this.flat = flat;
        this.order = order;
        this.from = from;
    }

    /** Entries under {@code root/<stage>/<hash>/}, stages in {@code order}, redone from {@code from} on. */
    public static Store shared(Path root, List<String> order, String from) {
        return new Store(root, false, order, from);
    }

    /** Entries in the run directory itself: a resumed run reuses the models it finished. */
    public static Store inRun(Path runDir) {
        return new Store(runDir, true, List.of(), "");
    }

    /**
     * One entry: its directory, the hash of its inputs and its completion record.
     *
     * @param name stage (shared store) or model name (run store)
     */
    public record Entry(String name, String hash, Path dir) {
        public boolean done() {
            return Files.isRegularFile(doneFile());
        }

        /** What {@link #complete} recorded; an error naming the file when the entry is not done. */
        public SortedMap<String, String> info() {
            return RunRecord.readProperties(doneFile());
        }

        /** Marks the entry complete; everything it wrote must already be in place. */
        public void complete(SortedMap<String, String> info) {
            AtomicFiles.writeString(doneFile(), Configs.toText(info));
        }

        /** Where model {@code model} of this entry is saved. */
        public Path model(String model) {
            return dir.resolve(model + ".zip");
        }

        /** Per-epoch checkpoints of the trainings of this entry. */
        public Checkpoints checkpoints() {
            return new Checkpoints(dir.resolve("checkpoints"));
        }

        Path doneFile() {
            return dir.resolve(name + ".done.properties");
        }

        /**
         * The saved model {@code model}, checked against the SHA-256 this entry recorded for it
         * ({@code sha256} or {@code <model>.sha256}).
         */
        public Classifier loadModel(String model) {
            return loadModel(model, true);
        }

        /** {@link #loadModel} without the optimiser state: a model only used for predictions (a specialist). */
        public Classifier loadModelForInference(String model) {
            return loadModel(model, false);
        }

        private Classifier loadModel(String model, boolean withUpdater) {
            Path file = model(model);
            SortedMap<String, String> info = info();
            String expected = info.getOrDefault(model + ".sha256", info.get("sha256"));
            Classifier c = withUpdater ? Classifier.load(file) : Classifier.loadForInference(file);
            if (expected != null && !c.fingerprint().equals(expected)) {
                throw new IllegalStateException(file + ": expected parameters with SHA-256 " + expected
                        + " (recorded in " + doneFile() + "), found " + c.fingerprint());
            }
            return c;
        }

        /** Saves {@code model} and completes the entry with {@code info} plus the model's SHA-256. */
        public void completeWith(String model, Classifier trained, SortedMap<String, String> info) {
            trained.save(model(model));
            SortedMap<String, String> all = new TreeMap<>(info);
            all.put("sha256", trained.fingerprint());
            complete(all);
            checkpoints().clear(model);
        }
    }

    /** The entry {@code name} for these inputs (config text and upstream hashes). */
    public Entry open(String name, String... inputs) {
        String hash = darkknowledge.core.Sha256.of(name + "\n" + String.join("\n", inputs)).substring(0, 12);
        if (flat) {
            return new Entry(name, hash, root);
        }
        if (!order.contains(name)) {
            throw new IllegalArgumentException("unknown stage " + name + "; stages are " + order);
        }
        Path dir = root.resolve(name).resolve(hash);
        try {
            if (!from.isEmpty() && order.indexOf(name) >= order.indexOf(from) && Files.exists(dir)) {
                AtomicFiles.deleteTree(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare stage directory " + dir, e);
        }
        return new Entry(name, hash, dir);
    }
}
