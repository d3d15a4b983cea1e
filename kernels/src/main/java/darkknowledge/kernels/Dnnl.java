package darkknowledge.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * oneDNN's C API ({@code dnnl.h}, version 3) called through the FFM API: the few entry points
 * {@link DnnlConv} needs (memory descriptors and objects, convolution, eltwise and reorder primitives,
 * execution on a CPU stream).
 *
 * <p>The library is {@code libdnnl.so.3} of JavaCPP's {@code org.bytedeco:dnnl} build (the jar
 * {@code dnnl.properties} names, which the kernels module's build fetches into the local repository),
 * never its Java presets: those need JavaCPP 1.5.11 and ND4J ships 1.5.7. Its native files are
 * extracted from the jar ({@link NativeLibraries#extract}) and opened by path, with the OpenCL loader
 * it links to ({@code org.bytedeco:opencl}; the CPU engine never calls it). Threads: this build runs
 * on OpenMP through GNU's entry points ({@code GOMP_*}, {@code omp_*}); where Intel's OpenMP runtime
 * is global ({@code LD_PRELOAD}, as {@code ./dk} and the tests set it for MKL) those resolve to it,
 * so oneDNN, MKL and ND4J share one pool of {@code OMP_NUM_THREADS} threads; otherwise to GNU's
 * {@code libgomp.so.1} (the one already loaded, else the jar's).
 *
 * <p>Every native object is owned by a {@link Natives} list, destroyed when its owner is closed or
 * collected.
 */
final class Dnnl {
    // Values of oneDNN 3.x's C enums (dnnl_common_types.h, dnnl_types.h), read from the 3.6 headers.
    static final int CPU = 1;
    /** {@code dnnl_bf16}: bfloat16, the upper half of an fp32 number ({@link Bf16}). */
    static final int BF16 = 2;
    static final int F32 = 3;
    static final int TAG_ANY = 1;
    /** One dimension, dense ({@code dnnl_a}, {@code dnnl_x}). */
    static final int TAG_A = 2;
    /** 4-D {@code abcd}: activations NCHW ({@code dnnl_nchw}). */
    static final int TAG_NCHW = 5;
    /** 4-D {@code acdb}: activations NHWC ({@code dnnl_nhwc}). */
    static final int TAG_NHWC = 22;
    /** 4-D {@code acdb} for weights (O, I, H, W): OHWI ({@code dnnl_ohwi}), our [k²C, filters] 'f' matrix. */
    static final int TAG_OHWI = 22;
    /** 4-D {@code aBcd16b}: channels in blocks of 16 innermost ({@code dnnl_nChw16c}). */
    static final int TAG_NCHW16C = 78;
    static final int FORWARD_TRAINING = 64;
    static final int FORWARD_INFERENCE = 96;
    static final int POOLING_MAX = 511;
    static final int ARG_WORKSPACE = 64;
    static final int QUERY_WORKSPACE_MD = 135;
    static final int CONVOLUTION_DIRECT = 1;
    static final int ELTWISE_RELU = 32;
    static final int ELTWISE_RELU_USE_DST_FOR_BWD = 0x100;
    static final int ARG_SRC = 1;
    static final int ARG_DST = 17;
    static final int ARG_WEIGHTS = 33;
    static final int ARG_BIAS = 41;
    static final int ARG_SCRATCHPAD = 80;
    static final int ARG_DIFF_SRC = 129;
    static final int ARG_DIFF_DST = 145;
    static final int ARG_DIFF_WEIGHTS = 161;
    static final int ARG_DIFF_BIAS = 169;
    static final int QUERY_IMPL_INFO_STR = 8;
    static final int QUERY_SRC_MD = 129;
    static final int QUERY_DIFF_SRC_MD = 130;
    static final int QUERY_WEIGHTS_MD = 131;
    static final int QUERY_DIFF_WEIGHTS_MD = 132;
    static final int QUERY_DST_MD = 133;
    static final int QUERY_DIFF_DST_MD = 134;
    static final int QUERY_SCRATCHPAD_MD = 136;
    static final int SCRATCHPAD_USER = 1;
    private static final int STREAM_IN_ORDER = 1;
    private static final int MAX_NDIMS = 12;
    private static final String[] STATUS = {"success", "out_of_memory", "invalid_arguments", "unimplemented",
        "last_impl_reached", "runtime_error", "not_required", "invalid_graph", "invalid_graph_op", "invalid_shape",
        "invalid_data_type"};

    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final AddressLayout A = ValueLayout.ADDRESS;
    /** {@code DNNL_MEMORY_ALLOCATE}: the library allocates (and frees) the memory object's buffer. */
    private static final MemorySegment ALLOCATE = MemorySegment.ofAddress(-1L);
    private static final Cleaner CLEANER = Cleaner.create();

    private static boolean probed;
    private static String unavailable;
    private static Dnnl library;

    final String artifact;
    final Path file;
    final String version;
    private final MethodHandle memoryDescCreateWithTag;
    private final MethodHandle memoryDescDestroy;
    private final MethodHandle memoryDescEqual;
    private final MethodHandle memoryDescGetSize;
    private final MethodHandle memoryCreate;
    private final MethodHandle memorySetDataHandle;
    private final MethodHandle memoryDestroy;
    private final MethodHandle attrCreate;
    private final MethodHandle attrDestroy;
    private final MethodHandle attrSetScratchpadMode;
    private final MethodHandle attrSetPostOps;
    private final MethodHandle postOpsCreate;
    private final MethodHandle postOpsAppendEltwise;
    private final MethodHandle postOpsDestroy;
    private final MethodHandle convForward;
    private final MethodHandle convBackwardData;
    private final MethodHandle convBackwardWeights;
    private final MethodHandle eltwiseForward;
    private final MethodHandle eltwiseBackward;
    private final MethodHandle reorder;
    private final MethodHandle poolForward;
    private final MethodHandle poolBackward;
    private final MethodHandle pdQueryMd;
    private final MethodHandle pdQuery;
    private final MethodHandle pdDestroy;
    private final MethodHandle primitiveCreate;
    private final MethodHandle primitiveExecute;
    private final MethodHandle primitiveDestroy;
    private final MethodHandle streamCreate;
    private final MethodHandle streamWait;
    private final MethodHandle streamDestroy;
    private final MethodHandle effectiveIsa;
    /** The CPU engine (one per process, never destroyed). */
    final MemorySegment engine;

    /** Null when oneDNN can run here, else what is missing. */
    static synchronized String unavailable() {
        if (!probed) {
            probed = true;
            try {
                library = load();
            } catch (RuntimeException | LinkageError e) {
                unavailable = e.getMessage();
            }
        }
        return unavailable;
    }

    /** The loaded library; an {@link UnsupportedOperationException} naming what is missing when it cannot run here. */
    static Dnnl library() {
        Dnnl l = library;
        if (l != null) {
            return l;
        }
        String why = unavailable();
        if (why != null) {
            throw new UnsupportedOperationException("oneDNN (conv.backend=dnnl) cannot run here: " + why);
        }
        return library;
    }

    private static Dnnl load() {
        String os = System.getProperty("os.name", "") + "/" + System.getProperty("os.arch", "");
        return load(os, NativeLibraries.buildProperties("dnnl.properties"));
    }

    /**
     * Loads oneDNN on platform {@code os} ("name/arch") from the jars {@code p} names; an
     * {@link IllegalStateException} naming what is missing (the platform, a jar, a library) otherwise.
     */
    static Dnnl load(String os, Properties p) {
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux/") || !(os.endsWith("/amd64") || os.endsWith("/x86_64"))) {
            throw new IllegalStateException("the oneDNN build used (JavaCPP's org.bytedeco:dnnl, classifier "
                    + "linux-x86_64) runs on Linux x86-64 only; this is " + os);
        }
        String artifact = p.getProperty("dnnl.artifact");
        Path jar = NativeLibraries.jar(p, "dnnl.jar");
        Path openclJar = NativeLibraries.jar(p, "opencl.jar");
        for (Path j : List.of(jar, openclJar)) {
            if (!Files.isRegularFile(j)) {
                throw new IllegalStateException("the jar " + j + " is missing (oneDNN " + artifact + " and the "
                        + p.getProperty("opencl.artifact") + " loader it links to, classifier linux-x86_64): the "
                        + "kernels module's build fetches both into the local repository (mvn -pl kernels package)");
            }
        }
        Path dir = NativeLibraries.extract(jar, name -> name.equals("org/bytedeco/dnnl/linux-x86_64/libdnnl.so.3")
                || name.equals("org/bytedeco/dnnl/linux-x86_64/libgomp.so.1"), NativeLibraries.extractionDir("dnnl", jar));
        NativeLibraries.extract(openclJar, name -> name.equals("org/bytedeco/opencl/linux-x86_64/libOpenCL.so.1"), dir);
        Path file = dir.resolve("libdnnl.so.3");
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(file, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("cannot load " + file + " (" + artifact + "): " + e.getMessage(), e);
        }
        return new Dnnl(artifact, file, lookup);
    }

    private Dnnl(String artifact, Path file, SymbolLookup lookup) {
        this.artifact = artifact;
        this.file = file;
        Linker linker = Linker.nativeLinker();
        var h = new Object() {
            MethodHandle of(String name, FunctionDescriptor d) {
                return linker.downcallHandle(lookup.find(name).orElseThrow(
                        () -> new IllegalStateException(file + " has no " + name + " (not oneDNN 3.x?)")), d);
            }

            MethodHandle status(String name, MemoryLayout... args) {
                return of(name, FunctionDescriptor.of(I, args));
            }
        };
        memoryDescCreateWithTag = h.status("dnnl_memory_desc_create_with_tag", A, I, A, I, I);
        memoryDescDestroy = h.status("dnnl_memory_desc_destroy", A);
        memoryDescEqual = h.status("dnnl_memory_desc_equal", A, A);
        memoryDescGetSize = h.of("dnnl_memory_desc_get_size", FunctionDescriptor.of(J, A));
        memoryCreate = h.status("dnnl_memory_create", A, A, A, A);
        memorySetDataHandle = h.status("dnnl_memory_set_data_handle", A, A);
        memoryDestroy = h.status("dnnl_memory_destroy", A);
        attrCreate = h.status("dnnl_primitive_attr_create", A);
        attrDestroy = h.status("dnnl_primitive_attr_destroy", A);
        attrSetScratchpadMode = h.status("dnnl_primitive_attr_set_scratchpad_mode", A, I);
        attrSetPostOps = h.status("dnnl_primitive_attr_set_post_ops", A, A);
        postOpsCreate = h.status("dnnl_post_ops_create", A);
        postOpsAppendEltwise = h.status("dnnl_post_ops_append_eltwise", A, I, F, F);
        postOpsDestroy = h.status("dnnl_post_ops_destroy", A);
        convForward = h.status("dnnl_convolution_forward_primitive_desc_create", A, A, I, I, A, A, A, A, A, A, A, A, A);
        convBackwardData = h.status("dnnl_convolution_backward_data_primitive_desc_create", A, A, I, A, A, A, A, A,
                A, A, A, A);
        convBackwardWeights = h.status("dnnl_convolution_backward_weights_primitive_desc_create", A, A, I, A, A, A,
                A, A, A, A, A, A, A);
        eltwiseForward = h.status("dnnl_eltwise_forward_primitive_desc_create", A, A, I, I, A, A, F, F, A);
        eltwiseBackward = h.status("dnnl_eltwise_backward_primitive_desc_create", A, A, I, A, A, A, F, F, A, A);
        reorder = h.status("dnnl_reorder_primitive_desc_create", A, A, A, A, A, A);
        poolForward = h.status("dnnl_pooling_forward_primitive_desc_create", A, A, I, I, A, A, A, A, A, A, A, A);
        poolBackward = h.status("dnnl_pooling_backward_primitive_desc_create", A, A, I, A, A, A, A, A, A, A, A, A);
        pdQueryMd = h.of("dnnl_primitive_desc_query_md", FunctionDescriptor.of(A, A, I, I));
        pdQuery = h.status("dnnl_primitive_desc_query", A, I, I, A);
        pdDestroy = h.status("dnnl_primitive_desc_destroy", A);
        primitiveCreate = h.status("dnnl_primitive_create", A, A);
        primitiveExecute = h.status("dnnl_primitive_execute", A, A, I, A);
        primitiveDestroy = h.status("dnnl_primitive_destroy", A);
        streamCreate = h.status("dnnl_stream_create", A, A, I);
        streamWait = h.status("dnnl_stream_wait", A);
        streamDestroy = h.status("dnnl_stream_destroy", A);
        effectiveIsa = h.of("dnnl_get_effective_cpu_isa", FunctionDescriptor.of(I));
        MethodHandle versionOf = h.of("dnnl_version", FunctionDescriptor.of(A));
        MethodHandle engineCreate = h.status("dnnl_engine_create", A, I, J);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = ((MemorySegment) versionOf.invokeExact()).reinterpret(32);
            MemorySegment hash = v.get(A, 16);
            version = v.get(I, 0) + "." + v.get(I, 4) + "." + v.get(I, 8)
                    + (hash.address() == 0 ? "" : " (" + hash.reinterpret(64).getString(0) + ")");
            MemorySegment out = arena.allocate(A);
            check((int) engineCreate.invokeExact(out, CPU, 0L), "dnnl_engine_create");
            engine = out.get(A, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN's engine could not be created", t);
        }
    }

    /** "oneDNN 3.6.1 (hash) of org.bytedeco:dnnl:…, ISA avx512_core_bf16": for logs and the bench's provenance. */
    String describe() {
        return "oneDNN " + version + " of " + artifact + ", ISA " + isaName(isa());
    }

    /** A few {@code dnnl_cpu_isa_t} values by name (dnnl_types.h), others by number. */
    static String isaName(int isa) {
        return switch (isa) {
            case 7 -> "avx2";
            case 15 -> "avx2_vnni";
            case 39 -> "avx512_core";
            case 103 -> "avx512_core_vnni";
            case 231 -> "avx512_core_bf16";
            case 4079 -> "avx512_core_amx";
            default -> "code " + isa;
        };
    }

    /** {@code dnnl_get_effective_cpu_isa()}: the instruction set oneDNN's JIT code targets on this CPU. */
    int isa() {
        try {
            return (int) effectiveIsa.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_get_effective_cpu_isa");
        }
    }

    static void check(int status, String function) {
        if (status != 0) {
            String name = status > 0 && status < STATUS.length ? STATUS[status] : "status " + status;
            throw new IllegalStateException(function + " failed: dnnl_" + name);
        }
    }

    private static RuntimeException rethrow(Throwable t, String function) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(function + " failed", t);
    }

    /**
     * The native objects of one owner (a layer's primitives for one batch size): destroyed, newest first,
     * by {@link #close} or, failing that, when the owner is collected. Also an arena for small structs.
     */
    final class Natives implements AutoCloseable {
        private final List<long[]> handles;
        private final Cleaner.Cleanable cleanable;
        final Arena arena = Arena.ofAuto();

        Natives(Object owner) {
            List<long[]> list = new ArrayList<>();
            Dnnl lib = Dnnl.this;
            handles = list;
            cleanable = CLEANER.register(owner, () -> lib.destroyAll(list));
        }

        private MemorySegment own(int kind, MemorySegment handle) {
            synchronized (handles) {
                handles.add(new long[] {kind, handle.address()});
            }
            return handle;
        }

        @Override
        public void close() {
            cleanable.clean();
        }

        /** A dense memory descriptor: f32, these dims, this format tag ({@link #TAG_ANY} to let a primitive choose). */
        MemorySegment md(long[] dims, int tag) {
            return md(dims, tag, F32);
        }

        /** A dense memory descriptor of this data type ({@link #F32} or {@link #BF16}), dims and format tag. */
        MemorySegment md(long[] dims, int tag, int dataType) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) memoryDescCreateWithTag.invokeExact(out, dims.length, dims(dims), dataType, tag),
                        "dnnl_memory_desc_create_with_tag");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_memory_desc_create_with_tag");
            }
            return own(MD, out.get(A, 0));
        }

        /** A memory object of this descriptor on {@code buffer}; null buffer: oneDNN allocates (and frees) it. */
        MemorySegment memory(MemorySegment md, MemorySegment buffer) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) memoryCreate.invokeExact(out, md, engine, (MemorySegment) (buffer == null ? ALLOCATE : buffer)),
                        "dnnl_memory_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_memory_create");
            }
            return own(MEMORY, out.get(A, 0));
        }

        /** An attribute set with user-managed scratchpad and, when {@code relu}, a ReLU post-op. */
        MemorySegment attr(boolean relu) {
            try {
                MemorySegment out = arena.allocate(A);
                check((int) attrCreate.invokeExact(out), "dnnl_primitive_attr_create");
                MemorySegment attr = own(ATTR, out.get(A, 0));
                check((int) attrSetScratchpadMode.invokeExact(attr, SCRATCHPAD_USER),
                        "dnnl_primitive_attr_set_scratchpad_mode");
                if (relu) {
                    check((int) postOpsCreate.invokeExact(out), "dnnl_post_ops_create");
                    MemorySegment ops = own(POST_OPS, out.get(A, 0));
                    check((int) postOpsAppendEltwise.invokeExact(ops, ELTWISE_RELU, 0f, 0f),
                            "dnnl_post_ops_append_eltwise");
                    check((int) attrSetPostOps.invokeExact(attr, ops), "dnnl_primitive_attr_set_post_ops");
                }
                return attr;
            } catch (Throwable t) {
                throw rethrow(t, "primitive attributes");
            }
        }

        /** Forward (training) convolution, stride 1, these paddings; bias may be null. */
        MemorySegment convForwardPd(MemorySegment src, MemorySegment weights, MemorySegment bias, MemorySegment dst,
                long pad, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) convForward.invokeExact(out, engine, FORWARD_TRAINING, CONVOLUTION_DIRECT, src, weights,
                        (MemorySegment) (bias == null ? MemorySegment.NULL : bias), dst, dims(1, 1), dims(0, 0), dims(pad, pad),
                        dims(pad, pad), attr), "dnnl_convolution_forward_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_convolution_forward_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        MemorySegment convBackwardDataPd(MemorySegment diffSrc, MemorySegment weights, MemorySegment diffDst, long pad,
                MemorySegment hint, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) convBackwardData.invokeExact(out, engine, CONVOLUTION_DIRECT, diffSrc, weights, diffDst,
                        dims(1, 1), dims(0, 0), dims(pad, pad), dims(pad, pad), hint, attr),
                        "dnnl_convolution_backward_data_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_convolution_backward_data_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        MemorySegment convBackwardWeightsPd(MemorySegment src, MemorySegment diffWeights, MemorySegment diffBias,
                MemorySegment diffDst, long pad, MemorySegment hint, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) convBackwardWeights.invokeExact(out, engine, CONVOLUTION_DIRECT, src, diffWeights,
                        diffBias, diffDst, dims(1, 1), dims(0, 0), dims(pad, pad), dims(pad, pad), hint, attr),
                        "dnnl_convolution_backward_weights_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_convolution_backward_weights_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        /** ReLU forward (a hint for its backward pass) on {@code data}. */
        MemorySegment reluForwardPd(MemorySegment data, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) eltwiseForward.invokeExact(out, engine, FORWARD_TRAINING, ELTWISE_RELU_USE_DST_FOR_BWD,
                        data, data, 0f, 0f, attr), "dnnl_eltwise_forward_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_eltwise_forward_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        /** ReLU backward from its output: {@code diff_src = diff_dst ⊙ 1[dst > 0]} (args DST, DIFF_DST, DIFF_SRC). */
        MemorySegment reluBackwardPd(MemorySegment data, MemorySegment hint, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) eltwiseBackward.invokeExact(out, engine, ELTWISE_RELU_USE_DST_FOR_BWD, data, data, data,
                        0f, 0f, hint, attr), "dnnl_eltwise_backward_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_eltwise_backward_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        /** Max pooling over {@code size × size} windows with stride {@code size}, no padding; training keeps a workspace. */
        MemorySegment maxPoolForwardPd(MemorySegment src, MemorySegment dst, long size, boolean training,
                MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) poolForward.invokeExact(out, engine, training ? FORWARD_TRAINING : FORWARD_INFERENCE,
                        POOLING_MAX, src, dst, dims(size, size), dims(size, size), dims(0, 0), dims(0, 0), dims(0, 0),
                        attr), "dnnl_pooling_forward_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_pooling_forward_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        MemorySegment maxPoolBackwardPd(MemorySegment diffSrc, MemorySegment diffDst, long size, MemorySegment hint,
                MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) poolBackward.invokeExact(out, engine, POOLING_MAX, diffSrc, diffDst, dims(size, size),
                        dims(size, size), dims(0, 0), dims(0, 0), dims(0, 0), hint, attr),
                        "dnnl_pooling_backward_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_pooling_backward_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        /**
         * A prepared call of {@code pd}'s primitive with these arguments plus its scratchpad on
         * {@code scratch} (which must be large enough), when it needs one.
         */
        Exec exec(MemorySegment pd, int[] args, MemorySegment[] memories, MemorySegment scratch) {
            MemorySegment scratchMd = queryMd(pd, QUERY_SCRATCHPAD_MD);
            long need = size(scratchMd);
            if (need == 0) {
                return exec(primitive(pd), args, memories);
            }
            if (need > scratch.byteSize()) {
                throw new IllegalStateException("scratchpad of " + need + " bytes needed, " + scratch.byteSize()
                        + " given");
            }
            int k = args.length;
            int[] allArgs = java.util.Arrays.copyOf(args, k + 1);
            MemorySegment[] allMem = java.util.Arrays.copyOf(memories, k + 1);
            allArgs[k] = ARG_SCRATCHPAD;
            allMem[k] = memory(scratchMd, scratch);
            return exec(primitive(pd), allArgs, allMem);
        }

        /** A scratchpad as large as the largest these primitives need (for primitives run one after another). */
        MemorySegment scratchpad(MemorySegment... pds) {
            long bytes = 64;
            for (MemorySegment pd : pds) {
                bytes = Math.max(bytes, size(queryMd(pd, QUERY_SCRATCHPAD_MD)));
            }
            return Arena.ofAuto().allocate(bytes, 64);
        }

        MemorySegment reorderPd(MemorySegment from, MemorySegment to, MemorySegment attr) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) reorder.invokeExact(out, from, engine, to, engine, attr),
                        "dnnl_reorder_primitive_desc_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_reorder_primitive_desc_create");
            }
            return own(PD, out.get(A, 0));
        }

        MemorySegment primitive(MemorySegment pd) {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) primitiveCreate.invokeExact(out, pd), "dnnl_primitive_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_primitive_create");
            }
            return own(PRIMITIVE, out.get(A, 0));
        }

        MemorySegment stream() {
            MemorySegment out = arena.allocate(A);
            try {
                check((int) streamCreate.invokeExact(out, engine, STREAM_IN_ORDER), "dnnl_stream_create");
            } catch (Throwable t) {
                throw rethrow(t, "dnnl_stream_create");
            }
            return own(STREAM, out.get(A, 0));
        }

        /** A long[] as a {@code dnnl_dims_t} (12 values, the rest zero). */
        MemorySegment dims(long... values) {
            MemorySegment d = arena.allocate(J, MAX_NDIMS);
            for (int i = 0; i < values.length; i++) {
                d.setAtIndex(J, i, values[i]);
            }
            return d;
        }

        /** A prepared call: the primitive and its {@code dnnl_exec_arg_t} array ({@code {int arg; dnnl_memory_t}}, 16 bytes each). */
        Exec exec(MemorySegment primitive, int[] args, MemorySegment[] memories) {
            MemorySegment a = arena.allocate(16L * args.length, 8);
            for (int i = 0; i < args.length; i++) {
                a.set(I, 16L * i, args[i]);
                a.set(A, 16L * i + 8, memories[i]);
            }
            return new Exec(primitive, args.length, a);
        }
    }

    private static final int MD = 0;
    private static final int MEMORY = 1;
    private static final int ATTR = 2;
    private static final int POST_OPS = 3;
    private static final int PD = 4;
    private static final int PRIMITIVE = 5;
    private static final int STREAM = 6;

    private void destroyAll(List<long[]> list) {
        synchronized (list) {
            for (int i = list.size() - 1; i >= 0; i--) {
                MemorySegment h = MemorySegment.ofAddress(list.get(i)[1]);
                try {
                    int unused = switch ((int) list.get(i)[0]) {
                        case MD -> (int) memoryDescDestroy.invokeExact(h);
                        case MEMORY -> (int) memoryDestroy.invokeExact(h);
                        case ATTR -> (int) attrDestroy.invokeExact(h);
                        case POST_OPS -> (int) postOpsDestroy.invokeExact(h);
                        case PD -> (int) pdDestroy.invokeExact(h);
                        case PRIMITIVE -> (int) primitiveDestroy.invokeExact(h);
                        default -> (int) streamDestroy.invokeExact(h);
                    };
                } catch (Throwable t) {
                    // destroying is best effort: nothing to do about a failure here
                }
            }
            list.clear();
        }
    }

    /** A primitive with its arguments, ready to run. */
    record Exec(MemorySegment primitive, int nargs, MemorySegment args) {
    }

    /** Runs a prepared primitive on {@code stream} and waits for it. */
    void execute(Exec e, MemorySegment stream) {
        try {
            check((int) primitiveExecute.invokeExact(e.primitive(), stream, e.nargs(), e.args()),
                    "dnnl_primitive_execute");
            check((int) streamWait.invokeExact(stream), "dnnl_stream_wait");
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_primitive_execute");
        }
    }

    /** Points a memory object at {@code buffer}. */
    void setHandle(MemorySegment memory, MemorySegment buffer) {
        try {
            check((int) memorySetDataHandle.invokeExact(memory, buffer), "dnnl_memory_set_data_handle");
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_memory_set_data_handle");
        }
    }

    /** A primitive descriptor's memory descriptor ({@link #QUERY_WEIGHTS_MD} etc.), owned by the descriptor. */
    MemorySegment queryMd(MemorySegment pd, int what) {
        try {
            MemorySegment md = (MemorySegment) pdQueryMd.invokeExact(pd, what, 0);
            if (md.address() == 0) {
                throw new IllegalStateException("dnnl_primitive_desc_query_md(" + what + ") returned NULL");
            }
            return md;
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_primitive_desc_query_md");
        }
    }

    boolean sameMd(MemorySegment a, MemorySegment b) {
        try {
            return (int) memoryDescEqual.invokeExact(a, b) != 0;
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_memory_desc_equal");
        }
    }

    /** Bytes of a memory descriptor's buffer (0 for a zero descriptor). */
    long size(MemorySegment md) {
        try {
            return (long) memoryDescGetSize.invokeExact(md);
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_memory_desc_get_size");
        }
    }

    /** The implementation a primitive descriptor chose, e.g. "brg_conv_fwd:avx512_core". */
    String implementation(MemorySegment pd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(A);
            check((int) pdQuery.invokeExact(pd, QUERY_IMPL_INFO_STR, 0, out), "dnnl_primitive_desc_query");
            return out.get(A, 0).reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t, "dnnl_primitive_desc_query");
        }
    }
}
