package darkknowledge.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Path;

/**
 * Intel's OpenMP runtime ({@code libiomp5}) made global before ND4J multiplies through MKL 2025.
 *
 * <p>ND4J 1.0.0-M2.1's JavaCPP 1.5.7 loads MKL 2025.0's {@code mkl_rt} (the {@code mkl}
 * 2025.0-1.5.11 jars) as it loaded 2022.0's, but MKL 2025 then runs its Intel threading layer,
 * {@code libmkl_intel_thread.so.2}, whose OpenMP symbols ({@code __kmpc_*}) are not among its
 * declared dependencies: unless {@code libiomp5.so} is already loaded with global symbol
 * visibility, the first matrix product kills the JVM with "undefined symbol:
 * __kmpc_global_thread_num". {@code ./dk}, the tests and the Spark executors put the runtime in
 * {@code LD_PRELOAD}, which also gives ND4J's own parallel loops (built against GNU OpenMP, whose
 * {@code GOMP_*} entry points libiomp5 implements) the same thread pool as MKL: one pool on two cores
 * (docs/performance.md). {@link #ensure} is the safety net for any other launcher: it loads the
 * runtime shipped in the MKL redist jar with {@code dlopen(RTLD_NOW | RTLD_GLOBAL)} through the FFM
 * API, which is enough for correctness (ND4J's loops then keep GNU's pool).
 */
public final class IntelOpenMp {
    /** Where the MKL redist jar keeps the runtime, as a class-path resource. */
    public static final String RESOURCE = "org/bytedeco/mkl/linux-x86_64/libiomp5.so";
    private static final String SYMBOL = "__kmpc_global_thread_num";
    private static final int RTLD_NOW = 0x2;
    private static final int RTLD_GLOBAL = 0x100;
    private static volatile String loadedFrom;

    private IntelOpenMp() {
    }

    /**
     * The runtime file for processes this one starts (Spark executors get it as their
     * {@code LD_PRELOAD}): the libiomp5 entry of this process's {@code LD_PRELOAD} (made absolute),
     * else the file {@link #ensure} loaded, else the class path's copy; null when ND4J does not use MKL.
     */
    public static synchronized String preloadPath() {
        String preload = System.getenv("LD_PRELOAD");
        if (preload != null) {
            for (String entry : preload.split("[: ]")) {
                if (entry.contains("libiomp5")) {
                    return Path.of(entry).toAbsolutePath().toString();
                }
            }
        }
        String how = ensure();
        if (how.startsWith("dlopen ")) {
            return how.substring("dlopen ".length());
        }
        URL url = resource();
        return how.equals("not needed") || url == null ? null : extract(url).toString();
    }

    private static URL resource() {
        URL url = Thread.currentThread().getContextClassLoader().getResource(RESOURCE);
        return url != null ? url : ClassLoader.getSystemResource(RESOURCE);
    }

    /** True when Intel's OpenMP entry points are visible process-wide (preloaded or loaded by {@link #ensure}). */
    public static boolean present() {
        return dlsym(SYMBOL);
    }

    /**
     * When ND4J is to multiply through MKL ({@code org.bytedeco.openblas.load=mkl_rt}) and Intel's
     * OpenMP runtime is not yet global, loads it from the class path; returns where it came from
     * ("LD_PRELOAD" or similar when it was already there, "not needed" for another BLAS). Call before
     * the first matrix product. A class path without the MKL redist jar is an error naming it.
     */
    public static synchronized String ensure() {
        if (!"mkl_rt".equals(System.getProperty("org.bytedeco.openblas.load"))) {
            return "not needed";
        }
        if (loadedFrom != null) {
            return loadedFrom;
        }
        if (present()) {
            String preload = System.getenv("LD_PRELOAD");
            loadedFrom = preload != null && preload.contains("libiomp5") ? "LD_PRELOAD " + preload : "already loaded";
            return loadedFrom;
        }
        URL url = resource();
        if (url == null) {
            throw new IllegalStateException("MKL (org.bytedeco.openblas.load=mkl_rt) needs Intel's OpenMP runtime, and "
                    + RESOURCE + " is not on the class path: add org.bytedeco:mkl:<version>:linux-x86_64-redist, or set "
                    + "LD_PRELOAD to a libiomp5.so");
        }
        Path file = extract(url);
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle dlopen = linker.downcallHandle(linker.defaultLookup().find("dlopen").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MemorySegment handle = (MemorySegment) dlopen.invokeExact(arena.allocateFrom(file.toString()),
                    RTLD_NOW | RTLD_GLOBAL);
            if (handle.address() == 0 || !present()) {
                throw new IllegalStateException("could not load " + file + " with global symbols (dlopen failed); set "
                        + "LD_PRELOAD to it instead");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("could not call dlopen for " + file, t);
        }
        loadedFrom = "dlopen " + file;
        return loadedFrom;
    }

    /**
     * The resource copied to a file named by the user and its content hash, reused only when its bytes
     * are the resource's (written aside and moved in whole: never half-written).
     */
    private static Path extract(URL url) {
        try {
            byte[] bytes;
            try (InputStream in = url.openStream()) {
                bytes = in.readAllBytes();
            }
            return NativeLibraries.written(bytes, "native", "libiomp5.so");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + url + " to load it", e);
        }
    }

    private static boolean dlsym(String name) {
        return address(name).address() != 0;
    }

    /** The process-wide address of {@code name} ({@code dlsym(RTLD_DEFAULT, name)}); NULL when no global library has it. */
    private static MemorySegment address(String name) {
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle dlsym = linker.downcallHandle(linker.defaultLookup().find("dlsym").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            return (MemorySegment) dlsym.invokeExact(MemorySegment.NULL, arena.allocateFrom(name));
        } catch (Throwable t) {
            throw new IllegalStateException("cannot look up " + name + " with dlsym", t);
        }
    }

    /**
     * The OpenMP runtime's {@code omp_get_max_threads()} on the calling thread (the team a parallel
     * region it opens would fork), found process-wide: Intel's when preloaded, else GNU's when a
     * library loaded it globally; -1 when no OpenMP runtime is visible.
     */
    static int maxThreads() {
        MemorySegment f = address("omp_get_max_threads");
        if (f.address() == 0) {
            return -1;
        }
        try {
            return (int) Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("omp_get_max_threads() failed", t);
        }
    }

    /**
     * {@code omp_set_num_threads(n)}: the teams the calling thread forks from now on have {@code n}
     * threads (a per-thread setting of the runtime; oneDNN, MKL's OpenMP layer and ND4J's loops all
     * read it). False when no OpenMP runtime is visible.
     */
    static boolean setMaxThreads(int n) {
        MemorySegment f = address("omp_set_num_threads");
        if (f.address() == 0) {
            return false;
        }
        try {
            Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)).invokeExact(n);
            return true;
        } catch (Throwable t) {
            throw new IllegalStateException("omp_set_num_threads(" + n + ") failed", t);
        }
    }

    private static MethodHandle setBlocktime;
    private static boolean setBlocktimeProbed;

    /**
     * Makes the OpenMP teams the calling thread forks put their idle threads to sleep at once instead
     * of spinning ({@code kmp_set_blocktime(0)}; Intel's default is 200 ms of spinning after each
     * parallel region). Needed where another library's threads share the cores with this runtime's:
     * with OpenBLAS's own pthreads multiplying between ND4J's parallel loops, the spinning OpenMP worker
     * took a core from OpenBLAS (its products in a training epoch ran at 150 GFLOP/s with the spin and
     * 230 without, on a 2-core AMD EPYC Zen 5). Per thread, as the runtime's setting is; {@code false}
     * puts back the default ({@code KMP_BLOCKTIME}, else 200 ms). Returns false when Intel's runtime is
     * not loaded (nothing spins for 200 ms then).
     */
    static boolean sleepAtOnce(boolean atOnce) {
        MethodHandle h;
        synchronized (IntelOpenMp.class) {
            if (!setBlocktimeProbed) {
                MemorySegment f = address("kmp_set_blocktime");
                setBlocktime = f.address() == 0 ? null
                        : Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
                setBlocktimeProbed = true;
            }
            h = setBlocktime;
        }
        if (h == null) {
            return false;
        }
        int ms = atOnce ? 0 : defaultBlocktime();
        try {
            h.invokeExact(ms);
            return true;
        } catch (Throwable t) {
            throw new IllegalStateException("kmp_set_blocktime(" + ms + ") failed", t);
        }
    }

    /** {@code KMP_BLOCKTIME} in milliseconds when it is a number, else Intel's default, 200. */
    static int defaultBlocktime() {
        try {
            return Integer.parseInt(System.getenv().getOrDefault("KMP_BLOCKTIME", "200").strip());
        } catch (NumberFormatException e) {
            return 200;  // "infinite" and the like: the runtime's own reading of it stays in force elsewhere
        }
    }
}
