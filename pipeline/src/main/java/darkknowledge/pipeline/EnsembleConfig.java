package darkknowledge.pipeline;

import darkknowledge.core.Check;

/**
 * How the generalist + specialists ensemble is formed (§5.3–5.4).
 *
 * @param topN          the generalist's top-n classes select the active specialists (paper n = 1)
 * @param tolerance     §5.4 solver: stop when no probability moves by more than this
 * @param maxIterations §5.4 solver iteration cap
 * @param clusterOn     predictions the class covariance is computed on
 * @param control       also fine-tune the generalist for the specialists' extra compute
 */
public record EnsembleConfig(int topN, double tolerance, int maxIterations, ClusterOn clusterOn, boolean control)
        implements java.io.Serializable {

    /** Which predictions the class covariance is computed from. */
    public enum ClusterOn { VALIDATION, TRAIN }

    public EnsembleConfig {
        Check.positive("topN", topN);
        Check.positive("tolerance", tolerance);
        Check.positive("maxIterations", maxIterations);
        Check.that(clusterOn != null, "clusterOn", "must be validation or train");
    }
}
