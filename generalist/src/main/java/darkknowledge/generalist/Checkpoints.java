package darkknowledge.generalist;

import darkknowledge.core.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training checkpoints, one per model, written after every epoch (or once a minimum time has passed
 * since the last, {@link #Checkpoints(Path, double)}) so a killed run continues where it stopped. A checkpoint is two files: {@code <model>.e<epoch>.ckpt} (parameters, optimiser state and
 * the best parameters so far, ND4J binary) and {@code <model>.ckpt.properties} (epoch, best epoch,
 * history), written in that order, each atomically. The properties file is the commit point: a
 * data file it does not name is ignored, so a checkpoint interrupted half-way is never taken for a
 * good one. The data order, jitter and dropout masks of an epoch depend only on the seed and the
 * epoch number, so a resumed training ends where an uninterrupted one does.
 */
public final class Checkpoints {
    private static final String MAGIC = "dark-knowledge-checkpoint-1";

    private final Path dir;
    private final double minSeconds;

    /** Checkpoints after every epoch. */
    public Checkpoints(Path dir) {
        this(dir, 0);
    }

    /**
     * Checkpoints after an epoch only once {@code minSeconds} of training have passed since the last
     * one (or the start): for many short trainings (specialists), where writing a checkpoint can
     * cost more than the epoch. A training killed before its first checkpoint starts again from
     * epoch 0, which reaches the same parameters.
     */
    public Checkpoints(Path dir, double minSeconds) {
        if (!(minSeconds >= 0)) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0 seconds, got " + minSeconds);
        }
        this.dir = dir;
        this.minSeconds = minSeconds;
    }

    /** Whether a training {@code secondsSinceLast} seconds past its last checkpoint (or start) writes one now. */
    boolean due(double secondsSinceLast) {
        return secondsSinceLast >= minSeconds;
    }

    public Path dir() {
        return dir;
    }

    /** What a checkpoint restores besides the network. */
    public record State(int epochsDone, int bestEpoch, int bestErrors, double trainSeconds,
                        List<Trainer.EpochReport> history, INDArray best) {
    }

    Path stateFile(String model) {
        return dir.resolve(model + ".ckpt.properties");
    }

    /** Saves the state after {@code epochsDone} epochs and removes the previous checkpoint's data file. */
    void save(String model, MultiLayerNetwork net, State s) {
        Path data = dir.resolve(String.format(Locale.ROOT, "%s.e%04d.ckpt", model, s.epochsDone()));
        Path state = stateFile(model);
        Optional<String> previous = Files.isRegularFile(state)
                ? Optional.ofNullable(read(state).getProperty("data")) : Optional.empty();
        AtomicFiles.write(data, out -> {
            DataOutputStream d = new DataOutputStream(out);
            d.writeUTF(MAGIC);
            d.writeInt(net.getIterationCount());
            d.writeInt(net.getEpochCount());
            Nd4j.write(net.params(), d);
            INDArray updater = net.getUpdater().getStateViewArray();
            d.writeBoolean(updater != null);
            if (updater != null) {
                Nd4j.write(updater, d);
            }
            d.writeBoolean(s.best() != null);
            if (s.best() != null) {
                Nd4j.write(s.best(), d);
            }
            d.flush();
        });
        Properties p = new Properties();
        p.setProperty("data", data.getFileName().toString());
        p.setProperty("epochs_done", Integer.toString(s.epochsDone()));
        p.setProperty("best_epoch", Integer.toString(s.bestEpoch()));
        p.setProperty("best_errors", Integer.toString(s.bestErrors()));
        p.setProperty("train_seconds", Double.toString(s.trainSeconds()));
        java.util.Map<String, String> history = new java.util.TreeMap<>();
        Trainer.EpochReport.putHistory(history, s.history());
        history.forEach(p::setProperty);
        AtomicFiles.write(state, out -> p.store(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8),
                "checkpoint of " + model));
        previous.filter(f -> !f.equals(data.getFileName().toString())).ifPresent(f -> {
            try {
                Files.deleteIfExists(dir.resolve(f));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove old checkpoint " + dir.resolve(f), e);
            }
        });
    }

    /**
     * Restores {@code model}'s last checkpoint into {@code net} (parameters, optimiser state,
     * iteration and epoch counts); empty if there is none. A checkpoint that cannot be read is an
     * error naming its file, never silently ignored.
     */
    Optional<State> restore(String model, MultiLayerNetwork net) {
        Path state = stateFile(model);
        if (!Files.isRegularFile(state)) {
            return Optional.empty();
        }
        Properties p = read(state);
        Path data = dir.resolve(p.getProperty("data", "?"));
        try (InputStream in = new BufferedInputStream(Files.newInputStream(data))) {
            DataInputStream d = new DataInputStream(in);
            String magic = d.readUTF();
            if (!MAGIC.equals(magic)) {
                throw new IllegalStateException("checkpoint " + data + ": expected header " + MAGIC + ", found " + magic);
            }
            int iterations = d.readInt();
            int epochs = d.readInt();
            INDArray params = Nd4j.read(d);
            if (params.length() != net.numParams()) {
                throw new IllegalStateException("checkpoint " + data + ": expected " + net.numParams()
                        + " parameters for this network, found " + params.length());
            }
            net.setParams(params.reshape(net.params().shape()));
            if (d.readBoolean()) {
                INDArray u = Nd4j.read(d);
                net.getUpdater().getStateViewArray().assign(u.reshape(net.getUpdater().getStateViewArray().shape()));
            }
            INDArray best = d.readBoolean() ? Nd4j.read(d) : null;
            net.setIterationCount(iterations);
            net.setEpochCount(epochs);
            List<Trainer.EpochReport> history = Trainer.EpochReport.history(p::getProperty);
            return Optional.of(new State(Integer.parseInt(p.getProperty("epochs_done")),
                    Integer.parseInt(p.getProperty("best_epoch")), Integer.parseInt(p.getProperty("best_errors")),
                    Double.parseDouble(p.getProperty("train_seconds")), history, best));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot resume " + model + " from checkpoint " + data + " (named by "
                    + state + "): " + e.getMessage(), e);
        }
    }

    /** Removes {@code model}'s checkpoint (once its final weights are saved): state file first, then data. */
    public void clear(String model) {
        Path state = stateFile(model);
        if (!Files.isRegularFile(state)) {
            return;
        }
        String data = read(state).getProperty("data");
        try {
            Files.deleteIfExists(state);
            if (data != null) {
                Files.deleteIfExists(dir.resolve(data));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove checkpoint of " + model + " in " + dir, e);
        }
    }

    private static Properties read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint state " + file, e);
        }
        return p;
    }
}
