package darkknowledge.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreTest {
    private static final List<String> ORDER = List.of("a", "b");

    @Test
    void anEntryIsKeyedByItsInputs(@TempDir Path root) {
        Store store = Store.shared(root, ORDER, "");
        Store.Entry one = store.open("a", "config x", "upstream 1");
        Store.Entry same = store.open("a", "config x", "upstream 1");
        Store.Entry other = store.open("a", "config x", "upstream 2");
        assertEquals(one.dir(), same.dir());
        assertNotEquals(one.dir(), other.dir());
        assertTrue(one.dir().startsWith(root.resolve("a")));
    }

    @Test
    void anEntryIsDoneOnlyAfterItIsCompletedAndIsReusedThen(@TempDir Path root) {
        Store.Entry e = Store.shared(root, ORDER, "").open("a", "x");
        assertFalse(e.done());
        e.complete(new TreeMap<>(Map.of("rows", "3")));
        Store.Entry again = Store.shared(root, ORDER, "").open("a", "x");
        assertTrue(again.done());
        assertEquals("3", again.info().get("rows"));
    }

    @Test
    void fromRedoesThatStageAndEveryLaterOne(@TempDir Path root) {
        Store first = Store.shared(root, ORDER, "");
        first.open("a", "x").complete(new TreeMap<>());
        first.open("b", "y").complete(new TreeMap<>());
        Store redo = Store.shared(root, ORDER, "b");
        assertTrue(redo.open("a", "x").done());
        assertFalse(redo.open("b", "y").done());
    }

    @Test
    void anUnknownFromStageNamesTheKey(@TempDir Path root) {
        ConfigException e = assertThrows(ConfigException.class, () -> Store.shared(root, ORDER, "c"));
        assertTrue(e.getMessage().contains("stages.from"), e.getMessage());
    }

    @Test
    void aModelIsCheckedAgainstTheHashItsEntryRecorded(@TempDir Path root) throws Exception {
        Store.Entry e = Store.inRun(root).open("net");
        Classifier net = Classifier.create(MlpConfig.plain(List.of(4), 1), 3, 2, null, 7);
        e.completeWith("net", net, new TreeMap<>());
        assertEquals(root.resolve("net.zip"), e.model("net"));
        assertEquals(net.fingerprint(), e.loadModel("net").fingerprint());

        Classifier other = Classifier.create(MlpConfig.plain(List.of(4), 1), 3, 2, null, 8);
        other.save(e.model("net"));
        IllegalStateException bad = assertThrows(IllegalStateException.class, () -> e.loadModel("net"));
        assertTrue(bad.getMessage().contains("net.zip") && bad.getMessage().contains("SHA-256"), bad.getMessage());
        assertTrue(Files.isRegularFile(root.resolve("net.done.properties")));
    }
}
