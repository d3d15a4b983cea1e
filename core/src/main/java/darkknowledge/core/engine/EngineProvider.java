package darkknowledge.core.engine;

import java.nio.file.Path;

/**
 * Makes the engines of one {@link EngineConfig.Kind} that core cannot see (Spark lives in module
 * {@code spark}); found with {@link java.util.ServiceLoader} by {@link Engines#open}.
 */
public interface EngineProvider {
    EngineConfig.Kind kind();

    Engine open(EngineConfig config, Path runDir);
}
