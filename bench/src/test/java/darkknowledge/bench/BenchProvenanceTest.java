package darkknowledge.bench;

import darkknowledge.core.Cpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import darkknowledge.core.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's provenance names the CPU and its ISA flags, read from /proc/cpuinfo. */
class BenchProvenanceTest {

    @Test
    void cpuModelAndFlagsComeFromTheFirstProcessorOfCpuinfo(@TempDir Path dir) throws Exception {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: GenuineIntel
                model name\t: Intel(R) Xeon(R) Platinum 8480+
                flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 amx_tile

                processor\t: 1
                model name\t: Something Else
                flags\t\t: fpu amx_bf16
                """);
        assertEquals(Map.of("cpu.model", "Intel(R) Xeon(R) Platinum 8480+", "cpu.flag.avx512f", "true",
                "cpu.flag.avx512_bf16", "true", "cpu.flag.amx_bf16", "false"), Cpu.info(cpuinfo));
    }

    @Test
    void aMissingCpuinfoGivesUnknownRatherThanFailingTheBench(@TempDir Path dir) {
        assertEquals(Map.of("cpu.model", "unknown", "cpu.flag.avx512f", "unknown", "cpu.flag.avx512_bf16", "unknown",
                "cpu.flag.amx_bf16", "unknown"), Cpu.info(dir.resolve("absent")));
    }

    @Test
    void writtenProvenanceRecordsThisMachinesCpuBlasAndSeed(@TempDir Path dir) {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/cpuinfo")), "needs Linux's /proc/cpuinfo");
        Path file = dir.resolve("bench.provenance.properties");
        BenchProvenance.write(BenchProvenance.capture(dir, 7), file);
        var p = RunRecord.readProperties(file);
        assertNotEquals("unknown", p.get("cpu.model"));
        assertEquals(Cpu.info(Path.of("/proc/cpuinfo")).get("cpu.model"), p.get("cpu.model"));
        for (String flag : Cpu.FLAGS) {
            String v = p.get("cpu.flag." + flag);
            assertEquals(true, v.equals("true") || v.equals("false"), flag + "=" + v);
        }
        assertEquals("7", p.get("bench.seed"));
        assertEquals(System.getProperty("org.bytedeco.openblas.load", "unset"), p.get("blas.requested"));
        assertEquals(String.valueOf(System.getenv("OMP_NUM_THREADS")), p.get("env.OMP_NUM_THREADS"));
    }
}
