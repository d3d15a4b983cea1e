package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU's model and ISA flags, read from /proc/cpuinfo, and the bf16 decision made from them. */
class CpuTest {

    @Test
    void cpuModelAndFlagsComeFromTheFirstProcessorOfCpuinfo(@TempDir Path dir) throws Exception {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: GenuineIntel
                cpu family\t: 6
                model\t\t: 143
                model name\t: Intel(R) Xeon(R) Platinum 8480+
                flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 amx_tile

                processor\t: 1
                model name\t: Something Else
                flags\t\t: fpu amx_bf16
                """);
        assertEquals(Map.of("cpu.model", "Intel(R) Xeon(R) Platinum 8480+", "cpu.family", "6/143", "cpu.flag.avx512f", "true",
                "cpu.flag.avx512_bf16", "true", "cpu.flag.amx_bf16", "false"), Cpu.info(cpuinfo));
    }

    @Test
    void aMissingCpuinfoGivesUnknownRatherThanFailingTheRun(@TempDir Path dir) {
        assertEquals(Map.of("cpu.model", "unknown", "cpu.family", "unknown/unknown", "cpu.flag.avx512f", "unknown", "cpu.flag.avx512_bf16", "unknown",
                "cpu.flag.amx_bf16", "unknown"), Cpu.info(dir.resolve("absent")));
    }

    @Test
    void bf16NeedsAvx512Bf16OrAmxAndSaysWhichItLacks() {
        assertNull(Cpu.bf16Unsupported(Map.of("cpu.model", "Zen 5", "cpu.flag.avx512f", "true",
                "cpu.flag.avx512_bf16", "true", "cpu.flag.amx_bf16", "false")));
        String why = Cpu.bf16Unsupported(Map.of("cpu.model", "Old Xeon", "cpu.flag.avx512f", "true",
                "cpu.flag.avx512_bf16", "false", "cpu.flag.amx_bf16", "false"));
        assertTrue(why != null && why.contains("avx512_bf16") && why.contains("Old Xeon"), why);
    }
}
