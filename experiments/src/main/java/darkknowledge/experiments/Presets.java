package darkknowledge.experiments;

import java.util.Map;
import java.util.TreeMap;

/** Config overrides shared by the scale presets of several experiments. */
final class Presets {
    private Presets() {
    }

    /**
     * The tiny twin: 2,000 training and 1,000 test examples, 64-64 nets, 2 epochs; seconds on CI.
     * It exercises every code path of the full run, and checks nothing about accuracy.
     */
    static Map<String, String> tiny(String... nets) {
        Map<String, String> m = new TreeMap<>(Map.of("data.trainLimit", "2000", "data.validationSize", "500",
                "data.testLimit", "1000"));
        for (String net : nets) {
            m.put(net + ".hidden", "64,64");
            m.put(net + ".epochs", "2");
        }
        return m;
    }
}
