package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.SpecialistDataset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
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
        for (String k : List.of("ensemble.test_accuracy", "ensemble.relative_gain_pct", "control.test_accuracy")) {
            assertEquals(first.result().get(k), resumed.result().get(k), k);
        }
        assertTrue(Files.isRegularFile(first.dir().resolve("specialist1.done.properties")), "specialist 1 trained again");
    }
}
