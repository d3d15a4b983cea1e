package darkknowledge.bench;

import darkknowledge.kernels.Cpu;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Provenance;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.data.DataStore;
import darkknowledge.data.Dataset;
import darkknowledge.data.DatasetSource;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.stream.IntStream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code ./dk bench}: ratios measured in one process on this machine, written to
 * {@code results/bench.csv}, with {@code bench.provenance.properties} beside it (git state, JVM,
 * libraries, CPU model and ISA flags, BLAS, thread settings, seed).
 * <ul>
 * <li>Training throughput of the 784-800-800-10 and 784-1200-1200-10 nets against the GEMM ceiling,
 *     DL4J's stock parts, the NumPy peer; one Adam step; distillation overhead ({@link TrainingBench}).
 * <li>The glyph generalist's conv net at 500 and 3,755 classes on each conv backend against the same
 *     ceiling and DL4J's stock layers, and dnnl's in bf16 where the CPU has it ({@link ConvBench}).
 * <li>The §5.4 solver with 10, 100 and 1,000 active specialist classes vs a 1,000-class forward pass
 *     ({@link SolverBench}).
 * <li>Specialists in parallel: 4 specialists with 2 workers vs 1 ({@link SpecialistsBench}).
 * <li>Inference of the exported student in ONNX Runtime vs our Classifier and vs the specialist
 *     ensemble it replaces, batch 1 and 256 ({@link InferenceBench}).
 * <li>Clustering: exact covariance + K-means at 500 and 1,000 classes, sketched at 1,000, 4,000 and
 *     15,000 (JFT's size) ({@link ClusteringBench}).
 * </ul>
 * The rows come in that order; their names, units and ratios are what {@code ./dk tables} renders.
 */
public final class Bench {
    /** One measured figure and what it is compared with. */
    public record Row(String measure, double value, String unit, double ratio, String ratioOf, String note) {
    }

    /** Master seed of every random array, net and shuffle the bench draws. */
    public static final long SEED = 20150309L;

    /**
     * Rounds that alternate ours with each reference (ceiling, stock DL4J, NumPy peer): each ratio is
     * reported as its median over them, with its range.
     */
    public static final int ROUNDS = 5;

    private final Scale scale;
    private final DataStore data;
    private final Path peer;
    private final Seeds seeds = new Seeds(SEED);
    private Provenance provenance;

    /**
     * @param peer the NumPy peer script ({@link #peerScript}); {@code null} or missing gives a
     *     "not found" row instead of the peer's ratio
     */
    public Bench(Scale scale, DataStore data, Path peer) {
        this.scale = scale;
        this.data = data;
        this.peer = peer;
    }

    /**
     * The NumPy peer script to run: {@code option} ({@code --peer}) if given, else {@code $DK_PEER}
     * if set, else the repository's own {@code bench/peer/numpy_mlp.py} (under {@link Provenance#repoDir}).
     */
    public static Path peerScript(Path option) {
        return NumpyPeer.script(option, System.getenv("DK_PEER"), Provenance.repoDir());
    }

    /** Runs every bench at this scale; {@link #provenance()} then describes the run. */
    public List<Row> run() {
        provenance = BenchProvenance.capture(Provenance.repoDir(), SEED)
                .put("bench.scale", scale.name().toLowerCase(Locale.ROOT))
                .put("bench.rounds", String.valueOf(ROUNDS));
        // Anything that still draws from ND4J's global stream (nothing here should) is seeded too.
        Nd4j.getRandom().setSeed(seeds.derive("nd4j"));
        List<Row> rows = new ArrayList<>();
        Dataset train = data.load(DatasetSource.MNIST, true);
        int n = scale == Scale.FULL ? train.numExamples() : scale == Scale.SMALL ? 12000 : 1024;
        Dataset d = train.subset(IntStream.range(0, n).toArray());
        INDArray x = d.featuresMatrix();
        INDArray y = d.oneHot();
        // the tiny bench never runs the NumPy peer: seconds of Python would swamp a 1,024-example epoch
        DoubleSupplier numpy = scale == Scale.TINY ? null : () -> NumpyPeer.secondsPerEpoch(peer, data, n, rows);
        try (GemmCeiling ceiling = GemmCeiling.start(Cpu.CPUINFO, scale == Scale.TINY ? 2e7 : 2e9)) {
            provenance.putAll("", ceiling.provenance());
            provenance.put("blas.mkl.version", ceiling.mkl().version());
            rows.addAll(TrainingBench.measure(scale, seeds, x, y, ceiling, numpy));
            rows.addAll(ConvBench.measure(scale, seeds.derive("conv"), ceiling));
        }
        rows.addAll(SolverBench.measure(scale == Scale.TINY ? 200 : 5000, seeds));
        rows.addAll(SpecialistsBench.measure(scale == Scale.TINY ? 30 : 150, seeds));
        rows.addAll(InferenceBench.measure(scale == Scale.TINY ? List.of(64, 64) : List.of(800, 800),
                scale == Scale.TINY ? 3 : 10, scale == Scale.TINY ? 0.3 : scale == Scale.SMALL ? 2 : 5, seeds));
        // 4,000 classes took minutes here (O(n·C²) covariance, K-means in C dimensions): see ClusteringBench.
        for (int classes : scale == Scale.TINY ? List.of(200) : List.of(500, 1000)) {
            rows.add(ClusteringBench.exact(classes, seeds));
        }
        for (int classes : scale == Scale.TINY ? List.of(200) : scale == Scale.SMALL ? List.of(1000, 4000)
                : List.of(1000, 4000, 15000)) {
            rows.add(ClusteringBench.sketched(classes, seeds));
        }
        BenchProvenance.finish(provenance);
        return rows;
    }

    /** How the last {@link #run()} was made; {@code null} before it. */
    public Provenance provenance() {
        return provenance;
    }

    /**
     * Writes the rows to {@code csv} (first line: the command that made them) and the provenance to
     * {@link #provenanceFile(Path) beside it}, each atomically.
     */
    public static void write(List<Row> rows, Provenance provenance, Path csv, String command) {
        AtomicFiles.write(csv, out -> {
            var w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            w.write("# generated by: " + command + "\n");
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder()
                    .setHeader("measure", "value", "unit", "ratio", "ratio_of", "note").build())) {
                for (Row r : rows) {
                    p.printRecord(r.measure(), fmt(r.value()), r.unit(), fmt(r.ratio()), r.ratioOf(), r.note());
                }
            }
        });
        BenchProvenance.write(provenance.put("bench.command", command), provenanceFile(csv));
    }

    /** {@code results/bench.csv} -> {@code results/bench.provenance.properties}. */
    public static Path provenanceFile(Path csv) {
        String name = csv.getFileName().toString();
        String stem = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
        return csv.resolveSibling(stem + ".provenance.properties");
    }

    /**
     * The performance goals, met or missed, on every bench the project keeps ({@code results/bench.csv}
     * and {@code results/bench-cpus/*.csv}, one column each; {@link BenchGoals}), links relative to
     * {@code repo}; null when there is no bench table.
     */
    public static String goalsMarkdown(Path results, Path repo) {
        List<Path> csvs = BenchGoals.benches(results);
        return csvs.isEmpty() ? null : BenchGoals.markdown(csvs, repo.toAbsolutePath().normalize());
    }

    /** {@code results/bench.csv} as a markdown table (for {@code ./dk tables}), with the command that made it. */
    public static String markdown(Path csv) {
        try (var reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            String first = reader.readLine();
            String command = first != null && first.startsWith("# generated by: ") ? first.substring(16) : "./dk bench";
            var records = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(reader);
            StringBuilder b = new StringBuilder("<!-- generated by `./dk tables` from results/bench.csv; do not edit -->\n")
                    .append("**Benchmarks** (`").append(command).append("`, one process) on ")
                    .append(machine(provenanceFile(csv))).append("\n\n")
                    .append("| measure | value | unit | ratio | ratio of | note |\n|---|---|---|---|---|---|\n");
            for (var r : records) {
                b.append("| ").append(r.get("measure")).append(" | ").append(r.get("value")).append(" | ")
                        .append(r.get("unit")).append(" | ").append(r.get("ratio")).append(" | ").append(r.get("ratio_of"))
                        .append(" | ").append(r.get("note").replace("|", "\\|")).append(" |\n");
            }
            return b.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + csv, e);
        }
    }

    /**
     * The machine a bench ran on, from its provenance file: CPU model, cores, its AVX-512 / bf16
     * flags, ND4J's BLAS and thread settings, the MKL build of the ceiling, rounds, commit and date.
     * Says so when the file is missing (a table from before the bench recorded it).
     */
    static String machine(Path provenance) {
        if (!Files.isRegularFile(provenance)) {
            return "a machine not recorded (no " + provenance.getFileName() + " beside the table)";
        }
        Map<String, String> p = RunRecord.readProperties(provenance);
        List<String> flags = Cpu.FLAGS.stream().filter(f -> "true".equals(p.get("cpu.flag." + f))).toList();
        String commit = p.getOrDefault("git.commit", "?");
        return String.format(Locale.ROOT, "%s, %s cores, %s; ND4J's BLAS %s%s, OMP_NUM_THREADS=%s, MKL_NUM_THREADS=%s, "
                        + "MKL_THREADING_LAYER=%s; ceiling: %s; %s rounds; commit %s%s, %s",
                p.getOrDefault("cpu.model", "unknown CPU") + (p.containsKey("cpu.family") ? " (family/model "
                        + p.get("cpu.family") + ")" : ""), p.getOrDefault("machine.cores", "?"),
                flags.isEmpty() ? "no AVX-512 or bf16 flags" : String.join(" ", flags),
                p.getOrDefault("native.blas", "?") + (p.containsKey("native.gemm") ? ", our kernels' products on "
                        + p.get("native.gemm").split(" \\(", 2)[0] : ""),
                p.containsKey("gemm.training.artifact") ? " (" + p.get("gemm.training.artifact") + ")" : "",
                p.getOrDefault("env.OMP_NUM_THREADS", "?"), p.getOrDefault("env.MKL_NUM_THREADS", "?"),
                p.getOrDefault("env.MKL_THREADING_LAYER", "?"), ceiling(p),
                p.getOrDefault("bench.rounds", "1"), commit.substring(0, Math.min(10, commit.length())),
                "true".equals(p.get("git.dirty")) ? " (dirty)" : "",
                p.getOrDefault("time.start", "?").substring(0, Math.min(10, p.getOrDefault("time.start", "?").length())));
    }

    /** The libraries a bench's ceiling was the faster of, or the one it was (a bench from before OpenBLAS was measured). */
    private static String ceiling(Map<String, String> p) {
        if (p.containsKey("gemm.mkl.artifact") || p.containsKey("gemm.openblas.artifact")) {
            return "the faster of " + p.getOrDefault("gemm.mkl.artifact", "?") + " and "
                    + p.getOrDefault("gemm.openblas.artifact", "?");
        }
        String alone = p.getOrDefault("gemm.ceiling.artifact", p.get("gemm.training.artifact"));
        return alone != null ? alone + " alone" : "not recorded";
    }

    /** The rows as an aligned plain-text table for the terminal. */
    public static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-52s %12s %-11s %8s  %s%n", "measure", "value",
                "unit", "ratio", "ratio of / note"));
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "%-52s %12s %-11s %8s  %s%s%n", r.measure(), fmt(r.value()), r.unit(),
                    fmt(r.ratio()), r.ratioOf(), r.note().isEmpty() ? "" : " — " + r.note()));
        }
        return b.toString();
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.3g", v);
    }
}
