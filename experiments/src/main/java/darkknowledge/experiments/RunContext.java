package darkknowledge.experiments;

import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Seeds;
import darkknowledge.data.DataStore;
import java.nio.file.Path;

/**
 * What a running experiment may use: its run record, the derived seeds, the data store, the
 * provenance it adds to (datasets, inputs, models), and the progress listener.
 */
public record RunContext(RunRecord record, Seeds seeds, DataStore data, Provenance provenance, Progress progress) {

    /** Where a model of this run is saved. */
    public Path modelPath(String name) {
        return record.dir().resolve(name + ".zip");
    }
}
