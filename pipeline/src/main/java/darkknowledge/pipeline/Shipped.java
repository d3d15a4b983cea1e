package darkknowledge.pipeline;

import darkknowledge.core.Sha256;
import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.SharedBytes;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.core.engine.TaskInputException;
import darkknowledge.data.Dataset;
import darkknowledge.generalist.Classifier;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * The large inputs of the engine tasks (a run's data, saved models) as they travel from the driver
 * to wherever a task runs: through the engine ({@link Engine#share}: a Spark broadcast, or memory in
 * process), never through a file system the driver and the executors would have to share, and never
 * rebuilt with host tools (npm, apt-get) that cluster workers rarely have. Each is checked where it
 * arrives: the data against the training split's SHA-256, a model against its parameter hash.
 */
public final class Shipped {
    /**
     * The driver's own data, by {@link Data#shipment()}: what its tasks in this JVM use as they are (in
     * process, Spark local), never encoded. Per shipment, not per content: two runs in one JVM may
     * ship splits with the same hashes but not the same data (the seen-typeface test set, fresh images).
     */
    private static final Map<String, RunData> REGISTERED = new ConcurrentHashMap<>();
    /** Data decoded on an executor: the newest only (an executor serves one stage's tasks), with its {@link Data#key()}. */
    private static final Object DECODED = new Object();
    private static String decodedKey;
    private static RunData decoded;
    private static final java.util.concurrent.atomic.AtomicLong SHIPMENTS = new java.util.concurrent.atomic.AtomicLong();
    private static final String JVM = ProcessHandle.current().pid() + "@" + System.nanoTime();

    private Shipped() {
    }

    /**
     * A run's splits (features, labels, shapes, class names of train, validation and test) as the
     * tasks receive them.
     *
     * @param trainSha256 the training split's SHA-256 ({@link Dataset#sha256()}), checked on arrival
     * @param shipment    which call of {@link #data} made it (unique to the driver's JVM)
     * @param bytes       the encoded splits
     */
    public record Data(String trainSha256, String validationSha256, String testSha256, String shipment,
                       SharedBytes bytes) implements Serializable {
        /** The splits' content, as an executor receives it (no seen-typeface set, no fresh images). */
        String key() {
            return trainSha256 + "/" + validationSha256 + "/" + testSha256;
        }

        /** The run's data in this JVM: the driver's own (in process), the one received before, or decoded now. */
        public RunData get(TaskContext ctx) {
            RunData own = REGISTERED.get(shipment);
            if (own != null) {
                return own;
            }
            synchronized (DECODED) {  // decoded once, whichever of the executor's cores asks first
                if (!key().equals(decodedKey)) {
                    RunData s = decode(bytes.get());
                    if (!s.train().sha256().equals(trainSha256)) {
                        throw new TaskInputException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on "
                                + ctx.where() + ": the training set received (" + bytes.name() + ") has SHA-256 "
                                + s.train().sha256() + ", the driver's has " + trainSha256);
                    }
                    decodedKey = key();
                    decoded = s;
                }
                return decoded;
            }
        }
    }

    /**
     * A saved model (the bytes of its {@code .zip}) as the tasks receive it.
     *
     * @param sha256 its parameter hash ({@link Classifier#fingerprint()}), checked on arrival
     */
    public record Model(String sha256, SharedBytes bytes) implements Serializable {
        /** The model, written to the task's scratch directory and loaded from there; checked against {@link #sha256}. */
        public Classifier load(TaskContext ctx) {
            Path file = ctx.scratchDir().resolve("received-" + sha256.substring(0, Math.min(16, sha256.length())) + ".zip");
            try {
                if (!Files.isRegularFile(file)) {
                    Files.createDirectories(file.getParent());
                    darkknowledge.core.AtomicFiles.write(file, out -> out.write(bytes.get()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on "
                        + ctx.where() + ": cannot write " + bytes.name() + " to " + file, e);
            }
            Classifier c = Classifier.loadForInference(file);  // tasks start their own optimiser state
            if (!c.fingerprint().equals(sha256)) {
                throw new TaskInputException("stage " + ctx.stage() + " task " + ctx.taskIndex() + " on "
                        + ctx.where() + ": " + bytes.name() + " has parameters with SHA-256 " + c.fingerprint()
                        + ", expected " + sha256);
            }
            return c;
        }
    }

    /**
     * Ships {@code s} through {@code engine}: the tasks of this JVM use {@code s} itself (it is
     * registered here until {@link #forget}), other JVMs receive its encoding ({@link #encode}).
     */
    public static Data data(Engine engine, RunData s) {
        String train = s.train().sha256();
        String validation = s.hasValidation() ? s.validation().sha256() : "none";
        Data d = new Data(train, validation, s.test().sha256(), JVM + "#" + SHIPMENTS.incrementAndGet(),
                engine.share("data " + train.substring(0, 12), () -> encode(s)));
        REGISTERED.put(d.shipment(), s);
        return d;
    }

    /**
     * Drops what this JVM keeps for {@code d} (a long-lived driver runs many stages and experiments);
     * what the engine keeps for it goes with the engine, or before with {@link Engine#release}.
     */
    public static void forget(Data d) {
        REGISTERED.remove(d.shipment());
        synchronized (DECODED) {
            if (d.key().equals(decodedKey)) {
                decodedKey = null;
                decoded = null;
            }
        }
    }

    /** Ships the model saved at {@code file} (its bytes, read now) through {@code engine}. */
    public static Model model(Engine engine, Path file, String sha256) {
        return new Model(sha256, engine.share("model " + sha256.substring(0, Math.min(12, sha256.length())), () -> {
            try {
                return Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the saved model " + file + " to ship it", e);
            }
        }));
    }

    /**
     * The bytes of {@code model} as {@link Classifier#saveForInference} writes them (through a file in
     * {@code dir}): what comes back from a task is only used for predictions.
     */
    static byte[] bytes(Classifier model, Path dir, String name) {
        Path file = dir.resolve(name + ".zip");
        model.saveForInference(file);
        try {
            byte[] b = Files.readAllBytes(file);
            Files.deleteIfExists(file);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read back " + file, e);
        }
    }

    private static final int MAGIC = 0x444b5244;  // "DKRD"

    /**
     * The splits as bytes: per split its name, shape, class names, labels and the features' IEEE bits
     * (little-endian), deflated (fast level: images are mostly background). Lossless:
     * {@link #decode} gives datasets with the same SHA-256.
     */
    static byte[] encode(RunData s) {
        if (s.fresh() != null) {
            // fresh images are rendered from the training faces' font files, which are not shipped
            throw new UnsupportedOperationException("glyphs.freshEachEpoch=true: the training images are re-rendered "
                    + "each epoch from the glyph fonts on this machine, which are not shipped to executors in other "
                    + "JVMs; run it in process (engine.kind=local) or with glyphs.freshEachEpoch=false");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new DeflaterOutputStream(bytes, new Deflater(1), 1 << 16))) {
            out.writeInt(MAGIC);
            write(out, s.train());
            write(out, s.hasValidation() ? s.validation() : null);
            write(out, s.test());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the run's data", e);
        }
        return bytes.toByteArray();
    }

    /** The splits {@link #encode} wrote, with their matrices built as {@link RunData#of} builds them. */
    static RunData decode(byte[] b) {
        try (DataInputStream in = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(b), new java.util.zip.Inflater(), 1 << 16))) {
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not a run's data as Shipped.encode writes it");
            }
            Dataset train = read(in);
            Dataset validation = read(in);
            Dataset test = read(in);
            if (validation == null) {
                validation = train.subset(new int[0]);
            }
            // the seen-typeface test set is read on the driver only; tasks train and validate
            return new RunData(train, validation, test, train.featuresMatrix(), train.oneHot(),
                    validation.numExamples() == 0 ? null : validation.featuresMatrix(), test.featuresMatrix(), null, null,
                    null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode the run's data", e);
        }
    }

    private static void write(DataOutputStream out, Dataset d) throws IOException {
        out.writeBoolean(d != null);
        if (d == null) {
            return;
        }
        out.writeUTF(d.name());
        for (int v : new int[] {d.numExamples(), d.numFeatures(), d.numClasses(), d.imageWidth(), d.imageHeight(),
                d.imageChannels()}) {
            out.writeInt(v);
        }
        for (String c : d.classNames()) {
            out.writeUTF(c);
        }
        ByteBuffer labels = ByteBuffer.allocate(d.labels().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        labels.asIntBuffer().put(d.labels());
        out.write(labels.array());
        float[] f = d.features();
        ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < f.length; i += chunk.capacity() / 4) {
            int n = Math.min(chunk.capacity() / 4, f.length - i);
            chunk.clear();
            chunk.asFloatBuffer().put(f, i, n);
            out.write(chunk.array(), 0, n * 4);
        }
    }

    private static Dataset read(DataInputStream in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        String name = in.readUTF();
        int n = in.readInt();
        int features = in.readInt();
        int classes = in.readInt();
        int w = in.readInt();
        int h = in.readInt();
        int c = in.readInt();
        List<String> names = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) {
            names.add(in.readUTF());
        }
        byte[] lb = new byte[n * 4];
        in.readFully(lb);
        int[] labels = new int[n];
        ByteBuffer.wrap(lb).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(labels);
        float[] f = new float[Math.multiplyExact(n, features)];
        byte[] chunk = new byte[1 << 20];
        for (int i = 0; i < f.length; i += chunk.length / 4) {
            int k = Math.min(chunk.length / 4, f.length - i);
            in.readFully(chunk, 0, k * 4);
            ByteBuffer.wrap(chunk, 0, k * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f, i, k);
        }
        return new Dataset(name, f, labels, n, features, classes, w, h, c, names);
    }

    /** SHA-256 of {@code q}'s float bits, row by row: how a slice of soft targets is identified. */
    static String sha256(float[][] q) {
        Sha256 h = Sha256.begin();
        for (float[] row : q) {
            h.update(row);
        }
        return h.hex();
    }
}
