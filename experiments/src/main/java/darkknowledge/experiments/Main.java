package darkknowledge.experiments;

import darkknowledge.bench.Bench;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Provenance;
import darkknowledge.core.ResultTables;
import darkknowledge.core.Scale;
import darkknowledge.data.DataFileException;
import darkknowledge.data.DataStore;
import darkknowledge.data.DatasetSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The command line behind {@code ./dk}: run, list, tables, fetch-data. */
@Command(name = "dk", mixinStandardHelpOptions = true, version = "dark-knowledge 0.1",
        description = "Dark Knowledge: Hinton, Vinyals & Dean (2015), reproduced and extended.",
        subcommands = {Main.Run.class, Main.ListCmd.class, Main.Tables.class, Main.FetchData.class, Main.BenchCmd.class,
                Main.ExportCmd.class})
public final class Main implements Callable<Integer> {

    @Override
    public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    public static void main(String[] args) {
        NativeLibraries.prepare();  // before ND4J's first product on MKL 2025 (dk preloads it already)
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException || e instanceof DataFileException || e instanceof IllegalArgumentException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl;
    }

    /** For an experiment's own {@code main}: the same as {@code ./dk run <name> args...}. */
    static void runExperiment(Experiment<?> experiment, String[] args) {
        List<String> all = new ArrayList<>(List.of("run", experiment.name()));
        all.addAll(List.of(args));
        main(all.toArray(String[]::new));
    }

    static Path repoPath(String first) {
        return Provenance.repoDir().resolve(first);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run an experiment (default: " + Experiments.DEFAULT + " at small scale) and write a run record.")
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "EXPERIMENT", description = "See `dk list`.")
        String experiment = Experiments.DEFAULT;

        @Option(names = "--scale", description = "tiny, small or full (default: run.scale of --config, else small).",
                converter = ScaleConverter.class)
        Scale scale;

        @Option(names = "--config", paramLabel = "FILE", description = "A .properties file of config keys.")
        Path config;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
        List<String> sets = new ArrayList<>();

        @Option(names = "--runs-dir", paramLabel = "DIR", description = "Where run records go (default: runs/ in the repo).")
        Path runsDir;

        @Option(names = "--print-config", description = "Print the resolved config and exit without running.")
        boolean printConfig;

        @Option(names = "--from", paramLabel = "STAGE", description = "pipeline: redo STAGE and every stage after it "
                + "instead of reusing finished ones (same as --set stages.from=STAGE).")
        String from;

        @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue a killed or failed run in RUN_DIR "
                + "(runs/<experiment>/<id>) with the config it recorded: finished models are loaded, an interrupted "
                + "one resumes from its last epoch checkpoint. Only engine.* keys may be --set: the engine does not "
                + "change what is trained, so a run may go on on a cluster or back in process.")
        Path resume;

        @Override
        public Integer call() {
            if (resume != null) {
                if (config != null || scale != null) {  // --set: Runner.resume accepts engine.* keys only
                    throw new IllegalArgumentException("--resume takes the config recorded in " + resume
                            + "; drop --config and --scale");
                }
                boolean interactive = System.console() != null && System.console().isTerminal();
                Runner.resume(resume, new DataStore(DataStore.defaultCacheDir()), interactive, sets);
                return 0;
            }
            if (from != null) {
                sets.add("stages.from=" + from);
            }
            Experiment<?> e = Experiments.byName(experiment).orElseThrow(() -> new IllegalArgumentException(
                    "unknown experiment '" + experiment + "'; known: "
                            + Experiments.all().stream().map(Experiment::name).toList()));
            return go(e);
        }

        private <C extends Record> int go(Experiment<C> e) {
            C cfg = Runner.resolve(e, scale, config, sets);
            if (printConfig) {
                System.out.print(Configs.toText(Configs.write("", cfg)));
                return 0;
            }
            DataStore store = new DataStore(DataStore.defaultCacheDir());
            boolean interactive = System.console() != null && System.console().isTerminal();
            Runner.run(e, cfg, runsDir != null ? runsDir : repoPath("runs"), store, interactive);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the experiments with their cards.")
    static final class ListCmd implements Callable<Integer> {
        @Override
        public Integer call() {
            for (Experiment<?> e : Experiments.all()) {
                System.out.printf("%-28s %s%n", e.name(), e.card());
            }
            return 0;
        }
    }

    @Command(name = "tables", mixinStandardHelpOptions = true,
            description = "Regenerate results/<experiment>.csv and .md from the run records, and the generated "
                    + "blocks (<!-- table:NAME -->) of README.md and docs/*.md.")
    static final class Tables implements Callable<Integer> {
        /**
         * What a key an older run lacks stands for: the value it had there ({@link Experiment#olderRunsHad}),
         * else the experiment's full-scale default.
         */
        static darkknowledge.core.RunRecord.MissingKeys defaults(Experiment<?> e) {
            return Experiments.missingKeys(e);
        }

        @Option(names = "--runs-dir", paramLabel = "DIR") Path runsDir;
        @Option(names = "--results-dir", paramLabel = "DIR") Path resultsDir;

        @Override
        public Integer call() {
            Path runs = runsDir != null ? runsDir : repoPath("runs");
            Path results = resultsDir != null ? resultsDir : repoPath("results");
            List<Path> docs = ResultTables.documents(Provenance.repoDir());
            for (Experiment<?> e : Experiments.all()) {
                ResultTables.Generated g = ResultTables.generate(runs, results, e.table(), "./dk tables", defaults(e));
                List<Path> in = ResultTables.updateBlocks(docs, e.name(), g.markdown());
                copyFigures(runs.resolve(e.name()), results, e.name());
                e.figures(runs.resolve(e.name()), results);
                System.out.printf("%-28s %d runs -> %s%s%n", e.name(), g.runs(), g.markdownFile(), alsoIn(in));
                for (Path extra : extraTables(results, e.name())) {
                    String stem = extra.getFileName().toString().replaceFirst("\\.md$", "");
                    List<Path> extraIn = ResultTables.updateBlocks(docs, stem, readString(extra));
                    System.out.printf("%-28s -> %s%s%n", stem, extra, alsoIn(extraIn));
                }
            }
            String summary = darkknowledge.core.Claims.markdown(runs, Experiments.claims(), "./dk tables",
                    name -> Experiments.byName(name).map(Tables::defaults).orElse(recorded -> java.util.Map.of()));
            darkknowledge.core.AtomicFiles.writeString(results.resolve("summary.md"), summary);
            List<Path> summaryIn = ResultTables.updateBlocks(docs, "summary", summary);
            System.out.printf("%-28s -> %s%s%n", "summary", results.resolve("summary.md"), alsoIn(summaryIn));
            Path bench = results.resolve("bench.csv");
            if (java.nio.file.Files.isRegularFile(bench)) {
                String md = Bench.markdown(bench);
                darkknowledge.core.AtomicFiles.writeString(results.resolve("bench.md"), md);
                List<Path> in = ResultTables.updateBlocks(docs, "bench", md);
                System.out.printf("%-28s -> %s%s%n", "bench", results.resolve("bench.md"), alsoIn(in));
            }
            String goals = Bench.goalsMarkdown(results, Provenance.repoDir());
            if (goals != null) {
                darkknowledge.core.AtomicFiles.writeString(results.resolve("bench-goals.md"), goals);
                List<Path> in = ResultTables.updateBlocks(docs, "bench-goals", goals);
                System.out.printf("%-28s -> %s%s%n", "bench goals", results.resolve("bench-goals.md"), alsoIn(in));
            }
            return 0;
        }

        /**
         * The further tables an experiment's {@link Experiment#figures} wrote beside its main one
         * ({@code results/<experiment>-<what>.md}, e.g. the ensemble-distillation seeds table): each is
         * also the generated block {@code <!-- table:<experiment>-<what> -->} of the documents.
         */
        static List<Path> extraTables(Path results, String experiment) {
            try (var files = java.nio.file.Files.list(results)) {
                return files.filter(f -> f.getFileName().toString().startsWith(experiment + "-")
                        && f.getFileName().toString().endsWith(".md")).sorted().toList();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot list " + results, e);
            }
        }

        private static String readString(Path file) {
            try {
                return java.nio.file.Files.readString(file);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read " + file, e);
            }
        }

        /** " (+ README.md, docs/performance.md)": the documents a block was refreshed in, if any. */
        private static String alsoIn(List<Path> documents) {
            return documents.isEmpty() ? "" : documents.stream()
                    .map(d -> Provenance.repoDir().relativize(d.toAbsolutePath().normalize()).toString())
                    .collect(java.util.stream.Collectors.joining(", ", " (+ ", ")"));
        }
    }

    /**
     * Copies the PNG figures of the newest full-scale run of an experiment into {@code results/}
     * ({@code <experiment>.png} when the figure is named after it, else {@code <experiment>-<figure>.png}).
     */
    static void copyFigures(Path experimentRuns, Path results, String experiment) {
        // The newest full-scale run's figures; an experiment with no full-scale run yet shows its
        // newest small one, named so (<experiment>-small-<figure>.png); tiny runs show none.
        List<FinishedRuns.Run> runs = FinishedRuns.ofLargestScale(experimentRuns, java.util.Map.of());
        String scale = runs.isEmpty() ? "tiny" : runs.getLast().config().get("run.scale");
        if (!scale.equals("tiny")) {
            copyPngs(runs.getLast().dir(), results, experiment, scale.equals("full") ? "" : "small-");
        }
    }

    private static void copyPngs(Path run, Path results, String experiment, String tag) {
        try (var files = java.nio.file.Files.list(run)) {
            for (Path png : files.filter(f -> f.toString().endsWith(".png")).toList()) {
                String name = png.getFileName().toString();
                Path target = results.resolve(name.equals(experiment + ".png") && tag.isEmpty() ? name
                        : experiment + "-" + tag + name);
                Path tmp = results.resolve("." + target.getFileName() + ".tmp");
                java.nio.file.Files.createDirectories(results);
                java.nio.file.Files.copy(png, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                darkknowledge.core.AtomicFiles.moveAtomically(tmp, target);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot copy the figures of " + run, e);
        }
    }

    @Command(name = "fetch-data", mixinStandardHelpOptions = true,
            description = "Fetch and verify the datasets (MNIST, Fashion-MNIST) into the data cache.")
    static final class FetchData implements Callable<Integer> {
        @Override
        public Integer call() {
            DataStore store = new DataStore(DataStore.defaultCacheDir());
            for (DatasetSource s : DatasetSource.values()) {
                System.out.printf("%-14s %s%n", s, store.ensure(s));
            }
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Measure training throughput against the GEMM ceiling and the NumPy peer, distillation "
                    + "overhead and the §5.4 solver; writes results/bench.csv and bench.provenance.properties beside it.")
    static final class BenchCmd implements Callable<Integer> {
        @Option(names = "--scale", description = "tiny (seconds, proves it works), small or full (default).",
                converter = ScaleConverter.class)
        Scale scale = Scale.FULL;

        @Option(names = "--out", paramLabel = "FILE", description = "CSV to write (default: results/bench.csv; "
                + "tiny runs default to target/bench-tiny.csv so they never overwrite measured results).")
        Path out;

        @Option(names = "--peer", paramLabel = "FILE", description = "The NumPy peer script (default: $DK_PEER, "
                + "else the repository's bench/peer/numpy_mlp.py).")
        Path peer;

        @Option(names = "--engines", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Time the glyphs specialists and soft targets on the engines: in-process pool, Spark "
                        + "local[2] and (small, full) a two-worker standalone cluster on this machine (default: on).")
        boolean engines;

        @Override
        public Integer call() {
            Path peerScript = Bench.peerScript(peer);
            DataStore store = new DataStore(DataStore.defaultCacheDir());
            RuntimeException failed = null;
            Bench bench = new Bench(scale, store, peerScript);
            List<Bench.Row> rows = new java.util.ArrayList<>(bench.run());
            if (engines) {
                try {
                    rows.addAll(EngineRows.measure(scale, store, tempDir("dk-engine-bench"), bench.provenance()));
                } catch (RuntimeException e) {
                    // the other rows took minutes: they are written, the engines' failure is recorded and shown
                    bench.provenance().put("engines.error", String.valueOf(e));
                    System.err.println("error: the engine rows failed, the other rows are written: " + e);
                    failed = e;
                }
                bench.provenance().put("time.end", java.time.Instant.now().toString());  // after the engines too
            }
            Path csv = out != null ? out : scale == Scale.TINY ? repoPath("target/bench-tiny.csv")
                    : repoPath("results/bench.csv");
            Bench.write(rows, bench.provenance(), csv,
                    "./dk bench --scale " + scale.name().toLowerCase(java.util.Locale.ROOT));
            System.out.print(Bench.table(rows));
            System.out.println("written: " + csv + " and " + Bench.provenanceFile(csv).getFileName());
            if (failed != null) {
                throw failed;
            }
            return 0;
        }

        private static Path tempDir(String prefix) {
            try {
                return java.nio.file.Files.createTempDirectory(prefix);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot create a temporary directory for the bench", e);
            }
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Export a trained model (by default the run's student) as a MultiLayerNetwork of DL4J's "
                    + "stock layers (.zip) and as an ONNX graph (.onnx), each carrying the run's provenance "
                    + "(docs/export.md). --verify measures the files on the run's test set through ONNX Runtime "
                    + "and stock DL4J (a child JVM without this project's classes) against the run's own figure.")
    static final class ExportCmd implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "RUN_DIR_OR_MODEL",
                description = "A run directory (runs/<experiment>/<id>) or a saved model file (.zip).")
        Path target;

        @Option(names = "--model", paramLabel = "NAME", description = "Which of the run's models (default: its "
                + "student: student, or student_ensemble for the pipeline); an unknown name lists the run's models.")
        String model;

        @Option(names = "--format", split = ",", paramLabel = "dl4j|onnx", converter = FormatConverter.class,
                description = "dl4j, onnx or both (comma-separated; default: dl4j,onnx).")
        List<darkknowledge.export.Export.Format> formats = new ArrayList<>(List.of(
                darkknowledge.export.Export.Format.DL4J, darkknowledge.export.Export.Format.ONNX));

        @Option(names = "--out", paramLabel = "FILE", description = "Where the file goes (one --format only; "
                + "default: export/<model>.zip or .onnx beside the model).")
        Path out;

        @Option(names = "--temperature-input", description = "ONNX: a required scalar input 'temperature', "
                + "probabilities = softmax(logits / temperature) (default: none, softmax(logits)).")
        boolean temperatureInput;

        @Option(names = "--verify", description = "Measure the exported files on the run's test set (ONNX Runtime, "
                + "stock DL4J in a child JVM) and fail unless each equals the run's recorded test figure.")
        boolean verify;

        @Override
        public Integer call() {
            if (out != null && formats.size() != 1) {
                throw new IllegalArgumentException("--out names one file; give one --format (dl4j or onnx), got "
                        + formats.size());
            }
            var source = darkknowledge.export.Export.resolve(target, model);
            darkknowledge.generalist.Classifier c = darkknowledge.generalist.Classifier.load(source.file());
            java.util.Map<darkknowledge.export.Export.Format, Path> files = new java.util.EnumMap<>(
                    darkknowledge.export.Export.Format.class);
            for (var f : new java.util.LinkedHashSet<>(formats)) {
                Path file = out != null ? out : source.defaultOut(f);
                darkknowledge.export.Export.write(source, c, f, file,
                        temperatureInput && f == darkknowledge.export.Export.Format.ONNX);
                files.put(f, file);
                System.out.printf("%s %s -> %s%n", source.name(), f.name().toLowerCase(java.util.Locale.ROOT), file);
            }
            if (!verify) {
                return 0;
            }
            if (temperatureInput) {
                throw new IllegalArgumentException("--verify runs the graph without a temperature; drop "
                        + "--temperature-input (or verify a separate export)");
            }
            ExportCheck.Outcome o = ExportCheck.verify(source, c, files, new DataStore(DataStore.defaultCacheDir()));
            System.out.println(o.table());
            System.out.println(o.passed() ? "verified: every way gives the run's figure"
                    : "FAILED: a way differs from the run's figure");
            return o.passed() ? 0 : 1;
        }
    }

    static final class FormatConverter implements CommandLine.ITypeConverter<darkknowledge.export.Export.Format> {
        @Override
        public darkknowledge.export.Export.Format convert(String value) {
            try {
                return darkknowledge.export.Export.Format.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class ScaleConverter implements CommandLine.ITypeConverter<Scale> {
        @Override
        public Scale convert(String value) {
            for (Scale s : Scale.values()) {
                if (s.name().equalsIgnoreCase(value)) {
                    return s;
                }
            }
            throw new CommandLine.TypeConversionException("expected tiny, small or full, got '" + value + "'");
        }
    }
}
