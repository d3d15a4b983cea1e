package darkknowledge.kernels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The CPU a figure came from, read from /proc/cpuinfo: its model and the instruction sets that decide
 * the matrix-product rate (AVX-512, AVX-512 BF16, AMX BF16). Every run's provenance and the bench
 * record it; {@link #bf16Unsupported} decides whether bfloat16 products are measured or trained with.
 * Machines of our kind change CPU between days (an Intel Xeon with AMX, an AMD Zen 5 with
 * {@code avx512_bf16} and no AMX), so this is read each time, never assumed.
 */
public final class Cpu {
    /** ISA flags of /proc/cpuinfo recorded as {@code cpu.flag.<name>=true|false}. */
    public static final List<String> FLAGS = List.of("avx512f", "avx512_bf16", "amx_bf16");

    public static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private Cpu() {
    }

    /**
     * {@code cpu.model} (the first "model name" line), {@code cpu.family} ("family/model" numbers) and
     * {@code cpu.flag.<f>} for each of {@link #FLAGS}
     * (from the first "flags" line); "unknown" for all when the file is missing or has no such lines
     * (another OS), so a run still goes on there and says what it could not tell.
     */
    public static SortedMap<String, String> info(Path cpuinfo) {
        String model;
        Map<String, String> first;
        try {
            first = firstValues(cpuinfo);
            model = first.getOrDefault("model name", "unknown");
        } catch (IOException e) {
            first = Map.of();
            model = "unreadable: " + e.getMessage();
        }
        Set<String> flags = first.containsKey("flags") ? Set.of(first.get("flags").split("\\s+")) : null;
        SortedMap<String, String> cpu = new TreeMap<>();
        cpu.put("cpu.model", model);
        // "26/2": family and model numbers, which tell CPU generations apart where the name does not
        // ("AMD EPYC" is a Zen 3 on one machine and a Zen 5 on another)
        cpu.put("cpu.family", first.getOrDefault("cpu family", "unknown") + "/" + first.getOrDefault("model", "unknown"));
        for (String f : FLAGS) {
            cpu.put("cpu.flag." + f, flags == null ? "unknown" : String.valueOf(flags.contains(f)));
        }
        return cpu;
    }

    /**
     * What decides which kernels a library runs here, as one string: the first processor's "model
     * name", "vendor_id", "cpu family", "model", "stepping" and "flags" lines of /proc/cpuinfo ("unknown"
     * where it cannot be read). Two machines with the same identity run a BLAS the same way; a cache of
     * measured choices ({@link Gemm}) is keyed by it.
     */
    public static String identity() {
        return identity(CPUINFO);
    }

    static String identity(Path cpuinfo) {
        List<String> keys = List.of("vendor_id", "cpu family", "model", "model name", "stepping", "flags");
        StringBuilder id = new StringBuilder();
        try {
            firstValues(cpuinfo).forEach((key, value) -> {
                if (keys.contains(key)) {
                    id.append(key).append('=').append(value).append('\n');
                }
            });
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return id.isEmpty() ? "unknown" : id.toString();
    }

    /**
     * The first value of each "key : value" line of {@code cpuinfo} (so the first processor's), in the
     * file's order; empty when the file is missing (another OS).
     */
    private static Map<String, String> firstValues(Path cpuinfo) throws IOException {
        Map<String, String> values = new java.util.LinkedHashMap<>();
        if (!Files.isReadable(cpuinfo)) {
            return values;
        }
        for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                values.putIfAbsent(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
            }
        }
        return values;
    }

    /** {@link #info} of this machine. */
    public static SortedMap<String, String> info() {
        return info(CPUINFO);
    }

    /**
     * Why this CPU has no bfloat16 products, or null when its flags have {@code avx512_bf16} or
     * {@code amx_bf16} (the units MKL's {@code cblas_gemm_bf16bf16f32} runs on).
     */
    public static String bf16Unsupported(Map<String, String> cpu) {
        if ("true".equals(cpu.get("cpu.flag.avx512_bf16")) || "true".equals(cpu.get("cpu.flag.amx_bf16"))) {
            return null;
        }
        if ("unknown".equals(cpu.get("cpu.flag.avx512_bf16"))) {
            return "the CPU's flags are unknown (no /proc/cpuinfo)";
        }
        return "the CPU (" + cpu.get("cpu.model") + ") has neither avx512_bf16 nor amx_bf16 among its flags";
    }
}
