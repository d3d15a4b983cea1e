package darkknowledge.experiments;

import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.Store;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stage reuse across runs of the pipeline, and --from. */
class PipelineTest {

    @Test
    void aSecondRunReusesFinishedStagesAndFromRedoesTheRest(@TempDir Path runs) {
        Pipeline p = new Pipeline();
        DataStore data = new DataStore(DataStore.defaultCacheDir());
        Runner.Outcome first = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of()), runs, data, false);
        Runner.Outcome second = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of()), runs, data, false);
        var prov = RunRecord.readProperties(second.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(prov.containsKey("model.generalist.reused"), "generalist reused: " + prov);
        assertTrue(prov.containsKey("model.student_ensemble.reused"));
        for (String k : List.of("generalist.test_accuracy", "ensemble.test_accuracy", "student_ensemble.test_accuracy")) {
            assertEquals(first.result().get(k), second.result().get(k), k);
        }
        Runner.Outcome redo = Runner.run(p, Runner.resolve(p, Scale.TINY, null,
                List.of("stages.from=specialists", "run.seed=1")), runs, data, false);
        var prov3 = RunRecord.readProperties(redo.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(prov3.containsKey("model.generalist.reused"), "stages before --from are reused");
        assertFalse(prov3.containsKey("model.student_ensemble.reused"), "stages from --from on are redone");
        assertEquals(first.result().get("student_ensemble.test_accuracy"), redo.result().get("student_ensemble.test_accuracy"),
                "redoing with the same seeds gives the same student");
        Runner.Outcome changed = Runner.run(p, Runner.resolve(p, Scale.TINY, null, List.of("distill.temperature=2")), runs,
                data, false);
        var prov4 = RunRecord.readProperties(changed.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(prov4.containsKey("model.student_ensemble.sha256") && !prov4.containsKey("model.student_ensemble.reused"),
                "a changed temperature retrains the students only");
        assertTrue(prov4.containsKey("model.generalist.reused"));
        assertNotEquals(prov.get("stage.student-ensemble"), prov4.get("stage.student-ensemble"));
        assertThrows(ConfigException.class, () -> Runner.run(p, Runner.resolve(p, Scale.TINY, null,
                List.of("stages.from=nonsense")), runs, data, false));
    }

    /** The tiny twin of configs/pipeline-glyphs.properties: conv generalist, specialists, a conv student. */
    @Test
    void theGlyphsPipelineDistilsIntoAConvStudent(@TempDir Path runs) throws Exception {
        Pipeline p = new Pipeline();
        List<String> sets = new java.util.ArrayList<>(List.of("dataset=glyphs", "architecture.generalist=conv",
                "studentNet=conv", "studentConv.channels=8,16", "studentConv.dense=64", "studentConv.epochs=2"));
        Presets.specialists(darkknowledge.pipeline.SpecialistDataset.GLYPHS, Scale.TINY)
                .forEach((k, v) -> sets.add(k + "=" + v));
        // The pipeline distils the ensemble under the configured correction (it refuses the choice on validation).
        sets.add("specialists.correctionOnValidation=false");
        Runner.Outcome o = Runner.run(p, Runner.resolve(p, Scale.TINY, null, sets), runs,
                new DataStore(DataStore.defaultCacheDir()), false);
        var prov = RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
        assertTrue(prov.containsKey("model.student_ensemble.sha256"), prov.toString());
        for (String k : List.of("generalist.test_accuracy", "ensemble.test_accuracy", "student_ensemble.test_accuracy",
                "student_generalist.test_accuracy", "student_ensemble.gain_kept_pct")) {
            assertTrue(o.result().containsKey(k), k + " in " + o.result().keySet());
            assertTrue(o.result().containsKey(RunData.SEEN_PREFIX + k), "the seen typefaces' " + k);
        }
        // Two test sets: the unseen face (100 classes x 2) and the training face's seen-typeface images (x 2).
        assertEquals("200", o.result().get("test_examples"));
        assertEquals("200", o.result().get(RunData.SEEN_PREFIX + "test_examples"));
        assertEquals("200", prov.get("split.seen_test_examples"));
        // The students are conv nets: their saved configuration holds our conv layer.
        Path student = Path.of(prov.get("stage.student-ensemble")).resolve("student_ensemble.zip");
        try (var zip = new java.util.zip.ZipFile(student.toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry("configuration.json")).readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(json.contains("Im2colConv"), "a conv student: " + json.substring(0, Math.min(300, json.length())));
        }
        var bad = assertThrows(ConfigException.class, () -> Runner.resolve(p, Scale.TINY, null,
                List.of("studentNet=cnn")));
        assertTrue(bad.getMessage().contains("studentNet"), bad.getMessage());
    }

    /**
     * A conv stage's key leaves out the plateau's keys while it is off, so that the generalists cached
     * before the keys existed are found again; with the plateau on they are part of the key.
     */
    @Test
    void aConvStageKeyNamesThePlateauOnlyWhenItIsOn() {
        darkknowledge.generalist.ConvConfig off = darkknowledge.generalist.ConvConfig.small(3);
        assertFalse(Pipeline.text("conv", off).contains("plateau"), Pipeline.text("conv", off));
        assertTrue(Pipeline.text("conv", off).contains("conv.learningRateDecay="));
        String on = Pipeline.text("conv", off.withPlateau(new darkknowledge.generalist.Plateau(3, 0.5)));
        assertTrue(on.contains("conv.plateau.epochs=3") && on.contains("conv.plateau.factor=0.5"), on);
    }
}
