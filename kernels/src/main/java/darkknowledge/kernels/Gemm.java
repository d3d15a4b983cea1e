package darkknowledge.kernels;

import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Sha256;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;

/**
 * The BLAS our own kernels' fp32 products run on ({@link ReluDense}): Intel MKL (the build ND4J
 * multiplies with) or a current OpenBLAS ({@link OpenBlas}), whichever is faster on the CPU at hand.
 *
 * <p>Neither wins everywhere. On an AMD EPYC Zen 5, OpenBLAS 0.3.31 ran the products of a
 * 784-800-800-10 training step at 245 GFLOP/s and MKL 2025.0 at 147 (the bench of 2026-12-06,
 * logs/); MKL is Intel's own, and is the one the bench measured fastest on the Intel Xeon. So the
 * choice is measured, not assumed: {@code DK_BLAS} (environment) or {@code dk.blas} (system property,
 * which wins) says {@code mkl}, {@code openblas} or {@code auto} (the default). {@code auto} times
 * both libraries in this process on a training step's three product shapes ({@link #PROBE}: forward
 * {@code x W}, weight gradient {@code xᵀ δ}, input gradient {@code δ Wᵀ} of an 800-800 layer at
 * batch 128), three alternated rounds, and takes the one with the higher median rate. The result is
 * cached per CPU ({@link Cpu#identity}), library versions and thread count in
 * {@code ~/.cache/dark-knowledge/blas/}, so every later process on this kind of machine multiplies
 * with the same library (and gets the same fp32 rounding) without probing again. Where only one
 * library loads, it is used and the reason the other did not is recorded.
 *
 * <p>{@link #describe()} is what a run's provenance records ({@code native.gemm}).
 */
public final class Gemm {
    /** The environment variable, and the system property that overrides it. */
    public static final String ENV = "DK_BLAS";
    public static final String PROPERTY = "dk.blas";

    /** What decides the library. */
    public enum Choice { AUTO, MKL, OPENBLAS }

    /** The probe's products, as {m, n, k, transA, transB}: an 800-800 layer's training step at batch 128. */
    static final int[][] PROBE = {{128, 800, 800, 0, 0}, {800, 800, 128, 1, 0}, {128, 800, 800, 0, 1}};
    private static final int ROUNDS = 3;
    private static final int CALLS = 8;
    /**
     * The share of the cores other processes may use while a probe runs for it to be cached. A probe
     * taken beside a Maven build once read MKL 24 and OpenBLAS 14 GFLOP/s (143 and 230 on the quiet
     * machine, a 2-core AMD EPYC Zen 5) and every later run on that CPU would have read that cache.
     */
    static final double BUSY_LIMIT = 0.25;

    /** The library chosen and why, as {@link #describe()} words it. */
    public record Decision(Cblas library, String reason) {
    }

    private static volatile Decision decision;
    /** Why no library can be decided on here, once {@link #decision()} has found out; null otherwise. */
    private static String undecidable;
    /**
     * Whether this thread's OpenMP teams sleep at once ({@link IntelOpenMp#sleepAtOnce}): while it
     * multiplies with a library that has a thread pool of its own; back to the runtime's default when
     * it multiplies with MKL again (which threads on that runtime, and slows by 0.85 without its spin).
     */
    private static final ThreadLocal<Boolean> QUIET_OPENMP = ThreadLocal.withInitial(() -> false);

    private Gemm() {
    }

    /**
     * The choice {@code value} names ({@code auto}, {@code mkl}, {@code openblas}, any case; null or
     * blank = auto); an {@link IllegalArgumentException} naming {@code source} and the values allowed otherwise.
     */
    static Choice choice(String value, String source) {
        if (value == null || value.isBlank()) {
            return Choice.AUTO;
        }
        try {
            return Choice.valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + "=" + value + " is not a BLAS this project can multiply with: "
                    + "expected auto, mkl or openblas");
        }
    }

    /** The choice this process was started with: {@code -Ddk.blas}, else {@code DK_BLAS}, else auto. */
    static Choice configured() {
        String property = System.getProperty(PROPERTY);
        if (property != null) {
            return choice(property, "the system property " + PROPERTY);
        }
        return choice(System.getenv(ENV), "the environment variable " + ENV);
    }

    /** The library the fp32 products run on (chosen, and probed if need be, by the first call). */
    static Cblas library() {
        return decision().library();
    }

    /** The decision in force, made by the first call; a failure to decide is kept and thrown again. */
    private static Decision decision() {
        Decision d = decision;
        return d != null ? d : decideOnce();
    }

    private static synchronized Decision decideOnce() {
        if (decision == null) {
            if (undecidable != null) {
                throw new UnsupportedOperationException(undecidable);
            }
            try {
                decision = decide(configured(), cacheDir());
            } catch (UnsupportedOperationException e) {
                undecidable = e.getMessage();
                throw e;
            }
        }
        return decision;
    }

    /**
     * For tests and the bench (timing both libraries in one process): multiply with {@code choice}'s
     * library from now on ({@code null}: choose again as a new process would), and return the decision
     * that was in force, for {@link #restore}.
     */
    public static synchronized Decision use(Choice choice) {
        Decision before = decision;
        undecidable = null;
        decision = choice == null ? null : decide(choice, cacheDir());
        return before;
    }

    /**
     * The choice ({@code mkl} or {@code openblas}) that makes another process multiply with the library
     * this one decided on, deciding now if need be; null when none can run here. For processes that must
     * round as this one does: a Spark executor gets it as {@code -Ddk.blas}, so that it neither probes
     * again (timings differ from process to process) nor reads a cache of its own machine.
     */
    public static String decidedChoice() {
        try {
            return decision().library().name().startsWith("MKL") ? "mkl" : "openblas";
        } catch (RuntimeException e) {  // none loads here: the other process decides for itself
            return null;
        }
    }

    /** Puts back a decision {@link #use} returned. */
    public static synchronized void restore(Decision before) {
        decision = before;
    }

    /** Whether {@link #sgemm} runs here: MKL or OpenBLAS loaded. */
    static boolean available() {
        try {
            library();
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /** fp32 {@code C = op(A)·op(B) + β·C} on the chosen library, row-major, each matrix with its leading dimension. */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
            int ldb, float beta, MemorySegment c, int ldc) {
        Cblas l = decision().library();
        if (l.ownPool() != QUIET_OPENMP.get()) {
            IntelOpenMp.sleepAtOnce(l.ownPool());
            QUIET_OPENMP.set(l.ownPool());
        }
        l.sgemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * For provenance: the library our products run on and why ("OpenBLAS 0.3.31 (...): auto, probe
     * 245 against MKL 2025.0's 147 GFLOP/s (cached ...)"), or why none runs.
     */
    public static String describe() {
        try {
            Decision d = decision();
            return d.library() + ": " + d.reason();
        } catch (UnsupportedOperationException e) {
            return "none: " + e.getMessage();
        }
    }

    /** The chosen library's short name ("OpenBLAS 0.3.31", "MKL 2025.0.0"), or "none". */
    public static String name() {
        try {
            return library().name();
        } catch (UnsupportedOperationException e) {
            return "none";
        }
    }

    /** The library {@code choice} gives here, probing both (or reading {@code cacheDir}'s earlier probe) for auto. */
    static Decision decide(Choice choice, Path cacheDir) {
        return decide(choice, cacheDir, BUSY_LIMIT);
    }

    /**
     * As {@link #decide(Choice, Path)}, caching a probe only when other processes used at most
     * {@code busyLimit} of the cores while it ran.
     */
    static Decision decide(Choice choice, Path cacheDir, double busyLimit) {
        return switch (choice) {
            case MKL -> new Decision(Mkl.library(), "asked for (" + source() + ")");
            case OPENBLAS -> new Decision(OpenBlas.library(), "asked for (" + source() + ")");
            case AUTO -> {
                String mklWhy = Mkl.unavailable();
                String openblasWhy = OpenBlas.unavailable();
                if (mklWhy != null && openblasWhy != null) {
                    throw new UnsupportedOperationException("neither MKL (" + mklWhy + ") nor OpenBLAS (" + openblasWhy
                            + ") can be called here");
                } else if (mklWhy != null) {
                    yield new Decision(OpenBlas.library(), "auto, the only one loaded (MKL: " + mklWhy + ")");
                } else if (openblasWhy != null) {
                    yield new Decision(Mkl.library(), "auto, the only one loaded (OpenBLAS: " + openblasWhy + ")");
                }
                yield faster(Mkl.library(), OpenBlas.library(), cacheDir, busyLimit);
            }
        };
    }

    private static String source() {
        return System.getProperty(PROPERTY) != null ? PROPERTY + "=" + System.getProperty(PROPERTY)
                : System.getenv(ENV) != null ? ENV + "=" + System.getenv(ENV) : "a test";
    }

    /** The faster of the two: from the cache when this CPU and these libraries were probed, else by probing. */
    private static Decision faster(Cblas mkl, Cblas openblas, Path cacheDir, double busyLimit) {
        String key = Cpu.identity() + "\n" + mkl.version() + " " + mkl.threads() + "\n" + openblas.version() + " "
                + openblas.threads();
        Path file = cacheDir.resolve(Sha256.of(key.getBytes(StandardCharsets.UTF_8)).substring(0, 16) + ".properties");
        Properties cached = read(file);
        double[] rates;
        String how;
        if (cached != null && key.equals(cached.getProperty("key"))) {
            rates = new double[] {Double.parseDouble(cached.getProperty("mkl.gflops")),
                Double.parseDouble(cached.getProperty("openblas.gflops"))};
            how = "cached in " + file + ", probed " + cached.getProperty("probed");
        } else {
            Load before = Load.now();
            rates = probe(mkl, openblas);
            double others = before.othersShare(Load.now());
            if (others <= busyLimit) {
                how = "probed now, cached in " + file;
                write(file, key, rates);
            } else {
                how = String.format(Locale.ROOT, "probed now on a busy machine (other processes used %.0f%% of the "
                        + "cores), not cached", 100 * others);
            }
        }
        boolean openblasWins = rates[1] > rates[0];
        Cblas winner = openblasWins ? openblas : mkl;
        return new Decision(winner, String.format(Locale.ROOT,
                "auto, the faster at an 800-800 training step's products: %s %.0f against %s %.0f GFLOP/s (%s)",
                winner.name(), Math.max(rates[0], rates[1]), (openblasWins ? mkl : openblas).name(),
                Math.min(rates[0], rates[1]), how));
    }

    /** Median GFLOP/s of {@link #PROBE} on MKL and on OpenBLAS, over {@link #ROUNDS} alternated rounds. */
    static double[] probe(Cblas mkl, Cblas openblas) {
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom r = new SplittableRandom(20150309L);
            MemorySegment a = random(arena, 800 * 800, r);
            MemorySegment b = random(arena, 800 * 800, r);
            MemorySegment c = arena.allocate(4L * 800 * 800, 64);
            double[][] rates = new double[2][ROUNDS];
            Cblas[] libs = {mkl, openblas};
            for (Cblas l : libs) {
                time(l, a, b, c);  // warm: threads started, code paged in
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < 2; i++) {
                    rates[i][round] = time(libs[i], a, b, c);
                }
            }
            return new double[] {median(rates[0]), median(rates[1])};
        }
    }

    /** GFLOP/s of {@link #CALLS} calls of each {@link #PROBE} product on {@code l}. */
    private static double time(Cblas l, MemorySegment a, MemorySegment b, MemorySegment c) {
        double flop = 0;
        long t0 = System.nanoTime();
        for (int[] p : PROBE) {
            int m = p[0];
            int n = p[1];
            int k = p[2];
            boolean ta = p[3] == 1;
            boolean tb = p[4] == 1;
            for (int i = 0; i < CALLS; i++) {
                l.sgemm(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0f, c, n);
            }
            flop += 2.0 * m * n * k * CALLS;
        }
        return flop / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    private static MemorySegment random(Arena arena, int n, SplittableRandom r) {
        MemorySegment s = arena.allocate(4L * n, 64);
        for (int i = 0; i < n; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() - 0.5));
        }
        return s;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    /**
     * The machine's busy time ({@code /proc/stat}'s first line: user, nice, system, irq, softirq and
     * steal ticks of all CPUs), this process's CPU time and the wall clock, at one instant.
     */
    record Load(long busyTicks, long ownNanos, long wallNanos) {
        /** Linux's {@code USER_HZ}: {@code /proc/stat} counts hundredths of a second on x86-64. */
        static final double TICKS_PER_SECOND = 100;

        static Load now() {
            long ticks = -1;
            try {
                ticks = busyTicks(Files.readAllLines(Path.of("/proc/stat")).get(0));
            } catch (IOException | RuntimeException e) {
                // no /proc/stat: the load is unknown, read as quiet
            }
            long own = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                    ? os.getProcessCpuTime() : -1;
            return new Load(ticks, own, System.nanoTime());
        }

        /** The busy ticks of {@code /proc/stat}'s aggregate {@code cpu} line. */
        static long busyTicks(String cpuLine) {
            String[] f = cpuLine.trim().split("\\s+");
            if (!f[0].equals("cpu") || f.length < 9) {
                throw new IllegalArgumentException("not /proc/stat's cpu line: " + cpuLine);
            }
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {  // user nice system (idle iowait) irq softirq steal
                busy += Long.parseLong(f[i]);
            }
            return busy;
        }

        /**
         * The share of the cores that processes other than this one kept busy from this instant to
         * {@code later}, in [0, 1]; 0 when either reading is unknown.
         */
        double othersShare(Load later) {
            return othersShare(later, Runtime.getRuntime().availableProcessors());
        }

        double othersShare(Load later, int cores) {
            if (busyTicks < 0 || later.busyTicks < 0 || ownNanos < 0 || later.ownNanos < 0) {
                return 0;
            }
            double wall = (later.wallNanos - wallNanos) / 1e9;
            double others = (later.busyTicks - busyTicks) / TICKS_PER_SECOND - (later.ownNanos - ownNanos) / 1e9;
            return wall <= 0 ? 0 : Math.min(1, Math.max(0, others / (wall * cores)));
        }
    }

    /** {@code $DK_CACHE_DIR/blas}, else {@code ~/.cache/dark-knowledge/blas}. */
    static Path cacheDir() {
        String dir = System.getenv("DK_CACHE_DIR");
        return dir != null && !dir.isBlank() ? Path.of(dir, "blas")
                : Path.of(System.getProperty("user.home"), ".cache", "dark-knowledge", "blas");
    }

    private static Properties read(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            Double.parseDouble(p.getProperty("mkl.gflops", "x"));
            Double.parseDouble(p.getProperty("openblas.gflops", "x"));
            return p;
        } catch (IOException | NumberFormatException e) {
            return null;  // unreadable or half-edited by hand: probe again and rewrite it
        }
    }

    private static void write(Path file, String key, double[] rates) {
        Properties p = new Properties();
        p.setProperty("key", key);
        p.setProperty("mkl.gflops", String.format(Locale.ROOT, "%.1f", rates[0]));
        p.setProperty("openblas.gflops", String.format(Locale.ROOT, "%.1f", rates[1]));
        p.setProperty("probed", java.time.Instant.now().toString());
        try {
            Files.createDirectories(file.getParent());
            StringWriter w = new StringWriter();
            p.store(w, "Gemm's probe: median GFLOP/s of an 800-800 training step's products; delete to probe again");
            AtomicFiles.writeString(file, w.toString());
        } catch (IOException | UncheckedIOException e) {
            // a read-only home: the choice still holds for this process, it is just probed again next time
        }
    }
}
