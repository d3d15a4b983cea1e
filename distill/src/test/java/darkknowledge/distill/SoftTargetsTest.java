package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.data.Minibatches;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SoftTargetsTest {

    @Test
    void teacherIsCalledOnceAndTargetsStayAlignedUnderShuffling() {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 1000, 8);
        INDArray w = Nd4j.randn(DataType.FLOAT, 8, 4).muli(3);
        AtomicInteger rowsSeen = new AtomicInteger();
        Teacher teacher = Teacher.single("lin", 4, f -> {
            rowsSeen.addAndGet((int) f.rows());
            return f.mmul(w);
        });
        INDArray y = Nd4j.zeros(DataType.FLOAT, 1000, 4);
        SoftTargets cached = SoftTargets.compute(teacher, x, 5);
        assertEquals(1000, rowsSeen.get(), "the teacher sees each transfer example exactly once");
        INDArray labels = cached.withHardLabels(y);

        Minibatches batches = new Minibatches(x, labels, 64, 11);
        for (int epoch = 0; epoch < 2; epoch++) {
            batches.startEpoch(epoch);
            while (batches.hasNext()) {
                Minibatches.Batch b = batches.next();
                INDArray fresh = TemperatureSoftmax.soften(b.features().mmul(w), 5);
                INDArray cachedRows = b.targets().get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4));
                assertTrue(fresh.equalsWithEps(cachedRows, 1e-5), "targets of a shuffled batch match its examples");
            }
        }
        assertEquals(1000, rowsSeen.get() - 0, "training reads the cache, never the teacher");
    }
}
