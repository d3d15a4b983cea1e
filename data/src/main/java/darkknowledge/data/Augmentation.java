package darkknowledge.data;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A random transformation applied in place to a minibatch's features (one example per row). */
@FunctionalInterface
public interface Augmentation {
    void apply(INDArray features, SplittableRandom random);
}
