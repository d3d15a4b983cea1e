package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.GainKept;
import darkknowledge.core.ResultTables;
import darkknowledge.core.Scale;
import darkknowledge.core.TestPredictions;
import darkknowledge.data.DataStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny twin of the Fashion-MNIST ensemble distillation (configs/ensemble-distillation-fashion.properties):
 * both averages from one set of members, T and hard weight chosen by a validation sweep, the test
 * predictions that the interval of the share takes the test set's noise from.
 */
class EnsembleDistillationTest {

    @Test
    void fashionTwinDistilsBothAveragesWithSettingsChosenOnValidationAndRecordsItsTestPredictions(@TempDir Path root) {
        EnsembleDistillation e = new EnsembleDistillation();
        var cfg = Runner.resolve(e, Scale.TINY, null, List.of("data.source=fashion-mnist", "ensemble.average=both",
                "sweep.temperatures=2,8", "sweep.hardWeights=0.5", "sweep.epochs=1"));
        Runner.Outcome o = Runner.run(e, cfg, root.resolve("runs"), new DataStore(DataStore.defaultCacheDir()), false);
        Map<String, String> r = o.result();
        for (String average : List.of("probabilities", "logits")) {
            String student = average.equals("logits") ? "student_logits" : "student";
            int t2 = Integer.parseInt(r.get("sweep." + average + ".T2.0.w0.5.validation_errors"));
            int t8 = Integer.parseInt(r.get("sweep." + average + ".T8.0.w0.5.validation_errors"));
            assertEquals(t2 <= t8 ? "2.0" : "8.0", r.get(student + ".temperature"), "the fewest validation errors win");
            assertEquals("0.5", r.get(student + ".hard_weight"));
        }
        TestPredictions p = TestPredictions.read(o.dir().resolve(TestPredictions.FILE));
        assertEquals(1000, p.labels().length);
        assertEquals(List.of("ensemble", "student", "ensemble_logits", "student_logits"), List.copyOf(p.predicted().keySet()));
        assertEquals(Double.parseDouble(r.get("members.mean_test_errors")), p.meanMemberErrors(), 0.005);
        assertEquals(Integer.parseInt(r.get("student_logits.test_errors")),
                (int) java.util.stream.IntStream.range(0, 1000).filter(i -> p.wrong("student_logits")[i]).count());
        if (!r.get("student.gain_kept_pct").equals("NaN")) {
            assertEquals(Double.parseDouble(r.get("student.gain_kept_pct")), GainKept.share(p, "ensemble", "student"),
                    0.005);
        }
        ResultTables.Generated g = ResultTables.generate(root.resolve("runs"), root.resolve("results"), e.table(),
                "./dk tables");
        assertTrue(g.markdown().contains("ours: tiny, source=fashion-mnist, members=2 (n=1)"), g.markdown());
        // one seed: the bootstrap over its test examples stands for the interval with the test set's noise, and
        // there is no seed interval
        assertTrue(g.markdown().matches("(?s).*\\| logit ensemble's share kept: 95% interval with the test set's sampling "
                + "noise \\| – \\| (\\[-?[0-9.]+, -?[0-9.]+\\] \\(±[0-9.]+\\)|–) \\|.*"), g.markdown());
        assertTrue(g.markdown().contains("| share kept: 95% interval on this test set, t over seeds (the verdict's) | > 80 | – |"),
                g.markdown());
    }
}
