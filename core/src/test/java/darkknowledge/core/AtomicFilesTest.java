package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @Test
    void deleteTreeRemovesNestedDirectoriesAndLeavesSiblings(@TempDir Path dir) throws Exception {
        Path root = dir.resolve("stage");
        Files.createDirectories(root.resolve("a/b/c"));
        Files.writeString(root.resolve("a/b/c/x.txt"), "x");
        Files.writeString(root.resolve("y.txt"), "y");
        Path sibling = dir.resolve("stage-other");
        Files.writeString(sibling, "kept");

        AtomicFiles.deleteTree(root);

        assertFalse(Files.exists(root));
        assertEquals("kept", Files.readString(sibling));
    }

    @Test
    void deleteTreeOfAnAbsentPathDoesNothing(@TempDir Path dir) throws Exception {
        AtomicFiles.deleteTree(dir.resolve("never-made"));
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void writeStringReplacesTheTargetWholeAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("out.properties");
        AtomicFiles.writeString(target, "a=1\n");
        AtomicFiles.writeString(target, "b=2\n");
        assertEquals("b=2\n", Files.readString(target));
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "only the target remains");
        }
    }
}
