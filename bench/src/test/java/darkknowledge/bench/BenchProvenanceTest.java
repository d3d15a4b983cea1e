package darkknowledge.bench;

import darkknowledge.kernels.Cpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import darkknowledge.core.RunRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's provenance names the CPU and its ISA flags ({@code core.CpuTest} tests reading them). */
class BenchProvenanceTest {

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
