package darkknowledge.experiments;

import darkknowledge.pipeline.RunContext;
import darkknowledge.core.ResultTables;
import darkknowledge.core.Scale;
import java.util.Map;
import java.util.SortedMap;

/**
 * One experiment: its card, its config (a record whose defaults are the full-scale, paper-like
 * setting), the presets that shrink it, the table its runs feed, and {@link #run}, which returns
 * the final figures written to {@code result.properties}.
 *
 * @param <C> the experiment's config record
 */
public interface Experiment<C extends Record> {

    /** The name used on the command line and as the run directory, e.g. {@code mnist-distillation}. */
    String name();

    /** One line: what it reproduces and the paper's figure. */
    String card();

    /** The full-scale configuration. */
    C defaults();

    /** Config overrides that make the {@code small} or {@code tiny} twin (empty for full). */
    Map<String, String> preset(Scale scale);

    /** The table that {@code ./dk tables} builds from this experiment's runs. */
    ResultTables.Spec table();

    /**
     * Why this experiment cannot run without a validation split ({@code data.validationSize > 0}), or
     * {@code null} if it can: checked when its config is resolved, so that a run that needs a hold-out
     * is refused before it trains, not after.
     */
    default String needsValidation() {
        return null;
    }

    /**
     * Draws the figures that span several of this experiment's runs (e.g. one curve per seed) into
     * {@code results}, from the finished run records under {@code experimentRuns}; called by
     * {@code ./dk tables} after the table. Most experiments have none: their figures belong to one
     * run and are copied from it.
     */
    default void figures(java.nio.file.Path experimentRuns, java.nio.file.Path results) {
    }

    /**
     * The test set a finished run of this experiment reported its figures on, rebuilt from the run's
     * {@code config}: what {@code ./dk export --verify} measures an exported model on. {@code provenance}
     * holds the run's recorded entries (a split drawn differently from the recorded one is refused).
     * By default the {@code data} section's dataset ({@link darkknowledge.pipeline.RunData#load});
     * an experiment that makes its own data says how.
     */
    default darkknowledge.data.Dataset testSet(C config, darkknowledge.data.DataStore store,
                                               darkknowledge.core.Provenance provenance, java.nio.file.Path runDir) {
        darkknowledge.pipeline.DataConfig data = darkknowledge.pipeline.DataConfig.of(config);
        if (data == null || data.source().isEmpty()) {
            throw new IllegalArgumentException(name() + " reads no data.source: its test set cannot be rebuilt "
                    + "for a check of an exported model");
        }
        return darkknowledge.pipeline.RunData.load(store, provenance, runDir, data).test();
    }

    /**
     * For a run recorded before some key existed, the value that key had in effect there, where it is not
     * the key's default (the convention is that a new key's default keeps the old behaviour; a key whose
     * useful default changes what a run computes names the old value here, so that tables and claims do
     * not average such a run with new ones and a resumed run goes on as it started). {@code recorded} is
     * the run's config as written; only keys it lacks are taken. None by default.
     */
    default Map<String, String> olderRunsHad(Map<String, String> recorded) {
        return Map.of();
    }

    /** Runs it; the returned figures go to {@code result.properties}. */
    SortedMap<String, String> run(C config, RunContext context);
}
