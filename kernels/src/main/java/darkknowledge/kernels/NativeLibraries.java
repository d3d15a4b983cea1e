package darkknowledge.kernels;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The one place that knows which native libraries this process multiplies with: the BLAS JavaCPP
 * loads for ND4J ({@code org.bytedeco.openblas.load}; {@code ./dk} sets {@code mkl_rt}), Intel's
 * OpenMP runtime that MKL 2025 needs ({@link IntelOpenMp}), the MKL entry points our kernels call
 * through FFM ({@link Mkl}) and the CPU flags that decide which of them may run ({@link Cpu}).
 * {@code core} never loads a native library; a run's provenance gets these entries from here.
 */
public final class NativeLibraries {
    private NativeLibraries() {
    }

    /**
     * The BLAS behind ND4J's matrix products: JavaCPP's {@code org.bytedeco.openblas.load} ({@code
     * mkl_rt} = Intel MKL), else ND4J's bundled OpenBLAS.
     */
    public static String blas() {
        String load = System.getProperty("org.bytedeco.openblas.load");
        return load == null || load.isBlank() ? "openblas (bundled with ND4J)" : load;
    }

    /**
     * Makes the process ready for its first matrix product (Intel's OpenMP runtime global when ND4J
     * multiplies through MKL) and says how: call before ND4J's first product.
     */
    public static String prepare() {
        return IntelOpenMp.ensure();
    }

    /**
     * For a run's provenance: the CPU's model and flags ({@link Cpu#info()}), {@code native.blas}
     * ({@link #blas()}) and {@code native.openmp} (how Intel's OpenMP runtime got loaded, or "not
     * needed"). Prepares the process as {@link #prepare()} does.
     */
    public static SortedMap<String, String> describe() {
        SortedMap<String, String> p = new TreeMap<>(Cpu.info());
        p.put("native.blas", blas());
        p.put("native.openmp", prepare());
        return p;
    }
}
