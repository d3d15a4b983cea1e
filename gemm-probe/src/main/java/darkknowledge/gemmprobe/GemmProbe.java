package darkknowledge.gemmprobe;

import static org.bytedeco.mkl.global.mkl_rt.CblasNoTrans;
import static org.bytedeco.mkl.global.mkl_rt.CblasRowMajor;
import static org.bytedeco.mkl.global.mkl_rt.CblasTrans;
import static org.bytedeco.mkl.global.mkl_rt.MKL_Get_Max_Threads;
import static org.bytedeco.mkl.global.mkl_rt.MKL_Get_Version_String;
import static org.bytedeco.mkl.global.mkl_rt.cblas_gemm_bf16bf16f32;
import static org.bytedeco.mkl.global.mkl_rt.cblas_sgemm;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The raw matrix-product rate of the MKL build on the class path, with nothing between the caller
 * and the library: {@code C = op(A) op(B)}, row-major, {@code op} = identity or transpose, through
 * JavaCPP's {@code mkl_rt} bindings ({@code cblas_sgemm} in fp32; {@code cblas_gemm_bf16bf16f32},
 * bfloat16 operands with fp32 accumulation and output, in bf16). A product of an m×k and a k×n
 * matrix costs {@code 2·m·n·k} floating-point operations.
 *
 * <p>Run by the bench in a child JVM (see {@link ProbeJar}); a line protocol on standard streams:
 * <pre>
 * out: mkl &lt;the library's version string&gt;
 * out: threads &lt;MKL_Get_Max_Threads()&gt;
 * out: ready
 * in:  &lt;fp32|bf16&gt; &lt;flop per timing&gt; &lt;m&gt;x&lt;n&gt;x&lt;k&gt;:&lt;N|T&gt;&lt;N|T&gt; ...
 * out: &lt;m&gt;x&lt;n&gt;x&lt;k&gt;:&lt;N|T&gt;&lt;N|T&gt; &lt;seconds per call&gt;     (one line per product asked)
 * out: done
 * </pre>
 * Each product is called once untimed, then timed over enough calls to do the asked flop
 * (at least 2), best of 3. Operands are uniform on [-0.5, 0.5) from a fixed seed and stay
 * allocated between requests, so the parent can alternate its own measurements with rounds of
 * these. End of input or {@code quit} ends the process.
 */
public final class GemmProbe {
    private static final int REPEATS = 3;

    private final Map<String, Operands> operands = new HashMap<>();

    private GemmProbe() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        out.println("mkl " + version());
        out.println("threads " + MKL_Get_Max_Threads());
        out.println("ready");
        GemmProbe probe = new GemmProbe();
        var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.strip().equals("quit"); line = in.readLine()) {
            String[] f = line.strip().split("\\s+");
            if (f.length < 3 || !(f[0].equals("fp32") || f[0].equals("bf16"))) {
                throw new IllegalArgumentException("expected '<fp32|bf16> <flop> <m>x<n>x<k>:<N|T><N|T> ...', got: " + line);
            }
            boolean bf16 = f[0].equals("bf16");
            double flop = Double.parseDouble(f[1]);
            for (int i = 2; i < f.length; i++) {
                out.println(f[i] + " " + String.format(Locale.ROOT, "%.6e", probe.secondsPerCall(f[i], bf16, flop)));
            }
            out.println("done");
        }
    }

    /** {@code MKL_Get_Version_String}, up to its terminating NUL. */
    private static String version() {
        byte[] bytes = new byte[256];
        try (BytePointer buffer = new BytePointer(bytes.length)) {
            buffer.fill(0);
            MKL_Get_Version_String(buffer, bytes.length);
            buffer.get(bytes);
        }
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.US_ASCII).strip();
    }

    /** Best of 3 timings of {@code C = op(A) op(B)} for one product spec, in seconds per call. */
    private double secondsPerCall(String spec, boolean bf16, double flopPerTiming) {
        Operands o = operands.computeIfAbsent(spec, Operands::new);
        int calls = (int) Math.max(2, Math.ceil(flopPerTiming / (2.0 * o.m * o.n * o.k)));
        o.call(bf16);
        double best = Double.POSITIVE_INFINITY;
        for (int rep = 0; rep < REPEATS; rep++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                o.call(bf16);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9 / calls);
        }
        return best;
    }

    /** The operands of one product, in fp32 and as bfloat16 (round to nearest even of the fp32 values). */
    private static final class Operands {
        final int m;
        final int n;
        final int k;
        final boolean transA;
        final boolean transB;
        final FloatPointer a;
        final FloatPointer b;
        final FloatPointer c;
        final ShortPointer a16;
        final ShortPointer b16;

        Operands(String spec) {
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
            a = new FloatPointer((long) m * k);
            b = new FloatPointer((long) k * n);
            c = new FloatPointer((long) m * n);
            a16 = new ShortPointer((long) m * k);
            b16 = new ShortPointer((long) k * n);
            fill(a, a16, r);
            fill(b, b16, r);
        }

        void call(boolean bf16) {
            int lda = transA ? m : k;
            int ldb = transB ? k : n;
            int ta = transA ? CblasTrans : CblasNoTrans;
            int tb = transB ? CblasTrans : CblasNoTrans;
            if (bf16) {
                cblas_gemm_bf16bf16f32(CblasRowMajor, ta, tb, m, n, k, 1f, a16, lda, b16, ldb, 0f, c, n);
            } else {
                cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, n);
            }
        }

        private static void fill(FloatPointer f, ShortPointer s, SplittableRandom r) {
            for (long i = 0; i < f.limit(); i++) {
                float v = (float) (r.nextDouble() - 0.5);
                f.put(i, v);
                s.put(i, bfloat16(v));
            }
        }
    }

    /** fp32 → bfloat16 bits: the upper 16 bits of the float, rounded to nearest, ties to even. */
    static short bfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
