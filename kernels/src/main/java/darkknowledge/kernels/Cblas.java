package darkknowledge.kernels;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * One loaded BLAS library's matrix products, called through the FFM API: fp32 {@code cblas_sgemm}
 * and, where the library exports it, MKL's bfloat16 {@code cblas_gemm_bf16bf16f32}. Both compute,
 * row-major, {@code C = op(A)·op(B) + β·C} with op(A) m×k, op(B) k×n and C m×n in fp32: the CBLAS
 * signature every BLAS shares, so {@link Mkl} and {@link OpenBlas} bind the same way and
 * {@link Gemm} chooses between them.
 *
 * @param name    "MKL 2025.0", "OpenBLAS 0.3.31", for tables and provenance
 * @param version the library's own description of itself (MKL's version string, OpenBLAS's config)
 * @param file    the shared library the calls go to
 * @param threads the threads the library will use, as it reports them (-1 when it cannot say)
 * @param ownPool whether it threads on a pool of its own (OpenBLAS's pthreads) rather than on the
 *     OpenMP runtime ND4J's loops use (MKL on Intel's): then the two pools share the cores
 */
record Cblas(String name, String version, String file, int threads, boolean ownPool, MethodHandle sgemm,
        MethodHandle gemmBf16) {
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    /** cblas_?gemm(layout, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc) */
    private static final FunctionDescriptor GEMM = FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);

    /**
     * Binds {@code cblas_sgemm} (required) and {@code cblas_gemm_bf16bf16f32} (optional) of {@code lib}.
     *
     * @throws IllegalStateException naming {@code file} when it has no {@code cblas_sgemm}
     */
    static Cblas bind(String name, String version, String file, int threads, boolean ownPool, SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        MethodHandle s = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(
                () -> new IllegalStateException(file + " has no cblas_sgemm")), GEMM);
        MethodHandle b = lib.find("cblas_gemm_bf16bf16f32").map(x -> linker.downcallHandle(x, GEMM)).orElse(null);
        return new Cblas(name, version, file, threads, ownPool, s, b);
    }

    /** Whether {@link #gemmBf16} runs on this library. */
    boolean hasBf16Gemm() {
        return gemmBf16 != null;
    }

    /** fp32 {@code C = op(A)·op(B) + β·C}, row-major, each matrix with its leading dimension. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
            float beta, MemorySegment c, int ldc) {
        call(sgemm, "cblas_sgemm", transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    /** The same with bf16 A and B (two bytes per element, {@link Bf16#round}) and fp32 accumulation. */
    void gemmBf16(boolean transA, boolean transB, int m, int n, int k, MemorySegment a, int lda, MemorySegment b,
            int ldb, float beta, MemorySegment c, int ldc) {
        if (gemmBf16 == null) {
            throw new UnsupportedOperationException(file + " (" + name + ") does not export cblas_gemm_bf16bf16f32");
        }
        call(gemmBf16, "cblas_gemm_bf16bf16f32", transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc);
    }

    private void call(MethodHandle h, String function, boolean transA, boolean transB, int m, int n, int k,
            MemorySegment a, int lda, MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            h.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1.0f, a, lda, b, ldb,
                    beta, c, ldc);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(function + " of " + name + " failed", t);
        }
    }

    @Override
    public String toString() {
        return name + " (" + version + ", " + threads + " threads, " + file + ")";
    }
}
