package darkknowledge.bench;

import darkknowledge.kernels.Cpu;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.kernels.OpenBlas;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * timed as a single library call with nothing in between ({@link ProbeProcess}), on the two fp32
 * BLAS libraries the project can use: Intel MKL (the build ND4J and our kernels multiply with) and
 * OpenBLAS (a current build, which beats MKL's code path on AMD CPUs). The ceiling is the faster of
 * the two in each round, so it is this CPU's best library rate, not one vendor's. Where the CPU has
 * bfloat16 units ({@code avx512_bf16} or {@code amx_bf16} in /proc/cpuinfo) MKL is also timed in
 * bf16 ({@code cblas_gemm_bf16bf16f32}: bfloat16 operands, fp32 accumulation). Each library runs in
 * a child JVM of its own with this process's thread count (MKL on its Intel OpenMP runtime); a rate
 * is {@code Σ 2·m·n·k / Σ seconds} over the step's products.
 */
final class GemmCeiling implements AutoCloseable {

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

    /**
     * Seconds per call of each product on each library; {@code bf16} (MKL's) is null where the CPU has
     * no bf16 units.
     */
    record Round(Map<Product, Double> mkl, Map<Product, Double> openblas, Map<Product, Double> bf16) {
        /** The faster library's timings this round: the ceiling's. */
        Map<Product, Double> best() {
            return gflops(openblas) > gflops(mkl) ? openblas : mkl;
        }

        /** The faster library's name this round. */
        String bestName(GemmCeiling c) {
            return best() == openblas ? c.openblas.library().name() : c.mkl.library().name();
        }
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

    private final ProbeProcess mkl;
    private final ProbeProcess openblas;
    private final String bf16Unsupported;
    private final double flopPerTiming;

    private GemmCeiling(ProbeProcess mkl, ProbeProcess openblas, String bf16Unsupported, double flopPerTiming) {
        this.mkl = mkl;
        this.openblas = openblas;
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
        ProbeProcess mkl = ProbeProcess.start(mklLibrary());
        try {
            ProbeProcess openblas = ProbeProcess.start(openblasLibrary());
            return new GemmCeiling(mkl, openblas, bf16Unsupported(Cpu.info(cpuinfo)), flopPerTiming);
        } catch (RuntimeException e) {
            mkl.close();
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

    /** MKL's probe: the build ND4J and our kernels multiply with. */
    ProbeProcess mkl() {
        return mkl;
    }

    ProbeProcess openblas() {
        return openblas;
    }

    /** One round: each product in fp32 on MKL, in bf16 on MKL (where the CPU can), then in fp32 on OpenBLAS. */
    Round measure(List<Product> products) {
        var fp32 = mkl.secondsPerCall(false, flopPerTiming, products);
        var bf16 = bf16Unsupported == null ? mkl.secondsPerCall(true, flopPerTiming, products) : null;
        var ob = openblas.secondsPerCall(false, flopPerTiming, products);
        return new Round(fp32, ob, bf16);
    }

    /**
     * For the bench's provenance: per probe ({@code gemm.mkl.*}, {@code gemm.openblas.*}) its Maven
     * artifact, the version the library reports of itself, its threads and the settings it ran with;
     * {@code gemm.bf16}: "measured" or why not.
     */
    SortedMap<String, String> provenance() {
        SortedMap<String, String> p = new TreeMap<>();
        for (var e : Map.of("gemm.mkl", mkl, "gemm.openblas", openblas).entrySet()) {
            ProbeProcess probe = e.getValue();
            p.put(e.getKey() + ".artifact", probe.library().artifact());
            p.put(e.getKey() + ".version", probe.version());
            p.put(e.getKey() + ".threads", String.valueOf(probe.threads()));
            p.put(e.getKey() + ".env", new TreeMap<>(probe.environment()).toString());
            p.put(e.getKey() + ".file", probe.library().file().toString());
        }
        p.put("gemm.bf16", bf16Unsupported == null ? "measured" : bf16Unsupported);
        return p;
    }

    @Override
    public void close() {
        try {
            mkl.close();
        } finally {
            openblas.close();
        }
    }

    /**
     * The MKL build ND4J loads for training here: {@code mkl_rt} and the libraries it opens, taken from
     * the MKL jars Maven resolved for this module ({@code training-mkl.classpath}), with Intel's OpenMP
     * runtime preloaded (MKL 2025's threading layer needs it global).
     */
    static ProbeProcess.Library mklLibrary() {
        Properties p = properties("training-mkl.properties");
        String artifact = p.getProperty("mkl.artifact");
        Path dir = null;
        for (String jar : resource("training-mkl.classpath").strip().split(java.io.File.pathSeparator)) {
            if (jar.matches(".*/mkl-[^/]*-linux-x86_64(-redist)?\\.jar")) {
                dir = NativeLibraries.extract(Path.of(jar), name -> name.startsWith("org/bytedeco/mkl/linux-x86_64/lib")
                        && name.contains(".so") && !name.contains("/libjni"), dir);
            }
        }
        if (dir == null || !Files.isRegularFile(dir.resolve("libmkl_rt.so.2")) || !Files.isRegularFile(dir.resolve("libiomp5.so"))) {
            throw new IllegalStateException("the MKL jars of " + artifact + " (linux-x86_64 and linux-x86_64-redist) are "
                    + "not in the bench's training-mkl.classpath, or lack libmkl_rt.so.2 / libiomp5.so");
        }
        return new ProbeProcess.Library(name(artifact), artifact, dir.resolve("libmkl_rt.so.2"),
                Map.of("MKL_THREADING_LAYER", "INTEL", "LD_PRELOAD", dir.resolve("libiomp5.so").toString()));
    }

    /**
     * The OpenBLAS build training may multiply with ({@link OpenBlas#extracted()}: the jar the kernels
     * module's build fetched), with this process's thread count and {@link OpenBlas#coreType}.
     */
    static ProbeProcess.Library openblasLibrary() {
        OpenBlas.Extracted x = OpenBlas.extracted();
        String threads = System.getenv().getOrDefault("OMP_NUM_THREADS",
                String.valueOf(Runtime.getRuntime().availableProcessors()));
        Map<String, String> env = new TreeMap<>(Map.of("OPENBLAS_NUM_THREADS", threads));
        String core = OpenBlas.coreType(Cpu.info());
        if (core != null) {
            env.put("OPENBLAS_CORETYPE", core);
        }
        return new ProbeProcess.Library(name(x.artifact()), x.artifact(), x.file(), Map.copyOf(env));
    }

    /** "org.bytedeco:mkl:2025.0-1.5.11" → "MKL 2025.0"; "org.bytedeco:openblas:0.3.31-1.5.13" → "OpenBLAS 0.3.31". */
    static String name(String artifact) {
        String[] parts = artifact.split(":");
        String version = parts[parts.length - 1];
        int dash = version.indexOf('-');
        String library = parts.length > 1 && parts[1].equals("openblas") ? "OpenBLAS" : "MKL";
        return library + " " + (dash < 0 ? version : version.substring(0, dash));
    }

    private static Properties properties(String name) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(resource(name)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
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
