package darkknowledge.data;

import darkknowledge.core.Seeds;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Minibatches gathered by row index over a seeded per-epoch permutation: the dataset is never copied
 * or shuffled in place, and features and targets stay aligned by construction (the same rows are
 * gathered from both). Epoch {@code e}'s order depends only on the seed and {@code e}, so a resumed
 * run sees the same batches. The last batch of an epoch may be smaller.
 *
 * <p>Batches are gathered into buffers reused from batch to batch: a {@link Batch} is valid until the
 * next call to {@link #next()}.
 */
public final class Minibatches {
    private final INDArray features;
    private final INDArray targets;
    private final int batchSize;
    private final Seeds seeds;
    private final Augmentation augmentation;
    private int[] order;
    private int cursor;
    private SplittableRandom augmentRandom;
    private INDArray xBuf;
    private INDArray yBuf;

    /** One minibatch: gathered features and targets and the dataset rows they came from. */
    public record Batch(INDArray features, INDArray targets, int[] rows) {
    }

    public Minibatches(INDArray features, INDArray targets, int batchSize, long seed) {
        this(features, targets, batchSize, new Seeds(seed), null);
    }

    private Minibatches(INDArray features, INDArray targets, int batchSize, Seeds seeds, Augmentation augmentation) {
        if (features.rows() != targets.rows()) {
            throw new IllegalArgumentException("features have " + features.rows() + " rows but targets have "
                    + targets.rows());
        }
        if (features.rows() == 0) {
            throw new IllegalArgumentException("no examples to batch");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch_size: expected > 0, got " + batchSize);
        }
        this.features = features;
        this.targets = targets;
        this.batchSize = batchSize;
        this.seeds = seeds;
        this.augmentation = augmentation;
    }

    /** The same batches with {@code augmentation} applied to each batch's features (seeded per epoch). */
    public Minibatches withAugmentation(Augmentation augmentation) {
        return new Minibatches(features, targets, batchSize, seeds, augmentation);
    }

    public int numExamples() {
        return (int) features.rows();
    }

    public int batchesPerEpoch() {
        return (numExamples() + batchSize - 1) / batchSize;
    }

    /** Starts epoch {@code epoch} (0-based) with its own permutation. */
    public void startEpoch(int epoch) {
        order = Sampling.permutation(numExamples(), seeds.derive("order", epoch));
        augmentRandom = new SplittableRandom(seeds.derive("augment", epoch));
        cursor = 0;
    }

    public boolean hasNext() {
        return order != null && cursor < order.length;
    }

    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException(order == null ? "call startEpoch first" : "epoch is over");
        }
        int[] rows = Arrays.copyOfRange(order, cursor, Math.min(order.length, cursor + batchSize));
        cursor += rows.length;
        INDArray x;
        INDArray y;
        if (rows.length == batchSize) {
            if (xBuf == null) {
                xBuf = Nd4j.create(features.dataType(), batchSize, features.columns());
                yBuf = Nd4j.create(targets.dataType(), batchSize, targets.columns());
            }
            x = Nd4j.pullRows(features, xBuf, 1, rows);
            y = Nd4j.pullRows(targets, yBuf, 1, rows);
        } else {
            x = Nd4j.pullRows(features, 1, rows);
            y = Nd4j.pullRows(targets, 1, rows);
        }
        if (augmentation != null) {
            augmentation.apply(x, augmentRandom);
        }
        return new Batch(x, y, rows);
    }
}
