package darkknowledge.bench;

import darkknowledge.core.Cpu;
import darkknowledge.gemmprobe.ProbeJar;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The machine's own limit for a training step: the matrix products of one step of an MLP, each
 * timed as a single call of Intel MKL with nothing in between ({@link ProbeProcess}), in fp32
 * ({@code cblas_sgemm}) and, where the CPU has bfloat16 units ({@code avx512_bf16} or
 * {@code amx_bf16} in /proc/cpuinfo), in bf16 ({@code cblas_gemm_bf16bf16f32}: bfloat16 operands,
 * fp32 accumulation). Two builds: the newest MKL the project resolves ({@code gemm-probe}'s,
 * 2025.0), whose fp32 rate is the bench's ceiling, and the build ND4J loads for training (2025.0 too;
 * the earlier 2022.0 reached about 0.75 of that rate).
 * Each runs in a child JVM of its own with MKL's default threading layer (Intel OpenMP, which MKL
 * ships) and this process's thread count; a rate is {@code Σ 2·m·n·k / Σ seconds} over the step's
 * products.
 */
final class GemmCeiling implements AutoCloseable {
    /** Threading of the probes: MKL's own OpenMP runtime (in the child there is no ND4J pool to share). */
    static final Map<String, String> PROBE_ENVIRONMENT = Map.of("MKL_THREADING_LAYER", "INTEL");

    /**
     * One matrix product of a training step, row-major: C (m×n) = op(A) op(B), inner dimension k.
     *
     * @param role "fwd" ({@code z = a W}), "dW" ({@code aᵀ δ}) or "dX" ({@code δ Wᵀ})
     */
    record Product(String role, int m, int n, int k, boolean transA, boolean transB) {
        double flop() {
            return 2.0 * m * n * k;
        }

        /** The probe's spec: {@code <m>x<n>x<k>:<N|T><N|T>}. */
        String spec() {
            return m + "x" + n + "x" + k + ":" + (transA ? 'T' : 'N') + (transB ? 'T' : 'N');
        }

        String label() {
            return role + " " + m + "×" + n + "×" + k;
        }
    }

    /**
     * The products of one training step of an MLP with these layer sizes (input first) at this
     * batch: per layer (in → out) the forward {@code z = a W} (batch×out×in), the weight gradient
     * {@code aᵀ δ} (in×out×batch) and the input gradient {@code δ Wᵀ} (batch×in×out): the
     * {@code 6 · weights · batch} floating-point operations a step's effective rate counts.
     */
    static List<Product> trainingStep(List<Integer> sizes, int batch) {
        List<Product> step = new ArrayList<>();
        for (int i = 0; i + 1 < sizes.size(); i++) {
            int in = sizes.get(i);
            int out = sizes.get(i + 1);
            step.add(new Product("fwd", batch, out, in, false, false));
            step.add(new Product("dW", in, out, batch, true, false));
            step.add(new Product("dX", batch, in, out, false, true));
        }
        return step;
    }

    /** Seconds per call of each product; {@code bf16} is null where the CPU has no bf16 units. */
    record Round(Map<Product, Double> fp32, Map<Product, Double> bf16, Map<Product, Double> trainingFp32) {
    }

    /** GFLOP/s of a set of products, each called once: {@code Σ 2·m·n·k / Σ seconds}. */
    static double gflops(Map<Product, Double> secondsPerCall) {
        double flop = 0;
        double seconds = 0;
        for (var e : secondsPerCall.entrySet()) {
            flop += e.getKey().flop();
            seconds += e.getValue();
        }
        return flop / seconds / 1e9;
    }

    private final ProbeProcess newest;
    private final ProbeProcess training;
    private final String bf16Unsupported;
    private final double flopPerTiming;

    private GemmCeiling(ProbeProcess newest, ProbeProcess training, String bf16Unsupported, double flopPerTiming) {
        this.newest = newest;
        this.training = training;
        this.bf16Unsupported = bf16Unsupported;
        this.flopPerTiming = flopPerTiming;
    }

    /**
     * Starts both probes. bf16 is measured when {@code cpuinfo}'s flags have {@code avx512_bf16} or
     * {@code amx_bf16}.
     *
     * @param flopPerTiming the work of one timing of one product (best of 3 per round)
     */
    static GemmCeiling start(Path cpuinfo, double flopPerTiming) {
        ProbeProcess newest = ProbeProcess.start(newestLibrary(), PROBE_ENVIRONMENT);
        try {
            ProbeProcess training = ProbeProcess.start(trainingLibrary(), PROBE_ENVIRONMENT);
            return new GemmCeiling(newest, training, bf16Unsupported(Cpu.info(cpuinfo)), flopPerTiming);
        } catch (RuntimeException e) {
            newest.close();
            throw e;
        }
    }

    /** Why bf16 is not measured here, or null when the CPU flags say it has bf16 units ({@link Cpu#bf16Unsupported}). */
    static String bf16Unsupported(Map<String, String> cpu) {
        String why = Cpu.bf16Unsupported(cpu);
        if (why == null) {
            return null;
        }
        return (why.contains("unknown") ? "not measured: " : "not supported on this CPU: ") + why;
    }

    /** Null when bf16 is measured, else why not. */
    String bf16Unsupported() {
        return bf16Unsupported;
    }

    ProbeProcess newest() {
        return newest;
    }

    ProbeProcess training() {
        return training;
    }

    /** One round: each product in fp32 and bf16 on the newest MKL, then in fp32 on ND4J's. */
    Round measure(List<Product> products) {
        var fp32 = newest.secondsPerCall(false, flopPerTiming, products);
        var bf16 = bf16Unsupported == null ? newest.secondsPerCall(true, flopPerTiming, products) : null;
        var nd4j = training.secondsPerCall(false, flopPerTiming, products);
        return new Round(fp32, bf16, nd4j);
    }

    /**
     * For the bench's provenance: per probe ({@code gemm.ceiling.*}: the newest MKL;
     * {@code gemm.training.*}: ND4J's) its Maven artifact, the version MKL reports of itself, its
     * threads and the settings it ran with; {@code gemm.bf16}: "measured" or why not.
     */
    SortedMap<String, String> provenance() {
        SortedMap<String, String> p = new TreeMap<>();
        for (var e : Map.of("gemm.ceiling", newest, "gemm.training", training).entrySet()) {
            ProbeProcess probe = e.getValue();
            p.put(e.getKey() + ".artifact", probe.library().artifact());
            p.put(e.getKey() + ".version", probe.version());
            p.put(e.getKey() + ".threads", String.valueOf(probe.threads()));
            p.put(e.getKey() + ".env", new TreeMap<>(probe.environment()).toString());
        }
        p.put("gemm.bf16", bf16Unsupported == null ? "measured" : bf16Unsupported);
        return p;
    }

    @Override
    public void close() {
        try {
            newest.close();
        } finally {
            training.close();
        }
    }

    /** gemm-probe's own MKL build (the newest), with the class path Maven resolved for it. */
    static ProbeProcess.Library newestLibrary() {
        String artifact = ProbeJar.builds().getProperty("mkl.artifact");
        return new ProbeProcess.Library(name(artifact), artifact, ProbeJar.libraryClasspath());
    }

    /** The MKL build ND4J loads for training here, with its JavaCPP, as Maven resolved them for this module. */
    static ProbeProcess.Library trainingLibrary() {
        Properties p = new Properties();
        try {
            p.load(new StringReader(resource("training-mkl.properties")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String artifact = p.getProperty("mkl.artifact");
        return new ProbeProcess.Library(name(artifact), artifact, resource("training-mkl.classpath").strip());
    }

    /** "org.bytedeco:mkl:2025.0-1.5.11" → "MKL 2025.0". */
    static String name(String artifact) {
        String version = artifact.substring(artifact.lastIndexOf(':') + 1);
        int dash = version.indexOf('-');
        return "MKL " + (dash < 0 ? version : version.substring(0, dash));
    }

    private static String resource(String name) {
        try (InputStream in = GemmCeiling.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("darkknowledge/bench/" + name + " is missing from the bench's classes: "
                        + "the bench module's Maven build writes it (mvn -pl bench package)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name, e);
        }
    }

    /** "fwd 128×800×784 242, dW 784×800×128 246, ...": one round's (or the median's) rate of each product. */
    static String perProduct(Map<Product, Double> gflops) {
        List<String> parts = new ArrayList<>();
        gflops.forEach((p, r) -> parts.add(p.label() + " " + String.format(Locale.ROOT, "%.0f", r)));
        return String.join(", ", parts);
    }
}
