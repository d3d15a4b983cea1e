package darkknowledge.generalist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Check;
import darkknowledge.core.ConfigException;
import darkknowledge.core.Configs;
import darkknowledge.core.Settings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConvConfigTest {

    @Test
    void aConfigRoundTripsThroughFlatKeys() {
        ConvConfig cfg = ConvConfig.small(7).withChannels(List.of(8, 16, 24), 1).withDense(List.of(256, 128))
                .withDropout(0.25).withInput(16, 24, 3).withLearningRate(3e-4).withBackend(ConvConfig.Backend.DNNL);
        Map<String, String> keys = Configs.write("generalist.conv", cfg);
        assertEquals("8,16,24", keys.get("generalist.conv.channels"));
        assertEquals("adam", keys.get("generalist.conv.optimizer"));
        ConvConfig back = Configs.read(Settings.empty().overlay(keys, "test"), "generalist.conv", ConvConfig.small(1));
        assertEquals(cfg, back);
    }

    @Test
    void theBackendIsAFlatKeyIm2colByDefaultAndValidated() {
        assertEquals(ConvConfig.Backend.IM2COL, ConvConfig.small(1).backend());
        assertEquals("im2col", Configs.write("conv", ConvConfig.small(1)).get("conv.backend"));
        ConvConfig dnnl = Configs.read(Settings.empty().overlay(Map.of("conv.backend", "dnnl"), "--set"), "conv",
                ConvConfig.small(1));
        assertEquals(ConvConfig.Backend.DNNL, dnnl.backend());
        assertEquals(ConvConfig.small(1).withBackend(ConvConfig.Backend.DNNL), dnnl);
        var e = assertThrows(ConfigException.class, () -> Configs.read(Settings.empty().overlay(
                Map.of("conv.backend", "cudnn"), "--set"), "conv", ConvConfig.small(1)));
        assertTrue(e.getMessage().contains("conv.backend"), e.getMessage());
        assertThrows(Check.InvalidValue.class, () -> ConvConfig.small(1).withBackend(null));
    }

    @Test
    void aPoolingWindowThatDoesNotDivideAStageIsAnErrorNamingTheKey() {
        Settings s = Settings.empty().overlay(Map.of("generalist.conv.inputHeight", "30",
                "generalist.conv.inputWidth", "30"), "--set");
        var e = assertThrows(ConfigException.class, () -> Configs.read(s, "generalist.conv", ConvConfig.small(1)));
        assertTrue(e.getMessage().startsWith("generalist.conv.pool"), e.getMessage());
        assertTrue(e.getMessage().contains("15x15"), e.getMessage());
    }

    @Test
    void evenKernelsEmptyStagesAndDropoutOfOneAreRejected() {
        ConvConfig ok = ConvConfig.small(1);
        var even = assertThrows(Check.InvalidValue.class, () -> new ConvConfig(32, 32, 1, List.of(16), 2, 4, 2,
                List.of(512), 0, 0, MlpConfig.Optimizer.ADAM, 1e-3, 0.9, 1, 1, 128, 0, 0, ConvConfig.Backend.IM2COL));
        assertEquals("kernel", even.field());
        assertThrows(Check.InvalidValue.class, () -> ok.withChannels(List.of(), 2));
        assertThrows(Check.InvalidValue.class, () -> ok.withDropout(1.0));
        assertThrows(Check.InvalidValue.class, () -> ok.withDense(List.of(0)));
    }

    @Test
    void sizesAndCostsMatchTheBuiltNet() {
        ConvConfig cfg = ConvConfig.small(1);
        assertEquals(1024, cfg.numInputs());
        assertEquals(8 * 8 * 32, cfg.featureSize());
        // 32·32·9·16 + 32·32·144·16 + 16·16·144·32 + 16·16·288·32 + 2048·512 + 512·3755 multiply-adds.
        assertEquals(147_456L + 2_359_296 + 1_179_648 + 2_359_296 + 1_048_576 + 1_922_560, cfg.multiplyAdds(3755));
        Classifier c = Classifier.create(cfg, 10, null, 1);
        assertEquals(cfg.parameterCount(10), c.network().numParams());
        assertEquals(1024, c.numInputs());
        assertEquals(10, c.numClasses());
        assertEquals(List.of(0.5, 0.25), List.of(cfg.withLearningRate(1).learningRateAt(0) / 2,
                new ConvConfig(32, 32, 1, List.of(16), 1, 3, 2, List.of(8), 0, 0, MlpConfig.Optimizer.ADAM, 1, 0.9,
                        0.5, 3, 8, 0, 0, ConvConfig.Backend.IM2COL).learningRateAt(2)));
    }
}
