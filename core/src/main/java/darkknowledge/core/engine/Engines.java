package darkknowledge.core.engine;

import darkknowledge.core.ConfigException;
import java.nio.file.Path;
import java.util.ServiceLoader;

/** Opens the engine a config names. */
public final class Engines {
    private Engines() {
    }

    /**
     * The engine of {@code config.kind()} for a run whose shared directory is {@code runDir}: a
     * {@link LocalEngine} for {@code local}, otherwise the {@link EngineProvider} on the classpath.
     */
    public static Engine open(EngineConfig config, Path runDir) {
        if (config.kind() == EngineConfig.Kind.LOCAL) {
            return new LocalEngine(config.workers(), runDir);
        }
        for (EngineProvider p : ServiceLoader.load(EngineProvider.class)) {
            if (p.kind() == config.kind()) {
                return p.open(config, runDir);
            }
        }
        throw new ConfigException("engine.kind=" + config.kind().name().toLowerCase(java.util.Locale.ROOT)
                + " needs the module that provides it on the classpath (darkknowledge:spark); it is not there");
    }
}
