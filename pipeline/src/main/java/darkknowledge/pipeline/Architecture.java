package darkknowledge.pipeline;

import darkknowledge.core.Check;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.TrainingSchedule;

/**
 * Which net the generalist is: the ReLU MLP of section {@code generalist.*} or the convolutional
 * net of section {@code conv.*} (the paper's JFT generalist is a deep conv net, §5). Specialists
 * copy whichever it is (every layer but the output layer, §5.2).
 *
 * @param generalist {@code mlp} or {@code conv}
 */
public record Architecture(Net generalist) {

    /** The generalist's kind of net. */
    public enum Net { MLP, CONV }

    public Architecture {
        Check.that(generalist != null, "generalist", "must be mlp or conv");
    }

    public static Architecture mlp() {
        return new Architecture(Net.MLP);
    }

    /** The configuration of the generalist this architecture names. */
    public TrainingSchedule pick(MlpConfig mlp, ConvConfig conv) {
        return generalist == Net.CONV ? conv : mlp;
    }
}
