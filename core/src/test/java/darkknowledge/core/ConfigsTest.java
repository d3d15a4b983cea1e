package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigsTest {
    enum Kind { SOFT_TARGETS, LOGIT_MATCHING }

    record Net(List<Integer> hidden, double dropout) {
        Net {
            Check.allPositive("hidden", hidden);
            Check.inHalfOpen("dropout", dropout, 0, 1);
        }
    }

    record Distill(double temperature, Kind kind, boolean labeled) {
        Distill {
            Check.positive("temperature", temperature);
        }
    }

    record Experiment(RunConfig run, Net teacher, Distill distill) {
    }

    static final Experiment DEFAULTS = new Experiment(new RunConfig(1, Scale.FULL), new Net(List.of(1200, 1200), 0.5),
            new Distill(20, Kind.SOFT_TARGETS, true));

    @Test
    void writtenConfigReadsBackEqual() {
        var text = Configs.write("", DEFAULTS);
        Experiment back = Configs.read(Settings.empty().overlay(text, "file"), "", DEFAULTS);
        assertEquals(DEFAULTS, back);
        assertEquals("1200,1200", text.get("teacher.hidden"));
        assertEquals("soft_targets", text.get("distill.kind"));
        assertEquals("full", text.get("run.scale"));
    }

    @Test
    void configRoundTripsThroughAPropertiesFile(@TempDir Path dir) throws Exception {
        Experiment changed = new Experiment(new RunConfig(7, Scale.TINY), new Net(List.of(30, 30), 0.2),
                new Distill(2.5, Kind.LOGIT_MATCHING, false));
        Path file = dir.resolve("c.properties");
        Files.writeString(file, Configs.toText(Configs.write("", changed)));
        Settings s = Settings.empty().overlay(Settings.readFile(file), "--config");
        assertEquals(changed, Configs.read(s, "", DEFAULTS));
    }

    @Test
    void laterLayersWinAndUnsetKeysKeepDefaults() {
        Settings s = Settings.empty().overlay(Map.of("distill.temperature", "8", "run.seed", "3"), "preset")
                .overlay(Map.of("distill.temperature", "4"), "--set");
        Experiment e = Configs.read(s, "", DEFAULTS);
        assertEquals(4, e.distill().temperature());
        assertEquals(3, e.run().seed());
        assertEquals(DEFAULTS.teacher(), e.teacher());
        assertEquals("--set", s.origin("distill.temperature"));
    }

    @Test
    void misspeltKeyFailsNamingItAndTheClosestKnownKey() {
        Settings s = Settings.empty().overlay(Map.of("distill.temprature", "4"), "--set");
        Configs.read(s, "", DEFAULTS);
        ConfigException e = assertThrows(ConfigException.class,
                () -> s.requireAllKnown(Configs.keys("", DEFAULTS)));
        assertTrue(e.getMessage().contains("'distill.temprature'"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'distill.temperature'"), e.getMessage());
    }

    @Test
    void outOfRangeValueFailsNamingTheFullKeyAndTheRange() {
        Settings s = Settings.empty().overlay(Map.of("teacher.dropout", "1.5"), "--set");
        ConfigException e = assertThrows(ConfigException.class, () -> Configs.read(s, "", DEFAULTS));
        assertTrue(e.getMessage().startsWith("teacher.dropout (from --set)"), e.getMessage());
        assertTrue(e.getMessage().contains("[0.0, 1.0)"), e.getMessage());
    }

    @Test
    void malformedValuesFailNamingKeyAndExpectation() {
        ConfigException number = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("distill.temperature", "hot"), "f"), "", DEFAULTS));
        assertTrue(number.getMessage().contains("distill.temperature") && number.getMessage().contains("a number"));
        ConfigException enumValue = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("distill.kind", "magic"), "f"), "", DEFAULTS));
        assertTrue(enumValue.getMessage().contains("[soft_targets, logit_matching]"), enumValue.getMessage());
        ConfigException bool = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("distill.labeled", "yes"), "f"), "", DEFAULTS));
        assertTrue(bool.getMessage().contains("true or false"));
        ConfigException list = assertThrows(ConfigException.class, () -> Configs.read(
                Settings.empty().overlay(Map.of("teacher.hidden", "800,-1"), "f"), "", DEFAULTS));
        assertTrue(list.getMessage().startsWith("teacher.hidden"), list.getMessage());
    }

    @Test
    void missingConfigFileIsAnErrorNamingIt(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> Settings.readFile(dir.resolve("nope.properties")));
        assertTrue(e.getMessage().contains("nope.properties"));
    }

    @Test
    void hashIsStableAndSensitiveToValues() {
        var a = Configs.write("", DEFAULTS);
        var b = Configs.write("", new Experiment(DEFAULTS.run(), DEFAULTS.teacher(), new Distill(19, Kind.SOFT_TARGETS, true)));
        assertEquals(Configs.hash(a), Configs.hash(Configs.write("", DEFAULTS)));
        assertTrue(!Configs.hash(a).equals(Configs.hash(b)));
        assertEquals(8, Configs.hash(a).length());
    }
}
