package darkknowledge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.bench.EngineBench;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Provenance;
import darkknowledge.data.SyntheticClasses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines' timings on a seed sweep of small nets (issue "Beyond one machine": two one-core
 * executors vs one, Spark local[2] vs the in-process pool); {@code ./dk bench} measures the same on
 * the glyphs specialists and their soft targets. Writes spark/target/engine-bench.txt. Slow: it
 * starts a cluster and trains the sweep 4 times on each of 5 engines.
 */
@Tag("slow")
class EngineBenchTest {
    private static final Logger LOG = LoggerFactory.getLogger(EngineBenchTest.class);

    @Test
    void everyEngineTrainsTheSameModelsAndTheRatiosAreRecorded(@TempDir Path dir) throws Exception {
        Path data = TrainTask.writeData(dir.resolve("data/synthetic.bin"),
                new SyntheticClasses.Spec(12, 3, 64, 0.6, 0.3, 400, 20, 5));
        List<TrainTask> tasks = TrainTask.sweep(data, 4, List.of(256, 256), 3);
        int repeats = Integer.getInteger("dk.bench.repeats", 3);
        EngineBench.Workload<TrainTask.Trained> sweep = new EngineBench.Workload<>("sweep", (engine, run) -> tasks,
                TrainTask.Trained::parameterHash);
        EngineBench.Comparison c = EngineBench.measure(List.of(sweep),
                List.of(EngineBench.pool(1), EngineBench.pool(2), EngineBench.sparkLocal(2)),
                Files.createDirectories(dir.resolve("runs")), Provenance.repoDir(), dir.resolve("cluster"),
                System.getProperty("java.class.path"), repeats);
        StringBuilder sb = new StringBuilder("engine\tmedian_s\tmin_s\tmax_s\ttask_s\truns\n");
        for (EngineBench.Timing t : c.timings().get("sweep").values()) {
            sb.append(String.format(Locale.ROOT, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s%n", t.engine(), t.median(),
                    t.wall().min(), t.wall().max(), t.medianTaskSeconds(), t.seconds()));
        }
        sb.append(String.format(Locale.ROOT, "pool 1 thread / 2 threads\t%.3f%n", c.ratio("sweep", "pool-1", "pool-2")));
        sb.append(String.format(Locale.ROOT, "spark local[2] / pool 2 (goal <= 1.15)\t%.3f%n",
                c.ratio("sweep", "spark-local-2", "pool-2")));
        sb.append(String.format(Locale.ROOT, "1 executor / 2 executors (goal >= 1.7)\t%.3f%n",
                c.ratio("sweep", "standalone-1x1", "standalone-2x1")));
        sb.append("load average at the end\t").append(Files.readString(Path.of("/proc/loadavg")).trim()).append('\n');
        AtomicFiles.writeString(Path.of("target/engine-bench.txt"), sb.toString());
        LOG.info("engine bench:\n{}", sb);
        assertTrue(c.sameResults(), "every engine must train the same parameters: " + c.disagreements());
        assertEquals(Boolean.TRUE, c.sameAcross(), "one-thread executors train what the pool trains");
        assertEquals(5, c.timings().get("sweep").size());
        c.timings().get("sweep").values().forEach(t -> assertEquals(repeats, t.seconds().size()));
    }
}
