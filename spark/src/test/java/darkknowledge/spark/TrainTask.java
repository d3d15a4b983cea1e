package darkknowledge.spark;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.engine.Task;
import darkknowledge.core.engine.TaskContext;
import darkknowledge.data.Dataset;
import darkknowledge.data.SyntheticClasses;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.Trainer;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The engines' real workload in these tests: trains a small generalist {@link Classifier} (ReLU MLP,
 * Adam, softmax cross-entropy) on a synthetic many-class problem read from the shared data directory,
 * saves it atomically as {@code models/<name>.zip} in the run directory, and returns the SHA-256 of
 * its parameters and its validation errors. One sweep point of a seed sweep; a specialist differs only
 * in what it reads.
 *
 * @param dataFile where {@link #writeData} put the problem (shared storage)
 * @param seed     the training seed (initialisation, minibatch order)
 */
record TrainTask(String name, String dataFile, List<Integer> hidden, int epochs, long seed) implements Task<TrainTask.Trained> {

    /** What comes back to the driver: small. */
    record Trained(String name, String parameterHash, int validationErrors, int validationExamples, String model,
                   String executor) implements Serializable {
    }

    @Override
    public Trained run(TaskContext ctx) throws IOException {
        Path file = ctx.input(Path.of(dataFile));
        Dataset[] trainAndValidation = readData(file);
        Dataset train = trainAndValidation[0];
        Dataset val = trainAndValidation[1];
        // started markers let the fault test see that a task is training before it kills a worker
        ctx.writeOutput("started/" + name + "-attempt" + ctx.attempt() + "-" + ctx.executorId(), out -> { });
        awaitRelease(ctx);
        MlpConfig cfg = new MlpConfig(hidden, 0, 0, 0, 0, MlpConfig.Optimizer.ADAM, 3e-3, 0.9, 1.0, epochs, 32, 0, 0);
        Classifier c = Classifier.create(cfg, train.numFeatures(), train.numClasses(), null, seed);
        Trainer.Outcome o = Trainer.fit(name, c, new Trainer.TrainingData(train.featuresMatrix(), train.oneHot(), 0, 0),
                new Trainer.Validation(val.featuresMatrix(), val.labels()), cfg, seed, report -> { });
        Path model = ctx.output("models/" + name + ".zip");
        c.save(model);
        return new Trained(name, c.fingerprint(), o.bestValidationErrors(), val.numExamples(), model.toString(),
                ctx.executorId());
    }

    /** While this file is in the run directory, first attempts wait after marking their start. */
    static final String HOLD = "hold";

    /**
     * The fault test's hold: a first attempt waits while {@link #HOLD} exists (at most ten minutes), so
     * that a worker killed meanwhile surely dies with its task unfinished; reruns never wait. Without
     * the file (every other test) this returns at once.
     */
    private static void awaitRelease(TaskContext ctx) {
        Path hold = ctx.runDir().resolve(HOLD);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
        while (ctx.attempt() == 0 && Files.exists(hold) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);  // a poll of the file, not a clock
        }
    }

    /** The tasks of a seed sweep over one problem. */
    static List<TrainTask> sweep(Path dataFile, int tasks, List<Integer> hidden, int epochs) {
        List<TrainTask> out = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            out.add(new TrainTask("net" + i, dataFile.toString(), hidden, epochs, 1000 + i));
        }
        return out;
    }

    /** Generates the seeded problem and writes train and validation sets atomically to {@code file}. */
    static Path writeData(Path file, SyntheticClasses.Spec spec) {
        SyntheticClasses.Generated g = SyntheticClasses.generate(spec);
        AtomicFiles.write(file, os -> {
            DataOutputStream out = new DataOutputStream(os);
            for (Dataset d : new Dataset[] {g.train(), g.test()}) {
                out.writeInt(d.numExamples());
                out.writeInt(d.numFeatures());
                out.writeInt(d.numClasses());
                for (float v : d.features()) {
                    out.writeFloat(v);
                }
                for (int y : d.labels()) {
                    out.writeInt(y);
                }
            }
            out.flush();
        });
        return file;
    }

    static Dataset[] readData(Path file) throws IOException {
        try (InputStream is = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             DataInputStream in = new DataInputStream(is)) {
            Dataset[] out = new Dataset[2];
            for (int s = 0; s < 2; s++) {
                int n = in.readInt();
                int d = in.readInt();
                int k = in.readInt();
                float[] x = new float[n * d];
                for (int i = 0; i < x.length; i++) {
                    x[i] = in.readFloat();
                }
                int[] y = new int[n];
                for (int i = 0; i < n; i++) {
                    y[i] = in.readInt();
                }
                List<String> names = new ArrayList<>();
                for (int c = 0; c < k; c++) {
                    names.add("c" + c);
                }
                out[s] = new Dataset("synthetic", x, y, n, d, k, 0, 0, names);
            }
            return out;
        }
    }
}
