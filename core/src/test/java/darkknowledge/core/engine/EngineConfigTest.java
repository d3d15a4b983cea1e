package darkknowledge.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EngineConfigTest {
    @Test
    void configRoundTripsThroughFlatKeys() {
        EngineConfig c = new EngineConfig(EngineConfig.Kind.SPARK, "spark://127.0.0.1:7077", 2, 1, "768m", 2, 30);
        var keys = Configs.write("engine", c);
        assertEquals("spark", keys.get("engine.kind"));
        assertEquals("spark://127.0.0.1:7077", keys.get("engine.master"));
        assertEquals(c, Configs.read(Settings.empty().overlay(keys, "file"), "engine", EngineConfig.defaults()));
    }

    @Test
    void setKeysSelectSparkAtLocalTwo() {
        Settings s = Settings.empty().overlay(Map.of("engine.kind", "spark", "engine.master", "local[2]"), "--set");
        EngineConfig c = Configs.read(s, "engine", EngineConfig.defaults());
        assertEquals(EngineConfig.Kind.SPARK, c.kind());
        assertTrue(c.localMaster());
    }

    @Test
    void malformedMasterFailsNamingTheKeyAndTheForms() {
        Settings s = Settings.empty().overlay(Map.of("engine.master", "127.0.0.1:7077"), "--set");
        ConfigException e = assertThrows(ConfigException.class,
                () -> Configs.read(s, "engine", EngineConfig.defaults()));
        assertTrue(e.getMessage().startsWith("engine.master (from --set)"), e.getMessage());
        assertTrue(e.getMessage().contains("spark://host:port"), e.getMessage());
    }

    @Test
    void unknownKindFailsListingTheKinds() {
        Settings s = Settings.empty().overlay(Map.of("engine.kind", "flink"), "--set");
        ConfigException e = assertThrows(ConfigException.class,
                () -> Configs.read(s, "engine", EngineConfig.defaults()));
        assertTrue(e.getMessage().contains("engine.kind") && e.getMessage().contains("[local, spark]"), e.getMessage());
    }

    @Test
    void zeroWorkersAndABadMemorySizeAreRejectedByKey() {
        ConfigException w = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("engine.workers", "0"), "--set"), "engine", EngineConfig.defaults()));
        assertTrue(w.getMessage().startsWith("engine.workers"), w.getMessage());
        ConfigException m = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("engine.executorMemory", "lots"), "--set"), "engine",
                EngineConfig.defaults()));
        assertTrue(m.getMessage().startsWith("engine.executorMemory"), m.getMessage());
    }

    @Test
    void sparkKindWithoutTheSparkModuleFailsNamingTheModule(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Engines.open(EngineConfig.spark("local[2]", 2), dir));
        assertTrue(e.getMessage().contains("darkknowledge:spark"), e.getMessage());
    }
}
