package darkknowledge.pipeline;

import darkknowledge.core.Check;

/**
 * The synthetic many-class problem ({@link darkknowledge.data.SyntheticClasses}): {@code classes}
 * classes in {@code groups} planted groups of similar classes; used by the synthetic dataset only.
 */
public record Synthetic(int classes, int groups, int dimension, double similarity, double noise, int trainPerClass,
                        int testPerClass) implements java.io.Serializable {
    public Synthetic {
        Check.atLeast("classes", classes, 2);
        Check.inRange("groups", groups, 1, classes);
        Check.positive("dimension", dimension);
        Check.inHalfOpen("similarity", similarity, 0, 1);
        Check.nonNegative("noise", noise);
        Check.positive("trainPerClass", trainPerClass);
        Check.positive("testPerClass", testPerClass);
    }
}
