package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.SpecialistDataset;
import java.io.DataInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.junit.jupiter.api.io.TempDir;

/**
 * The specialists are engine tasks: the same run on the in-process pool and on Spark (local mode, a
 * real SparkContext) trains the same specialists bit for bit, and a resumed run trains only the
 * specialists that had not finished.
 */
class SpecialistEnginesTest {
    private static final SpecialistsExperiment SYNTHETIC = new SpecialistsExperiment(SpecialistDataset.SYNTHETIC);

    private static Runner.Outcome run(Path runs, String... sets) {
        var cfg = Runner.resolve(SYNTHETIC, Scale.TINY, null, List.of(sets));
        return Runner.run(SYNTHETIC, cfg, runs, new DataStore(DataStore.defaultCacheDir()), false);
    }

    private static SortedMap<String, String> provenance(Runner.Outcome o) {
        return RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
    }

    @Test
    void sparkTrainsTheSameSpecialistsAsTheInProcessPool(@TempDir Path runs) {
        Runner.Outcome local = run(runs);
        Runner.Outcome spark = run(runs, "engine.kind=spark", "engine.master=local[2]");
        SortedMap<String, String> a = provenance(local);
        SortedMap<String, String> b = provenance(spark);
        assertEquals("local", a.get("engine.kind"));
        assertEquals("spark", b.get("engine.kind"));
        int specialists = Integer.parseInt(local.result().get("clustering.specialists"));
        assertTrue(specialists >= 2, "specialists: " + specialists);
        for (int m = 0; m < specialists; m++) {
            String key = "model.specialist" + m + ".sha256";
            assertEquals(a.get(key), b.get(key), key);
        }
        for (String k : List.of("ensemble.test_accuracy", "generalist.test_accuracy", "cover1.relative_change_pct")) {
            assertEquals(local.result().get(k), spark.result().get(k), k);
        }
    }

    @Test
    void thePipelinesEnsembleTargetsOnSparkMatchTheInProcessOnes(@TempDir Path root) throws Exception {
        Pipeline p = new Pipeline();
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Runner.Outcome local = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of()), root.resolve("a"), data,
                false);
        Runner.Outcome spark = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of("engine.kind=spark",
                "engine.master=local[2]")), root.resolve("b"), data, false);
        INDArray qa = targets(local);
        INDArray qb = targets(spark);
        assertArrayEquals(qa.shape(), qb.shape());
        double maxDiff = Transforms.abs(qa.sub(qb)).maxNumber().doubleValue();
        // The same slices on both engines; 1e-6 allows for a BLAS that rounds a slice's rows differently.
        assertTrue(maxDiff <= 1e-6, "max |q_local - q_spark| = " + maxDiff);
        assertEquals(local.result().get("ensemble.test_accuracy"), spark.result().get("ensemble.test_accuracy"));
        assertEquals("spark", provenance(spark).get("engine.kind"));
        assertTrue(provenance(spark).containsKey("engine.stage.ensemble-targets.executors"),
                "the ensemble targets ran as engine tasks: " + provenance(spark).keySet());
    }

    /** The cached transfer-set targets of a pipeline run's ensemble stage. */
    private static INDArray targets(Runner.Outcome o) throws Exception {
        Path dir = Path.of(provenance(o).get("stage.ensemble"));
        try (var in = new DataInputStream(Files.newInputStream(dir.resolve("transfer-q.bin")))) {
            return Nd4j.read(in);
        }
    }

    @Test
    void aSweepsStudentsTrainedAsSparkTasksAreTheOnesTrainedInProcess(@TempDir Path root) {
        TemperatureSweep sweep = new TemperatureSweep();
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        List<String> small = List.of("sweep.temperatures=1,4");
        Runner.Outcome local = Runner.run(sweep, Runner.resolve(sweep, Scale.TINY, null, small), root.resolve("a"), data,
                false);
        List<String> onSpark = new java.util.ArrayList<>(small);
        onSpark.addAll(List.of("engine.kind=spark", "engine.master=local[2]"));
        Runner.Outcome spark = Runner.run(sweep, Runner.resolve(sweep, Scale.TINY, null, onSpark), root.resolve("b"),
                data, false);
        SortedMap<String, String> b = provenance(spark);
        assertTrue(b.containsKey("engine.stage.students.executors"), "the students ran as engine tasks: " + b.keySet());
        for (String student : List.of("wide.T1", "wide.T4", "narrow.T1", "narrow.T4")) {
            String key = "model." + student + ".sha256";
            assertEquals(provenance(local).get(key), b.get(key), key);
            assertEquals(local.result().get(student + ".test_errors"), spark.result().get(student + ".test_errors"));
        }
    }

    @Test
    void aResumedRunTrainsOnlyTheSpecialistsThatHadNotFinished(@TempDir Path runs) throws Exception {
        Runner.Outcome first = run(runs);
        // As if the driver died after specialist 0 finished and before specialist 1 did: its done
        // record (written last) and its model are gone, the others are in place.
        Files.delete(first.dir().resolve("specialist1.done.properties"));
        Files.delete(first.dir().resolve("specialist1.zip"));
        Files.delete(first.dir().resolve(RunRecord.RESULT));
        Runner.Outcome resumed = Runner.resume(first.dir(), new DataStore(DataStore.defaultCacheDir()), false);
        SortedMap<String, String> p = provenance(resumed);
        int specialists = Integer.parseInt(first.result().get("clustering.specialists"));
        assertEquals(Integer.toString(specialists - 1), p.get("specialists.reused"));
        assertTrue(p.containsKey("model.generalist.reused"), "the finished generalist is loaded, not trained");
        assertTrue(p.containsKey("model.control.reused"), "the finished control is loaded, not trained");
        for (String k : List.of("ensemble.test_accuracy", "ensemble.relative_gain_pct", "control.test_accuracy")) {
            assertEquals(first.result().get(k), resumed.result().get(k), k);
        }
        assertTrue(Files.isRegularFile(first.dir().resolve("specialist1.done.properties")), "specialist 1 trained again");
    }

    @Test
    void aRunStartedInProcessGoesOnOnSparkWithTheSameFigures(@TempDir Path runs) throws Exception {
        Runner.Outcome first = run(runs);
        Files.delete(first.dir().resolve("specialist0.done.properties"));
        Files.delete(first.dir().resolve("specialist0.zip"));
        Files.delete(first.dir().resolve(RunRecord.RESULT));
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        var refused = org.junit.jupiter.api.Assertions.assertThrows(darkknowledge.core.ConfigException.class,
                () -> Runner.resume(first.dir(), data, false, List.of("specialists.epochs=9")));
        assertTrue(refused.getMessage().contains("only engine.*"), refused.getMessage());
        Runner.Outcome resumed = Runner.resume(first.dir(), data, false,
                List.of("engine.kind=spark", "engine.master=local[2]"));
        SortedMap<String, String> p = provenance(resumed);
        assertEquals("spark", p.get("engine.kind"));
        assertEquals("engine.kind=spark engine.master=local[2]", p.get("resumed.1.engine"));
        assertEquals("spark", RunRecord.readProperties(first.dir().resolve(RunRecord.CONFIG)).get("engine.kind"),
                "the run's config says where it went on");
        assertEquals(provenance(first).get("model.specialist0.sha256"), p.get("model.specialist0.sha256"));
        for (String k : List.of("ensemble.test_accuracy", "ensemble.relative_gain_pct", "control.test_accuracy")) {
            assertEquals(first.result().get(k), resumed.result().get(k), k);
        }
    }
}
