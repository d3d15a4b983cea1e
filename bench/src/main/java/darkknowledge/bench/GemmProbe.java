package darkknowledge.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The raw matrix-product rate of one BLAS library, with nothing between the caller and the
 * library: {@code C = op(A) op(B)}, row-major, {@code op} = identity or transpose, called through
 * the FFM API on the library file named by the first argument: {@code cblas_sgemm} in fp32 and,
 * where the library has it, {@code cblas_gemm_bf16bf16f32} (Intel MKL) in bf16 (bfloat16 operands,
 * fp32 accumulation and output). A product of an m×k and a k×n matrix costs {@code 2·m·n·k}
 * floating-point operations. Uses nothing but the JDK, so that a child JVM can run it on any BLAS
 * without ND4J's JavaCPP on its class path.
 *
 * <p>Run by the bench in a child JVM ({@link ProbeProcess}); a line protocol on standard streams:
 * <pre>
 * out: version &lt;the library's own version or configuration string&gt;
 * out: threads &lt;the threads it will use&gt;
 * out: bf16 &lt;yes|no&gt;
 * out: ready
 * in:  &lt;fp32|bf16&gt; &lt;flop per timing&gt; &lt;m&gt;x&lt;n&gt;x&lt;k&gt;:&lt;N|T&gt;&lt;N|T&gt; ...
 * out: &lt;m&gt;x&lt;n&gt;x&lt;k&gt;:&lt;N|T&gt;&lt;N|T&gt; &lt;seconds per call&gt;     (one line per product asked)
 * out: done
 * </pre>
 * Each product is called once untimed, then timed over enough calls to do the asked flop (at least
 * 2), best of 3. Operands are uniform on [-0.5, 0.5) from a fixed seed and stay allocated between
 * requests, so the parent can alternate its own measurements with rounds of these. End of input or
 * {@code quit} ends the process.
 */
public final class GemmProbe {
    private static final int REPEATS = 3;
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout A = ValueLayout.ADDRESS;

    private final MethodHandle sgemm;
    private final MethodHandle gemmBf16;
    private final Map<String, Operands> operands = new HashMap<>();
    private final Arena arena = Arena.ofAuto();

    private GemmProbe(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor gemm = FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, A, I, A, I, F, A, I);
        sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(
                () -> new IllegalArgumentException("the library has no cblas_sgemm")), gemm);
        gemmBf16 = lib.find("cblas_gemm_bf16bf16f32").map(s -> linker.downcallHandle(s, gemm)).orElse(null);
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: GemmProbe <path of a BLAS shared library with cblas_sgemm>");
        }
        SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(args[0]), Arena.global());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        GemmProbe probe = new GemmProbe(lib);
        out.println("version " + version(lib));
        out.println("threads " + threads(lib));
        out.println("bf16 " + (probe.gemmBf16 != null ? "yes" : "no"));
        out.println("ready");
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.strip().equals("quit"); line = in.readLine()) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 3 || !(f[0].equals("fp32") || f[0].equals("bf16"))) {
                throw new IllegalArgumentException("expected '<fp32|bf16> <flop> <m>x<n>x<k>:<N|T><N|T> ...', got: " + line);
            }
            boolean bf16 = f[0].equals("bf16");
            if (bf16 && probe.gemmBf16 == null) {
                throw new IllegalArgumentException("bf16 asked of a library without cblas_gemm_bf16bf16f32: " + args[0]);
            }
            double flop = Double.parseDouble(f[1]);
            for (int i = 2; i < f.length; i++) {
                out.println(f[i] + " " + String.format(Locale.ROOT, "%.6e", probe.secondsPerCall(f[i], bf16, flop)));
            }
            out.println("done");
        }
    }

    /** MKL's {@code MKL_Get_Version_String}, else OpenBLAS's {@code openblas_get_config}, else "unknown". */
    static String version(SymbolLookup lib) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var mkl = lib.find("MKL_Get_Version_String");
        if (mkl.isPresent()) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buffer = a.allocate(256);
                linker.downcallHandle(mkl.get(), FunctionDescriptor.ofVoid(A, I)).invokeExact(buffer, 256);
                return buffer.getString(0).strip();
            }
        }
        var openblas = lib.find("openblas_get_config");
        if (openblas.isPresent()) {
            MemorySegment s = (MemorySegment) linker.downcallHandle(openblas.get(), FunctionDescriptor.of(A)).invokeExact();
            return "OpenBLAS " + s.reinterpret(1024).getString(0).strip();
        }
        return "unknown";
    }

    /** {@code MKL_Get_Max_Threads} or {@code openblas_get_num_threads}; -1 when neither exists. */
    static int threads(SymbolLookup lib) throws Throwable {
        Linker linker = Linker.nativeLinker();
        for (String name : new String[] {"MKL_Get_Max_Threads", "openblas_get_num_threads"}) {
            var f = lib.find(name);
            if (f.isPresent()) {
                return (int) linker.downcallHandle(f.get(), FunctionDescriptor.of(I)).invokeExact();
            }
        }
        return -1;
    }

    /** Best of 3 timings of {@code C = op(A) op(B)} for one product spec, in seconds per call. */
    private double secondsPerCall(String spec, boolean bf16, double flopPerTiming) throws Throwable {
        Operands o = operands.computeIfAbsent(spec, s -> new Operands(s, arena));
        int calls = (int) Math.max(2, Math.ceil(flopPerTiming / (2.0 * o.m * o.n * o.k)));
        call(o, bf16);
        double best = Double.POSITIVE_INFINITY;
        for (int rep = 0; rep < REPEATS; rep++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                call(o, bf16);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / calls);
        }
        return best;
    }

    private void call(Operands o, boolean bf16) throws Throwable {
        int lda = o.transA ? o.m : o.k;
        int ldb = o.transB ? o.k : o.n;
        int ta = o.transA ? TRANS : NO_TRANS;
        int tb = o.transB ? TRANS : NO_TRANS;
        if (bf16) {
            gemmBf16.invokeExact(ROW_MAJOR, ta, tb, o.m, o.n, o.k, 1f, o.a16, lda, o.b16, ldb, 0f, o.c, o.n);
        } else {
            sgemm.invokeExact(ROW_MAJOR, ta, tb, o.m, o.n, o.k, 1f, o.a, lda, o.b, ldb, 0f, o.c, o.n);
        }
    }

    /** The operands of one product, in fp32 and as bfloat16 (round to nearest even of the fp32 values). */
    private static final class Operands {
        final int m;
        final int n;
        final int k;
        final boolean transA;
        final boolean transB;
        final MemorySegment a;
        final MemorySegment b;
        final MemorySegment c;
        final MemorySegment a16;
        final MemorySegment b16;

        Operands(String spec, Arena arena) {
            String[] parts = spec.split(":");
            String[] dims = parts[0].split("x");
            if (parts.length != 2 || dims.length != 3 || !parts[1].matches("[NT][NT]")) {
                throw new IllegalArgumentException("product spec must be <m>x<n>x<k>:<N|T><N|T>, got: " + spec);
            }
            m = Integer.parseInt(dims[0]);
            n = Integer.parseInt(dims[1]);
            k = Integer.parseInt(dims[2]);
            transA = parts[1].charAt(0) == 'T';
            transB = parts[1].charAt(1) == 'T';
            SplittableRandom r = new SplittableRandom(20150309L);
            a = arena.allocate(4L * m * k, 64);
            b = arena.allocate(4L * k * n, 64);
            c = arena.allocate(4L * m * n, 64);
            a16 = arena.allocate(2L * m * k, 64);
            b16 = arena.allocate(2L * k * n, 64);
            fill(a, a16, r);
            fill(b, b16, r);
        }

        private static void fill(MemorySegment f, MemorySegment s, SplittableRandom r) {
            for (long i = 0; i < f.byteSize() / 4; i++) {
                float v = (float) (r.nextDouble() - 0.5);
                f.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                s.setAtIndex(ValueLayout.JAVA_SHORT, i, bfloat16(v));
            }
        }
    }

    /** fp32 → bfloat16 bits: the upper 16 bits of the float, rounded to nearest, ties to even. */
    static short bfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
