package darkknowledge.experiments;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Configs;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;

/**
 * The stages of a multi-stage experiment, each kept in {@code <root>/<stage>/<hash>/} where the hash
 * covers the stage's own config and its inputs' hashes. A stage whose directory holds a
 * {@code done.properties} (written last, atomically) is reused by any later run with the same
 * inputs; a killed stage has no such file and is redone, resuming its trainings from their
 * checkpoints. {@code from} names the first stage to redo regardless, with everything after it.
 */
final class Stages {
    static final String DONE = "done.properties";

    private final Path root;
    private final List<String> order;
    private final String from;

    Stages(Path root, List<String> order, String from) {
        if (!from.isEmpty() && !order.contains(from)) {
            throw new darkknowledge.core.ConfigException("stages.from: expected one of " + order + " or empty, got '"
                    + from + "'");
        }
        this.root = root;
        this.order = order;
        this.from = from;
    }

    /** One stage's directory and completion record. */
    record Stage(String name, String hash, Path dir) {
        boolean done() {
            return Files.isRegularFile(dir.resolve(DONE));
        }

        SortedMap<String, String> info() {
            return RunRecord.readProperties(dir.resolve(DONE));
        }

        /** Marks the stage complete; everything it wrote must already be in place. */
        void complete(SortedMap<String, String> info) {
            AtomicFiles.writeString(dir.resolve(DONE), Configs.toText(info));
        }
    }

    /** The stage {@code name} for these inputs (config text and upstream hashes). */
    Stage open(String name, String... inputs) {
        if (!order.contains(name)) {
            throw new IllegalArgumentException("unknown stage " + name);
        }
        String hash = Sha256.of(name + "\n" + String.join("\n", inputs)).substring(0, 12);
        Path dir = root.resolve(name).resolve(hash);
        Stage s = new Stage(name, hash, dir);
        try {
            if (!from.isEmpty() && order.indexOf(name) >= order.indexOf(from) && Files.exists(dir)) {
                AtomicFiles.deleteTree(dir);
            }
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare stage directory " + dir, e);
        }
        return s;
    }
}
