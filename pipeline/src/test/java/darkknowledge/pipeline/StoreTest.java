package darkknowledge.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.MlpConfig;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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

    /**
     * The key of an entry is what lets a later run find a stage's output: a change to how it is
     * derived orphans every stored stage. Pinned: the first 12 hex digits of
     * SHA-256("a\nconfig x\nupstream 1"), the stage's name and its inputs one a line.
     */
    @Test
    void theKeyOfAnEntryIsPinnedAndTheSameInAnotherStoreOverTheSameRoot(@TempDir Path root) {
        Store.Entry e = Store.shared(root, ORDER, "").open("a", "config x", "upstream 1");
        assertEquals("39ae3e5a737a", e.hash());
        assertEquals(root.resolve("a").resolve("39ae3e5a737a"), e.dir());
        assertTrue(Files.isDirectory(e.dir()), "opening an entry of the shared store makes its directory");
        assertEquals(e, Store.shared(root, ORDER, "").open("a", "config x", "upstream 1"));
    }

    @Test
    void theKeyChangesWithTheStageTheConfigTextAndEachUpstreamHash(@TempDir Path root) {
        Store store = Store.shared(root, ORDER, "");
        List<Store.Entry> entries = List.of(
                store.open("a", "config x", "upstream 1"),
                store.open("b", "config x", "upstream 1"),    // another stage
                store.open("a", "config y", "upstream 1"),    // another config
                store.open("a", "config x", "upstream 2"),    // another upstream output
                store.open("a", "config x", "upstream 1", "upstream 3"),  // one more input
                store.open("a", "upstream 1", "config x"),    // the same inputs in another order
                store.open("a", "config x"));
        Set<String> hashes = new HashSet<>();
        entries.forEach(e -> hashes.add(e.hash()));
        assertEquals(entries.size(), hashes.size(), entries.toString());
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

    @Test
    void theRunStoreKeepsEveryEntryInTheRunDirectoryItself(@TempDir Path run) {
        Store.Entry teacher = Store.inRun(run).open("teacher");
        assertEquals(run, teacher.dir());
        assertEquals(run.resolve("teacher.zip"), teacher.model("teacher"));
        assertEquals(run.resolve("checkpoints"), teacher.checkpoints().dir());
        teacher.complete(new TreeMap<>(Map.of("epochs_run", "3")));
        assertTrue(Files.isRegularFile(run.resolve("teacher.done.properties")));
        assertTrue(Store.inRun(run).open("teacher").done(), "a resumed run finds it");
        assertFalse(Store.inRun(run).open("student").done());
    }

    @Test
    void anUnknownStageOfTheSharedStoreIsAnErrorNamingTheStages(@TempDir Path root) {
        var e = assertThrows(IllegalArgumentException.class, () -> Store.shared(root, ORDER, "").open("c", "x"));
        assertTrue(e.getMessage().contains("unknown stage c") && e.getMessage().contains("[a, b]"), e.getMessage());
    }

    @Test
    void theRecordOfAnEntryThatIsNotDoneIsAnErrorNamingItsFile(@TempDir Path root) {
        Store.Entry e = Store.shared(root, ORDER, "").open("a", "x");
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, e::info);
        assertTrue(missing.getMessage().contains(e.dir().resolve("a.done.properties").toString()), missing.getMessage());
    }

    @Test
    void aMissingModelOfADoneEntryIsAnErrorNamingTheFile(@TempDir Path root) throws Exception {
        Store.Entry e = Store.inRun(root).open("net");
        e.completeWith("net", Classifier.create(MlpConfig.plain(List.of(4), 1), 3, 2, null, 7), new TreeMap<>());
        Files.delete(e.model("net"));
        assertTrue(e.done(), "the done record stays; the model it describes is gone");
        var bad = assertThrows(IllegalArgumentException.class, () -> e.loadModel("net"));
        assertTrue(bad.getMessage().contains("not found: " + root.resolve("net.zip")), bad.getMessage());
    }

    @Test
    void aCorruptModelFileIsAnErrorNamingTheFile(@TempDir Path root) throws Exception {
        Store.Entry e = Store.inRun(root).open("net");
        e.completeWith("net", Classifier.create(MlpConfig.plain(List.of(4), 1), 3, 2, null, 7), new TreeMap<>());
        Files.write(e.model("net"), new byte[] {'P', 'K', 3, 4, 0, 1, 2});  // a truncated zip
        var bad = assertThrows(IllegalArgumentException.class, () -> e.loadModel("net"));
        assertTrue(bad.getMessage().contains("cannot read model checkpoint " + root.resolve("net.zip")), bad.getMessage());
    }

    @Test
    void completingWithAModelRecordsItsHashBesideTheGivenFigures(@TempDir Path root) {
        Store.Entry e = Store.shared(root, ORDER, "").open("b", "y");
        Classifier net = Classifier.create(MlpConfig.plain(List.of(4), 1), 3, 2, null, 7);
        e.completeWith("net", net, new TreeMap<>(Map.of("epochs_run", "1")));
        assertEquals(Map.of("epochs_run", "1", "sha256", net.fingerprint()), e.info());
        assertEquals(e.dir().resolve("net.zip"), e.model("net"));
        assertTrue(Files.isRegularFile(e.model("net")));
    }
}
