package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector loops compute exactly what the scalar ones do, bit for bit, on awkward values and lengths. */
class SimdTest {
    /** Tests run with the parent pom's flags, which resolve the module; a JVM without them would skip the vectors. */
    @Test
    void theVectorApiIsResolvedInTheTestJvm() {
        assertTrue(Simd.AVAILABLE, "the surefire argLine (dk.jvm.flags) must add jdk.incubator.vector");
    }

    /** Gradients and moments spanning the subnormal flush's threshold, zeros, signs and large values. */
    private static float[] awkward(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 7) {
                case 0 -> 0f;
                case 1 -> (float) r.nextGaussian() * 1e-30f;  // either side of the 10⁻³⁰ threshold
                case 2 -> Float.MIN_VALUE * r.nextInt(1000);  // subnormal
                case 3 -> -(float) r.nextGaussian() * 1e3f;
                default -> (float) r.nextGaussian() * 1e-3f;
            };
        }
        return x;
    }

    private static MemorySegment copy(Arena arena, float[] x) {
        MemorySegment s = arena.allocate(4L * x.length, 64);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, x.length);
        return s;
    }

    @Test
    void adamStepIsBitIdenticalToTheScalarLoop() {
        Random r = new Random(3);
        for (int n : new int[] {1, 15, 16, 17, 1000, 4099}) {
            float[] g = awkward(r, n);
            float[] m = awkward(r, n);
            float[] v = awkward(r, n);
            for (int i = 0; i < n; i++) {
                v[i] = Math.abs(v[i]);
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment g1 = copy(arena, g), m1 = copy(arena, m), v1 = copy(arena, v);
                MemorySegment g2 = copy(arena, g), m2 = copy(arena, m), v2 = copy(arena, v);
                float alpha = 1.3e-3f;
                long tail = Simd.Kernels.adamStep(g1, m1, v1, 0, n, 0.9f, 0.999f, alpha, 1e-8f, Subnormals.THRESHOLD);
                assertTrue(tail <= n && n - tail < 64, "tail start " + tail + " of " + n);
                FusedAdam.Updater.stepFloatScalar(g1, m1, v1, tail, n, 0.9f, 0.999f, alpha, 1e-8f);
                FusedAdam.Updater.stepFloatScalar(g2, m2, v2, 0, n, 0.9f, 0.999f, alpha, 1e-8f);
                assertEquals(-1, g1.mismatch(g2), "update differs at byte " + g1.mismatch(g2) + ", n = " + n);
                assertEquals(-1, m1.mismatch(m2), "m differs, n = " + n);
                assertEquals(-1, v1.mismatch(v2), "v differs, n = " + n);
            }
        }
    }

    @Test
    void maxNormLoopsMatchTheScalarOnes() {
        Random r = new Random(5);
        for (int n : new int[] {1, 15, 16, 17, 1000, 4099}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) r.nextGaussian();
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment a = copy(arena, x), b = copy(arena, x);
                float scalar = 0f;
                for (float v : x) {
                    scalar += v * v;
                }
                float vector = Simd.Kernels.sumOfSquares(a, 0, n);
                assertEquals(scalar, vector, 1e-5f * scalar, "sum of squares, n = " + n);
                Simd.Kernels.scale(a, 0, n, 0.37f);
                for (int i = 0; i < n; i++) {
                    b.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[i] * 0.37f);
                }
                assertEquals(-1, a.mismatch(b), "scaled values differ at byte " + a.mismatch(b) + ", n = " + n);
            }
        }
    }

    @Test
    void roundingIsBitIdenticalToTheScalarLoop() {
        Random r = new Random(4);
        for (int n : new int[] {1, 15, 16, 17, 1000, 4099}) {
            float[] x = awkward(r, n);
            x[0] = Float.POSITIVE_INFINITY;
            if (n > 1) {
                x[1] = Float.intBitsToFloat(0x3F808000);  // a tie, rounds to even
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = copy(arena, x);
                MemorySegment a = arena.allocate(2L * n, 64), b = arena.allocate(2L * n, 64);
                long tail = Simd.Kernels.round(src, a, n);
                Bf16.roundScalar(src, a, tail, n);
                Bf16.roundScalar(src, b, 0, n);
                assertEquals(-1, a.mismatch(b), "bf16 bits differ at byte " + a.mismatch(b) + ", n = " + n);
            }
        }
    }
}
