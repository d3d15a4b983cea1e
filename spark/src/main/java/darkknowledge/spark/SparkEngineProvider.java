package darkknowledge.spark;

import darkknowledge.core.engine.Engine;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.core.engine.EngineProvider;
import java.nio.file.Path;

/** Makes {@code engine.kind=spark} open a {@link SparkEngine} (registered in META-INF/services). */
public final class SparkEngineProvider implements EngineProvider {
    @Override
    public EngineConfig.Kind kind() {
        return EngineConfig.Kind.SPARK;
    }

    @Override
    public Engine open(EngineConfig config, Path runDir) {
        return new SparkEngine(config, runDir);
    }
}
