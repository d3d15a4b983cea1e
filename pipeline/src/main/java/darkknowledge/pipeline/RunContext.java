package darkknowledge.pipeline;

import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.data.DataStore;
import darkknowledge.generalist.Trainer;
import java.nio.file.Path;

/**
 * What a running experiment may use: its run record, the derived seeds, the data store, the
 * provenance it adds to (datasets, inputs, models), and the progress listener.
 */
public record RunContext(RunRecord record, Seeds seeds, DataStore data, Provenance provenance, Trainer.Listener progress) {

    /** The run's own model store: what a resumed run finished before is found here. */
    public Store store() {
        return Store.inRun(record.dir());
    }

    /** Where model {@code name} of this run is saved. */
    public Path modelPath(String name) {
        return store().open(name).model(name);
    }
}
