package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Seeds;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class SamplingAndBatchesTest {

    static Dataset numbered(int n, int d, int k) {
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % k;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = i;
            }
        }
        return new Dataset("numbered", x, y, n, d, k, 0, 0, IntStream.range(0, k).mapToObj(Integer::toString).toList());
    }

    @Test
    void splitIsDisjointCompleteAndSeeded() {
        Dataset full = numbered(1000, 3, 10);
        Split a = Sampling.trainValidation(full, 100, 42);
        Split b = Sampling.trainValidation(full, 100, 42);
        Split c = Sampling.trainValidation(full, 100, 43);
        assertEquals(900, a.train().numExamples());
        assertEquals(100, a.validation().numExamples());
        Set<Float> seen = new HashSet<>();
        for (int i = 0; i < 900; i++) {
            seen.add(a.train().features()[i * 3]);
        }
        for (int i = 0; i < 100; i++) {
            assertTrue(seen.add(a.validation().features()[i * 3]), "validation rows are not training rows");
        }
        assertEquals(1000, seen.size());
        assertEquals(a.trainIndicesSha256(), b.trainIndicesSha256());
        assertArrayEquals(a.validation().labels(), b.validation().labels());
        assertNotEquals(a.trainIndicesSha256(), c.trainIndicesSha256());
        var tooMany = assertThrows(IllegalArgumentException.class, () -> Sampling.trainValidation(full, 1000, 1));
        assertTrue(tooMany.getMessage().startsWith("data.validationSize: expected 0..999"), tooMany.getMessage());
    }

    @Test
    void halvesAreDisjointEqualSortedAndSeeded() {
        int[][] h = Sampling.halves(1001, 7);
        assertEquals(500, h[0].length);
        assertEquals(500, h[1].length);
        Set<Integer> seen = new HashSet<>();
        for (int[] half : h) {
            assertArrayEquals(IntStream.of(half).sorted().toArray(), half, "sorted");
            IntStream.of(half).forEach(i -> assertTrue(seen.add(i) && i >= 0 && i < 1001, "disjoint, in range: " + i));
        }
        assertArrayEquals(h[0], Sampling.halves(1001, 7)[0]);
        assertNotEquals(Arrays.toString(h[0]), Arrays.toString(Sampling.halves(1001, 8)[0]));
        assertThrows(IllegalArgumentException.class, () -> Sampling.halves(1, 7));
    }

    @Test
    void noValidationSplitKeepsEveryTrainingExample() {
        Dataset full = numbered(50, 3, 5);
        Split s = Sampling.trainValidation(full, 0, 42);
        assertEquals(50, s.train().numExamples());
        assertEquals(0, s.validation().numExamples());
        assertArrayEquals(full.labels(), s.train().labels(), "the full set, in its order");
    }

    @Test
    void mnistSplitIs55kAnd5k() {
        Dataset train = IdxTest.store().load(DatasetSource.MNIST, true);
        Split s = Sampling.trainValidation(train, 5000, 7);
        assertEquals(55000, s.train().numExamples());
        assertEquals(5000, s.validation().numExamples());
        int[] counts = s.validation().classCounts();
        assertTrue(Arrays.stream(counts).allMatch(c -> c > 400 && c < 600), Arrays.toString(counts));
    }

    @Test
    void theMnistSplitOfTheCommittedRunsIsStillTheOneDrawn() {
        // runs/*/provenance.properties record split.train_indices_sha256 for MNIST with
        // data.validationSize=5000 and the experiments' split seed (master 1, name "split"). A resumed
        // run or a reused teacher is checked against it, so the permutation and the hash must not move.
        Dataset train = IdxTest.store().load(DatasetSource.MNIST, true);
        Split s = Sampling.trainValidation(train, 5000, new Seeds(1).derive("split"));
        assertEquals("33d2ad034b2af82d3ef4d1bd731e4ffd6b90b1a3abf5d0359de1e847aeeb2cd8", s.trainIndicesSha256());
    }

    @Test
    void batchesCoverEachRowOnceKeepTargetsAlignedAndRepeatPerEpoch() {
        Dataset d = numbered(1000, 4, 7);
        INDArray x = d.featuresMatrix();
        INDArray y = d.oneHot();
        Minibatches mb = new Minibatches(x, y, 64, 5);
        assertEquals(16, mb.batchesPerEpoch());
        int[][] orders = new int[3][];
        for (int epoch = 0; epoch < 2; epoch++) {
            mb.startEpoch(epoch);
            int[] order = new int[0];
            while (mb.hasNext()) {
                Minibatches.Batch b = mb.next();
                for (int i = 0; i < b.rows().length; i++) {
                    int row = b.rows()[i];
                    assertEquals(row, b.features().getFloat(i, 0), 0f, "features are the gathered row");
                    assertEquals(1f, b.targets().getFloat(i, row % 7), 0f, "target is that row's label");
                }
                int[] grown = Arrays.copyOf(order, order.length + b.rows().length);
                System.arraycopy(b.rows(), 0, grown, order.length, b.rows().length);
                order = grown;
            }
            orders[epoch] = order;
            assertArrayEquals(IntStream.range(0, 1000).toArray(), IntStream.of(order).sorted().toArray());
        }
        assertTrue(!Arrays.equals(orders[0], orders[1]), "each epoch has its own order");
        Minibatches again = new Minibatches(x, y, 64, 5);
        again.startEpoch(1);
        assertArrayEquals(Arrays.copyOf(orders[1], 64), again.next().rows(), "an epoch's order depends only on seed and epoch");
        assertEquals(0f, x.getFloat(0, 0), "the source matrix is untouched");
        assertEquals(999f, x.getFloat(999, 0));
    }

    @Test
    void sampleFractionIsSortedDistinctAndSized() {
        int[] s = Sampling.sampleFraction(1000, 0.03, 9);
        assertEquals(30, s.length);
        assertEquals(30, IntStream.of(s).distinct().count());
        assertArrayEquals(IntStream.of(s).sorted().toArray(), s);
    }

    @Test
    void relabelSubsetAndConcat() {
        Dataset d = numbered(20, 2, 4);
        Dataset r = d.relabel(new int[]{0, 1, 2, 2}, List.of("a", "b", "dustbin"));
        assertEquals(3, r.numClasses());
        assertEquals(2, r.labels()[3]);
        Dataset s = d.subset(new int[]{3, 1});
        assertArrayEquals(new int[]{3, 1}, s.labels());
        assertEquals(3f, s.features()[0]);
        assertEquals(22, d.concat(s).numExamples());
        assertArrayEquals(new int[]{1, 3, 5, 7, 9, 11, 13, 15, 17, 19}, d.rowsOfClasses(List.of(1, 3)));
        assertThrows(IllegalArgumentException.class,
                () -> new Dataset("bad", new float[4], new int[]{0, 5}, 2, 2, 4, 0, 0, List.of("a", "b", "c", "d")));
    }

    @Test
    void jitterShiftsWithinBoundsAndZeroFills() {
        Jitter j = new Jitter(5, 5, 2);
        float[] img = new float[25];
        for (int i = 0; i < 25; i++) {
            img[i] = i + 1;
        }
        float[] out = new float[25];
        j.shift(img, out, 0, 1, 2);
        // pixel (r, c) of the output is input (r - 2, c - 1); first two rows and first column are empty
        assertEquals(0f, out[0]);
        assertEquals(0f, out[5 + 3]);
        assertEquals(0f, out[2 * 5]);
        assertEquals(img[0], out[2 * 5 + 1]);
        assertEquals(img[2 * 5 + 3], out[4 * 5 + 4]);
        j.shift(img, out, 0, 0, 0);
        assertArrayEquals(img, out);

        INDArray batch = org.nd4j.linalg.factory.Nd4j.createFromArray(img).reshape('c', 1, 25).repeat(0, 50);
        double sum = batch.sumNumber().doubleValue();
        j.apply(batch, new SplittableRandom(1));
        Set<String> distinct = new HashSet<>();
        for (int r = 0; r < 50; r++) {
            distinct.add(Arrays.toString(batch.getRow(r).toFloatVector()));
        }
        assertTrue(distinct.size() > 5, "rows get different shifts");
        assertTrue(batch.sumNumber().doubleValue() < sum, "shifted-out pixels are dropped, none invented");
        assertThrows(IllegalArgumentException.class, () -> new Jitter(5, 5, 5));
    }

    @Test
    void augmentationIsSeededPerEpoch() {
        Dataset d = IdxTest.store().load(DatasetSource.MNIST, false).subset(IntStream.range(0, 256).toArray());
        INDArray x = d.featuresMatrix();
        Minibatches a = new Minibatches(x, d.oneHot(), 128, 3).withAugmentation(new Jitter(28, 28, 2));
        Minibatches b = new Minibatches(x, d.oneHot(), 128, 3).withAugmentation(new Jitter(28, 28, 2));
        a.startEpoch(4);
        b.startEpoch(4);
        INDArray fa = a.next().features().dup();
        INDArray fb = b.next().features();
        assertEquals(fa, fb);
        Minibatches plain = new Minibatches(x, d.oneHot(), 128, 3);
        plain.startEpoch(4);
        Minibatches.Batch p = plain.next();
        assertArrayEquals(p.rows(), b.next().rows().length == 128 ? p.rows() : null);
        assertNotEquals(p.features(), fa, "jitter moved the pixels");
        assertEquals(p.features().sumNumber().doubleValue(), fa.sumNumber().doubleValue(),
                0.05 * p.features().sumNumber().doubleValue(), "a 2 px shift keeps nearly all ink of centred digits");
    }
}
