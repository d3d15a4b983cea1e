package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.SpecialistDataset;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny twin of online augmentation ({@code glyphs.freshEachEpoch=true}): the generalist, §6.1's
 * specialists (their soft targets taken on each fed minibatch) and the control train on images drawn
 * anew each epoch; the data set, validation and both test sets are those of a fixed-image run.
 */
class FreshDistortionsTest {

    @Test
    void theGlyphsTwinTrainsEveryNetOnFreshImagesAndReportsOnTheSameTestSets(@TempDir Path runs) {
        var e = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        List<String> small = List.of("glyphs.classes=40", "conv.epochs=1", "specialists.epochs=1", "clustering.k=3",
                "data.validationSize=80");
        Runner.Outcome fixed = Runner.run(e, Runner.resolve(e, Scale.TINY, null, small), runs, data, false);
        List<String> withFresh = new java.util.ArrayList<>(small);
        withFresh.add("glyphs.freshEachEpoch=true");
        Runner.Outcome fresh = Runner.run(e, Runner.resolve(e, Scale.TINY, null, withFresh), runs, data, false);
        var a = RunRecord.readProperties(fixed.dir().resolve(RunRecord.PROVENANCE));
        var b = RunRecord.readProperties(fresh.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(b.containsKey("data.glyphs.fresh_each_epoch") && !a.containsKey("data.glyphs.fresh_each_epoch"));
        assertEquals(a.get("data.glyphs.set.sha256"), b.get("data.glyphs.set.sha256"), "one data set for both");
        assertEquals(a.get(RunData.TRAIN_INDICES_KEY), b.get(RunData.TRAIN_INDICES_KEY));
        for (String model : List.of("generalist", "specialist0", "control")) {
            assertNotEquals(a.get("model." + model + ".sha256"), b.get("model." + model + ".sha256"),
                    model + " trained on other images");
        }
        for (String k : List.of("test_examples", RunData.SEEN_PREFIX + "test_examples")) {
            assertEquals(fixed.result().get(k), fresh.result().get(k), k);
        }
        assertTrue(fresh.result().containsKey(RunData.SEEN_PREFIX + "ensemble.test_accuracy"));
    }

    @Test
    void aClusterRunWithFreshImagesIsRefusedAtConfigTimeNamingTheKey() {
        var e = new SpecialistsExperiment(SpecialistDataset.GLYPHS);
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(e, Scale.SMALL, null,
                List.of("engine.kind=spark")));
        assertTrue(ex.getMessage().contains("glyphs.freshEachEpoch") && ex.getMessage().contains("engine.kind=spark"),
                ex.getMessage());
        // Either alone is fine: fixed images on a cluster, fresh ones in process.
        Runner.resolve(e, Scale.SMALL, null, List.of("engine.kind=spark", "glyphs.freshEachEpoch=false"));
        Runner.resolve(e, Scale.SMALL, null, List.of("glyphs.freshEachEpoch=true"));
        // The pipeline on glyphs too; on another dataset the key is not read.
        var pipeline = assertThrows(ConfigException.class, () -> Runner.resolve(new Pipeline(), Scale.TINY, null,
                List.of("dataset=glyphs", "glyphs.freshEachEpoch=true", "engine.kind=spark")));
        assertTrue(pipeline.getMessage().contains("glyphs.freshEachEpoch"), pipeline.getMessage());
        Runner.resolve(new Pipeline(), Scale.TINY, null, List.of("glyphs.freshEachEpoch=true", "engine.kind=spark"));
    }
}
