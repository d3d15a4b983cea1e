package darkknowledge.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinearDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link ReluBias} computes what DL4J's ops do: {@code relu(z + b)} and {@code ε ⊙ 1[a > 0]} bit for
 * bit, the bias gradient to fp32 rounding; its vector and scalar loops agree bit for bit, at widths
 * that do and do not fill a vector, on zeros, negative zeros and mixed signs.
 */
class ReluBiasTest {
    private static float[] values(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 5) {
                case 0 -> 0f;
                case 1 -> -0f;
                default -> (float) r.nextGaussian();
            };
        }
        return x;
    }

    private static MemorySegment segment(Arena arena, float[] x) {
        MemorySegment s = arena.allocate(4L * Math.max(1, x.length), 64);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, x.length);
        return s;
    }

    private static float[] floats(MemorySegment s, int n) {
        return s.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_FLOAT);
    }

    @Test
    void forwardAndBackwardAreDl4jsOpsInVectorsAndScalars() {
        Random r = new Random(5);
        for (int n : new int[] {1, 7, 8, 16, 17, 800}) {
            int rows = 13;
            float[] z = values(r, rows * n);
            float[] b = values(r, n);
            float[] eps = values(r, rows * n);
            INDArray zNd = Nd4j.create(z, new long[] {rows, n}, 'c');
            INDArray expectA = Transforms.relu(zNd.addRowVector(Nd4j.create(b, new long[] {1, n}, 'c')), true);
            for (boolean vectors : new boolean[] {true, false}) {
                if (vectors && !Simd.AVAILABLE) {
                    continue;
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment zs = segment(arena, z);
                    MemorySegment copy = arena.allocate(4L * rows * n, 64);
                    ReluBias.forward(zs, segment(arena, b), copy, rows, n, vectors);
                    float[] a = floats(zs, rows * n);
                    assertEquals(-1, zs.asSlice(0, 4L * rows * n).mismatch(copy), "the copy, n = " + n);
                    float[] expected = expectA.data().asFloat();
                    for (int i = 0; i < a.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(a[i]),
                                "relu(z + b) at " + i + ", n = " + n + ", vectors " + vectors);
                    }
                    INDArray aNd = Nd4j.create(a, new long[] {rows, n}, 'c');
                    INDArray epsNd = Nd4j.create(eps, new long[] {rows, n}, 'c');
                    INDArray delta = aNd.dup();
                    Nd4j.getExecutioner().exec(new RectifiedLinearDerivative(aNd, epsNd, delta, 0.0));
                    INDArray db = delta.sum(0);
                    MemorySegment dbs = arena.allocate(4L * n, 64);
                    dbs.fill((byte) 7);  // overwritten, not added to
                    ReluBias.backward(segment(arena, eps), zs, dbs, rows, n, vectors);
                    float[] d = floats(zs, rows * n);
                    float[] expectedDelta = delta.data().asFloat();
                    for (int i = 0; i < d.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expectedDelta[i]), Float.floatToRawIntBits(d[i]),
                                "δ at " + i + ", n = " + n + ", vectors " + vectors);
                    }
                    float[] dbOurs = floats(dbs, n);
                    for (int j = 0; j < n; j++) {
                        assertEquals(db.getFloat(j), dbOurs[j], 1e-5f * (1 + Math.abs(db.getFloat(j))), "db at " + j);
                    }
                }
            }
        }
    }

    @Test
    void vectorAndScalarLoopsAgreeBitForBit() {
        assertTrue(Simd.AVAILABLE, "the surefire argLine (dk.jvm.flags) must add jdk.incubator.vector");
        Random r = new Random(9);
        int rows = 31;
        int n = 803;
        float[] z = values(r, rows * n);
        float[] b = values(r, n);
        float[] eps = values(r, rows * n);
        float[][] out = new float[2][];
        float[][] db = new float[2][];
        for (int k = 0; k < 2; k++) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment zs = segment(arena, z);
                ReluBias.forward(zs, segment(arena, b), null, rows, n, k == 0);
                MemorySegment dbs = arena.allocate(4L * n, 64);
                ReluBias.backward(segment(arena, eps), zs, dbs, rows, n, k == 0);
                out[k] = floats(zs, rows * n);
                db[k] = floats(dbs, n);
            }
        }
        assertTrue(java.util.Arrays.equals(out[0], out[1]), "δ");
        assertTrue(java.util.Arrays.equals(db[0], db[1]), "db");
    }
}
