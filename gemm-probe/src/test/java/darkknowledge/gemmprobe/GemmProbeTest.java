package darkknowledge.gemmprobe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The probe's bfloat16 conversion, and the class path the build wrote for it. */
class GemmProbeTest {

    @Test
    void bfloat16KeepsTheUpperHalfRoundedToNearestEven() {
        assertEquals((short) 0x3F80, GemmProbe.bfloat16(1.0f));
        assertEquals((short) 0xC000, GemmProbe.bfloat16(-2.0f));
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0)
        assertEquals((short) 0x3F80, GemmProbe.bfloat16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3·2^-8: halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up
        assertEquals((short) 0x3F82, GemmProbe.bfloat16(Float.intBitsToFloat(0x3F818000)));
        // just above halfway rounds up
        assertEquals((short) 0x3F81, GemmProbe.bfloat16(Float.intBitsToFloat(0x3F808001)));
    }

    @Test
    void theBuildWroteTheProbesClassPathAndItsMklBuild() {
        String cp = ProbeJar.libraryClasspath();
        String mkl = ProbeJar.builds().getProperty("mkl.artifact");
        assertTrue(mkl.startsWith("org.bytedeco:mkl:"), mkl);
        String version = mkl.substring("org.bytedeco:mkl:".length());
        for (String entry : cp.split(File.pathSeparator)) {
            assertTrue(Files.isRegularFile(Path.of(entry)), entry + " is not a file");
        }
        assertTrue(cp.contains("mkl-" + version + "-linux-x86_64-redist.jar"), cp);
        assertTrue(cp.contains("javacpp-" + ProbeJar.builds().getProperty("javacpp.artifact").replaceAll(".*:", "") + ".jar"), cp);
        assertTrue(Files.exists(ProbeJar.location()), ProbeJar.location().toString());
    }
}
