package darkknowledge.experiments;

import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.Settings;
import darkknowledge.data.DataStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves an experiment's configuration (defaults &lt; scale preset &lt; {@code --config file}
 * &lt; {@code --set key=value}), writes it to a new run record before anything trains, runs the
 * experiment, and writes its provenance and result.
 */
public final class Runner {
    private static final Logger LOG = LoggerFactory.getLogger(Runner.class);

    private Runner() {
    }

    /** A finished run: its directory and its figures. */
    public record Outcome(Path dir, SortedMap<String, String> result) {
    }

    /** The resolved configuration of {@code experiment}; unknown keys and bad values fail here. */
    public static <C extends Record> C resolve(Experiment<C> experiment, Scale scale, Path configFile,
                                               List<String> sets) {
        Map<String, String> file = configFile == null ? Map.of() : Settings.readFile(configFile);
        Scale effective = scale != null ? scale
                : file.containsKey("run.scale") ? parseScale(file.get("run.scale"), "--config " + configFile)
                : Scale.SMALL;
        Settings s = Settings.empty().overlay(experiment.preset(effective), "the " + lower(effective) + " preset");
        s = s.overlay(file, "--config " + configFile);
        s = s.overlay(Map.of("run.scale", lower(effective)), "--scale");
        s = overlaySets(s, sets);
        C config = Configs.read(s, "", experiment.defaults());
        s.requireAllKnown(Configs.keys("", experiment.defaults()));
        requireValidation(experiment, config);
        darkknowledge.pipeline.DataConfig.requireHoldOutWhereNeeded(config);
        Inputs.requireExisting(config);
        return config;
    }

    /** Refuses {@code data.validationSize=0} for an experiment that needs a validation split. */
    static void requireValidation(Experiment<?> experiment, Record config) {
        String why = experiment.needsValidation();
        if (why == null) {
            return;
        }
        darkknowledge.pipeline.DataConfig data = darkknowledge.pipeline.DataConfig.of(config);
        if (data == null) {
            throw new IllegalStateException(experiment.name() + " needs a validation split but its config has no data section");
        }
        if (data.validationSize() <= 0) {
            throw new darkknowledge.core.ConfigException("data.validationSize=" + data.validationSize() + ": "
                    + experiment.name() + " needs a validation split (" + why + "); set data.validationSize > 0");
        }
    }

    /** {@code --set KEY=VALUE} assignments over {@code s}, each named as its origin. */
    private static Settings overlaySets(Settings s, List<String> sets) {
        for (String set : sets) {
            var kv = Settings.parseAssignment(set);
            s = s.overlay(Map.of(kv.getKey(), kv.getValue()), "--set " + set);
        }
        return s;
    }

    public static <C extends Record> Outcome run(Experiment<C> experiment, C config, Path runsRoot, DataStore data,
                                                 boolean interactive) {
        SortedMap<String, String> resolved = Configs.write("", config);
        RunRecord record = RunRecord.create(runsRoot, experiment.name(), resolved);
        LOG.info("{}: run record {}", experiment.name(), record.dir());
        Provenance provenance = Provenance.capture(Provenance.repoDir())
                .putAll("", NativeLibraries.describe())
                .put("experiment", experiment.name())
                .put("config.hash", Configs.hash(resolved))
                .put("run.id", record.id());
        return execute(experiment, config, record, provenance, data, interactive);
    }

    /**
     * Continues the run in {@code runDir} (killed, or failed part-way) with the config it recorded:
     * models it finished are loaded, a model interrupted mid-training resumes from its last
     * checkpoint, the rest is trained. The provenance keeps the first start and notes each resume.
     */
    public static Outcome resume(Path runDir, DataStore data, boolean interactive) {
        return resume(runDir, data, interactive, List.of());
    }

    /**
     * {@link #resume(Path, DataStore, boolean)} on another engine: {@code engineSets} ({@code engine.*=…}
     * only; nothing else may change under a run) replace the recorded engine, in the run's config
     * and noted in its provenance. The engines train the same models (SpecialistEnginesTest), so a run
     * started in process may go on on a cluster and back.
     */
    public static Outcome resume(Path runDir, DataStore data, boolean interactive, List<String> engineSets) {
        Path dir = runDir.toAbsolutePath().normalize();
        String name = dir.getParent() == null ? "" : dir.getParent().getFileName().toString();
        Experiment<?> experiment = Experiments.byName(name).orElseThrow(() -> new darkknowledge.core.ConfigException(
                "--resume: " + dir + " is not under runs/<experiment>/ of a known experiment; known: "
                        + Experiments.all().stream().map(Experiment::name).toList()));
        return resumeAs(experiment, dir, data, interactive, engineSets);
    }

    private static <C extends Record> Outcome resumeAs(Experiment<C> experiment, Path dir, DataStore data,
                                                        boolean interactive, List<String> engineSets) {
        RunRecord record = RunRecord.open(dir);
        SortedMap<String, String> recorded = RunRecord.readProperties(dir.resolve(RunRecord.CONFIG));
        Settings s = recordedSettings(experiment, dir.resolve(RunRecord.CONFIG), recorded);
        for (String set : engineSets) {
            if (!Settings.parseAssignment(set).getKey().startsWith("engine.")) {
                throw new darkknowledge.core.ConfigException("--resume --set " + set
                        + ": only engine.* keys may change under a run");
            }
        }
        s = overlaySets(s, engineSets);
        C config = Configs.read(s, "", experiment.defaults());
        s.requireAllKnown(Configs.keys("", experiment.defaults()));
        requireValidation(experiment, config);
        darkknowledge.pipeline.DataConfig.requireHoldOutWhereNeeded(config);
        Inputs.requireExisting(config);
        if (!engineSets.isEmpty()) {
            recorded = Configs.write("", config);
            darkknowledge.core.AtomicFiles.writeString(dir.resolve(RunRecord.CONFIG), Configs.toText(recorded));
        }
        Path prov = dir.resolve(RunRecord.PROVENANCE);
        Provenance provenance = Provenance.capture(Provenance.repoDir()).putAll("", NativeLibraries.describe());
        if (java.nio.file.Files.isRegularFile(prov)) {
            SortedMap<String, String> before = RunRecord.readProperties(prov);
            // The run's identity stays that of its first start; each resume records its own commit.
            for (String key : List.of("time.start", "git.commit", "git.dirty")) {
                String now = provenance.entries().get(key);
                if (!key.equals("time.start")) {
                    provenance.put("resumed." + (count(before) + 1) + "." + key, now == null ? "" : now);
                }
                provenance.put(key, before.getOrDefault(key, ""));
            }
            before.forEach((k, v) -> {
                if (k.startsWith("resumed.") || k.equals(RunData.TRAIN_INDICES_KEY)) {
                    provenance.put(k, v);  // the split is checked against the one drawn now (RunData.of)
                }
            });
            provenance.put("resumed." + (count(before) + 1) + ".time", Instant.now().toString());
            if (!engineSets.isEmpty()) {
                provenance.put("resumed." + (count(before) + 1) + ".engine", String.join(" ", engineSets));
            }
        }
        provenance.put("experiment", experiment.name()).put("config.hash", Configs.hash(recorded)).put("run.id", record.id());
        LOG.info("{}: resuming run record {}", experiment.name(), dir);
        return execute(experiment, config, record, provenance, data, interactive);
    }

    /**
     * The settings of a recorded run's config ({@code recorded}, read from {@code file}): a key the run
     * predates keeps the value it had then ({@link Experiment#olderRunsHad}), not today's default.
     */
    static Settings recordedSettings(Experiment<?> experiment, Path file, SortedMap<String, String> recorded) {
        Map<String, String> had = new java.util.TreeMap<>(experiment.olderRunsHad(recorded));
        had.keySet().removeAll(recorded.keySet());
        return Settings.empty().overlay(had, "the value " + file + " had before the key existed")
                .overlay(recorded, file.toString());
    }

    /** How many times the run was resumed before. */
    private static int count(SortedMap<String, String> provenance) {
        return (int) provenance.keySet().stream().filter(k -> k.startsWith("resumed.") && k.endsWith(".time")).count();
    }

    private static <C extends Record> Outcome execute(Experiment<C> experiment, C config, RunRecord record,
                                                      Provenance provenance, DataStore data, boolean interactive) {
        record.writeProvenance(provenance);
        long seed = runConfig(config).seed();
        RunContext ctx = new RunContext(record, new darkknowledge.core.Seeds(seed), data, provenance,
                new Progress(record, interactive));
        long t0 = System.nanoTime();
        SortedMap<String, String> result = experiment.run(config, ctx);
        double seconds = (System.nanoTime() - t0) / 1e9;
        result.put("run.wall_seconds", String.format(Locale.ROOT, "%.1f", seconds));
        provenance.put("time.end", Instant.now().toString());
        record.writeProvenance(provenance);
        record.writeResult(result);
        LOG.info("{}: finished in {}; results in {}", experiment.name(),
                Progress.format(java.time.Duration.ofSeconds(Math.round(seconds))), record.dir().resolve(RunRecord.RESULT));
        result.forEach((k, v) -> LOG.info("  {} = {}", k, v));
        return new Outcome(record.dir(), result);
    }

    /** The {@code run} section of an experiment's config (every experiment config has one). */
    static darkknowledge.core.RunConfig runConfig(Record config) {
        for (var component : config.getClass().getRecordComponents()) {
            if (component.getType() == darkknowledge.core.RunConfig.class) {
                try {
                    return (darkknowledge.core.RunConfig) component.getAccessor().invoke(config);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("cannot read " + component + " of " + config.getClass(), e);
                }
            }
        }
        throw new IllegalArgumentException(config.getClass().getName() + " has no RunConfig section");
    }

    static String lower(Scale s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    private static Scale parseScale(String raw, String origin) {
        for (Scale s : Scale.values()) {
            if (s.name().equalsIgnoreCase(raw.trim())) {
                return s;
            }
        }
        throw new darkknowledge.core.ConfigException("run.scale (from " + origin + "): expected tiny, small or full, got '" + raw + "'");
    }
}
