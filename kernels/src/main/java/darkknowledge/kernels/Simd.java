package darkknowledge.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The per-element loops of a training step that HotSpot does not vectorise by itself, written with
 * the Vector API ({@code jdk.incubator.vector}): Adam's update ({@link FusedAdam}), the fp32→bf16
 * rounding ({@link Bf16#round}) and the max-norm constraint's column norms and scaling
 * ({@link FusedMaxNorm}), max pooling forward and backward ({@link NhwcMaxPool}), a dense
 * ReLU layer's bias, activation and their backward pass ({@link ReluBias}), and a softmax's
 * exponentials ({@link VectorMath}). The first two, the scaling and the pooling compute exactly what
 * their scalar loops compute, bit for bit (no fused multiply-adds; sqrt and division are correctly
 * rounded in both), which {@code SimdTest} checks; the exponentials are {@link VectorMath#exp}'s
 * fused multiply-adds lane by lane, the same bits ({@code VectorMathTest}); the sum of squares keeps
 * one partial sum per lane (16 with AVX-512, 8 with AVX2), so it differs from the scalar loop's order
 * by float rounding (as ND4J's own parallel norm does) and from one vector width to another, and it
 * sums the lanes in index order. Only correctly rounded operations are used (no {@code reduceLanes} of floats, no
 * transcendental lane operation such as {@code EXP}, whose compiled form, Intel's short-vector math
 * library, differs from its interpreted one in the last bit): a result never depends on whether the
 * JIT had compiled the loop yet, so two engines running the same training agree bit for bit.
 *
 * <p>Why: C2 leaves a loop over {@link MemorySegment}s with a conditional (the subnormal flush) or
 * a square root scalar; Adam's step over the 1.27 M parameters of a 784-800-800-10 net took 2.4 ms
 * that way and 0.69 ms with 16-lane vectors (AVX-512, measured side by side on the Xeon with AMX,
 * 2026-12-01), a third of an epoch's non-product time.
 *
 * <p>The module is an incubator one: it must be resolved with {@code --add-modules
 * jdk.incubator.vector} (the parent pom's {@code dk.jvm.flags}, {@code ./dk}, the Spark engine's
 * executor flags). Where it is not, {@link #AVAILABLE} is false and callers take their scalar loop;
 * {@link Kernels}, the only class that names vector types, is then never loaded.
 */
final class Simd {
    /** Whether {@code jdk.incubator.vector} is in the boot layer (the JVM was started with it). */
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private Simd() {
    }

    /** The vector loops; load only when {@link #AVAILABLE}. */
    static final class Kernels {
        private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
        /** As many ints as F has floats, and half as many bytes of shorts. */
        private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
        private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED.withShape(
                jdk.incubator.vector.VectorShape.forBitSize(I.vectorBitSize() / 2));
        private static final ByteOrder ORDER = ByteOrder.nativeOrder();

        private Kernels() {
        }

        /**
         * Elements [from, to) of the Adam step of {@link FusedAdam}: m, v updated in place with the
         * subnormal flush, g overwritten by the update {@code α·m / (√v + ε)}. The tail that does not
         * fill a vector is left to the caller's scalar loop: returns where it starts.
         */
        static long adamStep(MemorySegment g, MemorySegment m, MemorySegment v, long from, long to, float b1, float b2,
                float alpha, float eps, float tiny) {
            return adamStep(g, m, v, null, from, to, 1f, b1, b2, alpha, eps, tiny);
        }

        /**
         * {@link #adamStep} on {@code g / divisor}; with parameters {@code p} (not null) its update is
         * subtracted from them in the same pass instead of written to {@code g} ({@link FusedStep}):
         * the same arithmetic as DL4J's division by the minibatch, the step and ND4J's
         * {@code p.subi(u)}, one operation at a time, so bit-identical to the three passes (a division
         * by 1 is skipped, and would change nothing).
         */
        static long adamStep(MemorySegment g, MemorySegment m, MemorySegment v, MemorySegment p, long from, long to,
                float divisor, float b1, float b2, float alpha, float eps, float tiny) {
            float c1 = 1 - b1;
            float c2 = 1 - b2;
            long upper = from + F.loopBound(to - from);
            long i = from;
            for (; i < upper; i += F.length()) {
                long at = 4 * i;
                FloatVector gi = FloatVector.fromMemorySegment(F, g, at, ORDER);
                if (divisor != 1f) {
                    gi = gi.div(divisor);
                }
                FloatVector mi = FloatVector.fromMemorySegment(F, m, at, ORDER).mul(b1).add(gi.mul(c1));
                FloatVector vi = FloatVector.fromMemorySegment(F, v, at, ORDER).mul(b2).add(gi.mul(c2).mul(gi));
                mi = mi.blend(0f, mi.abs().compare(VectorOperators.LT, tiny));
                vi = vi.blend(0f, vi.compare(VectorOperators.LT, tiny));
                mi.intoMemorySegment(m, at, ORDER);
                vi.intoMemorySegment(v, at, ORDER);
                FloatVector u = mi.mul(alpha).div(vi.sqrt().add(eps));
                if (p == null) {
                    u.intoMemorySegment(g, at, ORDER);
                } else {
                    FloatVector.fromMemorySegment(F, p, at, ORDER).sub(u).intoMemorySegment(p, at, ORDER);
                }
            }
            return i;
        }

        /**
         * Elements [0, the vector bound of n) of {@link VectorMath#expShifted}: {@code q[j] = exp((z[j] − max) / t)}
         * by {@link VectorMath#exp}'s arithmetic, lane by lane (the same IEEE operations and fused
         * multiply-adds, so bit for bit what the scalar function gives, interpreted or compiled). Returns
         * where the caller's scalar tail starts; the caller sums.
         */
        static int expShifted(double[] z, double max, double t, double[] q, int n) {
            int upper = D.loopBound(n);
            double[] c = VectorMath.EXP_TAYLOR;  // 14 coefficients, named one by one: vectors in an array are boxed
            DoubleVector ln2Hi = DoubleVector.broadcast(D, VectorMath.LN2_HI);
            DoubleVector ln2Lo = DoubleVector.broadcast(D, VectorMath.LN2_LO);
            DoubleVector c0 = DoubleVector.broadcast(D, c[0]), c1 = DoubleVector.broadcast(D, c[1]);
            DoubleVector c2 = DoubleVector.broadcast(D, c[2]), c3 = DoubleVector.broadcast(D, c[3]);
            DoubleVector c4 = DoubleVector.broadcast(D, c[4]), c5 = DoubleVector.broadcast(D, c[5]);
            DoubleVector c6 = DoubleVector.broadcast(D, c[6]), c7 = DoubleVector.broadcast(D, c[7]);
            DoubleVector c8 = DoubleVector.broadcast(D, c[8]), c9 = DoubleVector.broadcast(D, c[9]);
            DoubleVector c10 = DoubleVector.broadcast(D, c[10]), c11 = DoubleVector.broadcast(D, c[11]);
            DoubleVector c12 = DoubleVector.broadcast(D, c[12]), c13 = DoubleVector.broadcast(D, c[13]);
            for (int j = 0; j < upper; j += D.length()) {
                DoubleVector x = DoubleVector.fromArray(D, z, j).sub(max).div(t)
                        .max(VectorMath.EXP_LOWEST).min(VectorMath.EXP_HIGHEST);
                DoubleVector kd = x.fma(VectorMath.LOG2_E, VectorMath.ROUNDER);
                DoubleVector minusK = kd.sub(VectorMath.ROUNDER).neg();
                DoubleVector r = minusK.fma(ln2Hi, x);
                r = minusK.fma(ln2Lo, r);
                DoubleVector r2 = r.mul(r);
                DoubleVector even = c12.fma(r2, c10).fma(r2, c8).fma(r2, c6).fma(r2, c4).fma(r2, c2).fma(r2, c0);
                DoubleVector odd = c13.fma(r2, c11).fma(r2, c9).fma(r2, c7).fma(r2, c5).fma(r2, c3).fma(r2, c1);
                DoubleVector poly = odd.fma(r, even);
                LongVector k = kd.reinterpretAsLongs().sub(VectorMath.ROUNDER_BITS);
                LongVector k1 = k.lanewise(VectorOperators.ASHR, 1);
                LongVector k2 = k.sub(k1);
                DoubleVector s1 = k1.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
                DoubleVector s2 = k2.add(1023).lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
                poly.mul(s1).mul(s2).intoArray(q, j);
            }
            return upper;
        }

        /** Σ w² over float elements [from, to): one partial sum per lane, the lanes in index order, then the tail in order. */
        static float sumOfSquares(MemorySegment w, long from, long to) {
            long upper = from + F.loopBound(to - from);
            FloatVector acc = FloatVector.zero(F);
            long i = from;
            for (; i < upper; i += F.length()) {
                FloatVector x = FloatVector.fromMemorySegment(F, w, 4 * i, ORDER);
                acc = x.mul(x).add(acc);
            }
            // the lanes in index order: reduceLanes(ADD) may add in another order compiled than
            // interpreted, and a result must not depend on when the JIT got to it
            float s = 0f;
            for (int l = 0; l < F.length(); l++) {
                s += acc.lane(l);
            }
            for (; i < to; i++) {
                float x = w.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                s += x * x;
            }
            return s;
        }

        /**
         * Row {@code r} of {@link ReluBias#forward}, columns [0, the vector bound of n): returns where
         * the caller's scalar loop takes over.
         */
        static int biasRelu(MemorySegment z, MemorySegment b, MemorySegment copy, long row, int n) {
            int upper = F.loopBound(n);
            int j = 0;
            for (; j < upper; j += F.length()) {
                long at = 4 * (row + j);
                FloatVector v = FloatVector.fromMemorySegment(F, z, at, ORDER)
                        .add(FloatVector.fromMemorySegment(F, b, 4L * j, ORDER));
                v = v.blend(0f, v.compare(VectorOperators.LT, 0f));
                v.intoMemorySegment(z, at, ORDER);
                if (copy != null) {
                    v.intoMemorySegment(copy, at, ORDER);
                }
            }
            return j;
        }

        /** Row {@code r} of {@link ReluBias#backward}, columns [0, the vector bound of n): returns where the scalar loop takes over. */
        static int reluBackward(MemorySegment eps, MemorySegment a, MemorySegment db, long row, int n) {
            int upper = F.loopBound(n);
            int j = 0;
            for (; j < upper; j += F.length()) {
                long at = 4 * (row + j);
                FloatVector e = FloatVector.fromMemorySegment(F, eps, at, ORDER);
                FloatVector d = e.blend(0f, FloatVector.fromMemorySegment(F, a, at, ORDER)
                        .compare(VectorOperators.GT, 0f).not());
                d.intoMemorySegment(a, at, ORDER);
                FloatVector.fromMemorySegment(F, db, 4L * j, ORDER).add(d).intoMemorySegment(db, 4L * j, ORDER);
            }
            return j;
        }

        /** Float elements [from, to) multiplied by {@code factor} in place. */
        static void scale(MemorySegment w, long from, long to, float factor) {
            long upper = from + F.loopBound(to - from);
            long i = from;
            for (; i < upper; i += F.length()) {
                FloatVector.fromMemorySegment(F, w, 4 * i, ORDER).mul(factor).intoMemorySegment(w, 4 * i, ORDER);
            }
            for (; i < to; i++) {
                w.setAtIndex(ValueLayout.JAVA_FLOAT, i, w.getAtIndex(ValueLayout.JAVA_FLOAT, i) * factor);
            }
        }

        /**
         * Elements [0, n) of {@link Bf16#round}: {@code (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16}
         * per value, narrowed to 16 bits. Returns where the caller's scalar loop takes over.
         */
        static long round(MemorySegment src, MemorySegment dst, long n) {
            long upper = I.loopBound(n);
            long i = 0;
            for (; i < upper; i += I.length()) {
                IntVector bits = IntVector.fromMemorySegment(I, src, 4 * i, ORDER);
                IntVector odd = bits.lanewise(VectorOperators.LSHR, 16).and(1);
                IntVector rounded = bits.add(0x7FFF).add(odd).lanewise(VectorOperators.LSHR, 16);
                ((ShortVector) rounded.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(dst, 2 * i, ORDER);
            }
            return i;
        }

        /**
         * {@link NhwcMaxPool#forward}: for each output pixel, the lane-wise max of its window's s²
         * channel runs, {@link #F}'s lanes at a time (the channels' tail masked).
         */
        static void maxPool(MemorySegment in, MemorySegment out, int n, int h, int w, int ch, int s) {
            int oh = h / s;
            int ow = w / s;
            long rowStride = (long) w * ch;
            long o = 0;
            for (int e = 0; e < n; e++) {
                long base = (long) e * h * w * ch;
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++, o += ch) {
                        long first = base + (long) y * s * rowStride + (long) x * s * ch;
                        int c = 0;
                        for (; c + F.length() <= ch; c += F.length()) {
                            FloatVector best = FloatVector.fromMemorySegment(F, in, 4 * (first + c), ORDER);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = dy == 0 ? 1 : 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    best = best.max(FloatVector.fromMemorySegment(F, in, 4 * r, ORDER));
                                }
                            }
                            best.intoMemorySegment(out, 4 * (o + c), ORDER);
                        }
                        if (c < ch) {
                            VectorMask<Float> m = F.indexInRange(c, ch);
                            FloatVector best = FloatVector.fromMemorySegment(F, in, 4 * (first + c), ORDER, m);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = dy == 0 ? 1 : 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    best = best.max(FloatVector.fromMemorySegment(F, in, 4 * r, ORDER, m));
                                }
                            }
                            best.intoMemorySegment(out, 4 * (o + c), ORDER, m);
                        }
                    }
                }
            }
        }

        /**
         * {@link NhwcMaxPool#backward}: each output's gradient goes to the first input of its window
         * (in (dy, dx) order) that equals the window's max, the first maximal one; the others get 0.
         */
        static void maxPoolBackward(MemorySegment in, MemorySegment eps, MemorySegment epsIn, int n, int h, int w,
                int ch, int s) {
            int oh = h / s;
            int ow = w / s;
            long rowStride = (long) w * ch;
            long o = 0;
            for (int e = 0; e < n; e++) {
                long base = (long) e * h * w * ch;
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++, o += ch) {
                        long first = base + (long) y * s * rowStride + (long) x * s * ch;
                        int c = 0;
                        for (; c + F.length() <= ch; c += F.length()) {
                            FloatVector best = FloatVector.fromMemorySegment(F, in, 4 * (first + c), ORDER);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = dy == 0 ? 1 : 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    best = best.max(FloatVector.fromMemorySegment(F, in, 4 * r, ORDER));
                                }
                            }
                            FloatVector g = FloatVector.fromMemorySegment(F, eps, 4 * (o + c), ORDER);
                            FloatVector zero = FloatVector.zero(F);
                            VectorMask<Float> done = F.maskAll(false);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    VectorMask<Float> hit = FloatVector.fromMemorySegment(F, in, 4 * r, ORDER)
                                            .compare(VectorOperators.EQ, best).andNot(done);
                                    done = done.or(hit);
                                    zero.blend(g, hit).intoMemorySegment(epsIn, 4 * r, ORDER);
                                }
                            }
                        }
                        if (c < ch) {  // the channels' tail, masked (slower)
                            VectorMask<Float> m = F.indexInRange(c, ch);
                            FloatVector best = FloatVector.fromMemorySegment(F, in, 4 * (first + c), ORDER, m);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = dy == 0 ? 1 : 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    best = best.max(FloatVector.fromMemorySegment(F, in, 4 * r, ORDER, m));
                                }
                            }
                            FloatVector g = FloatVector.fromMemorySegment(F, eps, 4 * (o + c), ORDER, m);
                            FloatVector zero = FloatVector.zero(F);
                            VectorMask<Float> done = F.maskAll(false);
                            for (int dy = 0; dy < s; dy++) {
                                for (int dx = 0; dx < s; dx++) {
                                    long r = first + dy * rowStride + (long) dx * ch + c;
                                    VectorMask<Float> hit = FloatVector.fromMemorySegment(F, in, 4 * r, ORDER, m)
                                            .compare(VectorOperators.EQ, best).andNot(done);
                                    done = done.or(hit);
                                    zero.blend(g, hit).intoMemorySegment(epsIn, 4 * r, ORDER, m);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
