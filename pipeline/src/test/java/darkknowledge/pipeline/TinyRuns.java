package darkknowledge.pipeline;

import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.data.DataStore;
import darkknowledge.generalist.Trainer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Tiny seeded runs for the pipeline's tests: a six-class synthetic problem in a run record of its own. */
final class TinyRuns {
    /** Six classes in two planted groups of three, 12 features, 50 training and 20 test examples a class. */
    static final Synthetic SYNTHETIC = new Synthetic(6, 2, 12, 0.5, 0.4, 50, 20);
    /** 60 of the 300 training examples held out for validation. */
    static final DataConfig DATA = new DataConfig(60, 0, 0, "", 0);
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T00:00:00Z"), ZoneOffset.UTC);

    private TinyRuns() {
    }

    /** A fresh run (its own record under {@code root/runs}) with run seed {@code seed}. */
    static RunContext context(Path root, long seed, Trainer.Listener listener) {
        RunRecord record = RunRecord.create(root.resolve("runs"), "pipeline-test",
                new TreeMap<>(Map.of("run.seed", Long.toString(seed))), CLOCK);
        return new RunContext(record, new Seeds(seed), new DataStore(root.resolve("data")), Provenance.empty(), listener);
    }

    /** The same run opened again, as a resumed run sees it: a new provenance and listener. */
    static RunContext reopened(RunContext ctx, Trainer.Listener listener) {
        return new RunContext(RunRecord.open(ctx.record().dir()), ctx.seeds(), ctx.data(), Provenance.empty(), listener);
    }

    static RunData data(RunContext ctx, DataConfig cfg) {
        return SpecialistDataset.SYNTHETIC.load(cfg, SYNTHETIC, null, ctx).data();
    }

    /** Every report a listener receives, by kind. */
    static final class Recorder implements Trainer.Listener {
        final List<Trainer.EpochReport> trained = new CopyOnWriteArrayList<>();
        final List<Trainer.EpochReport> restored = new CopyOnWriteArrayList<>();

        @Override
        public void onEpoch(Trainer.EpochReport report) {
            trained.add(report);
        }

        @Override
        public void onRestoredEpoch(Trainer.EpochReport report) {
            restored.add(report);
        }

        long trainedEpochsOf(String model) {
            return trained.stream().filter(r -> r.model().equals(model)).count();
        }
    }
}
