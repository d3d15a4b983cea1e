package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `./dk tables` publishes an experiment's further tables (results/<experiment>-<what>.md) as document blocks. */
class ExtraTablesTest {
    @Test
    void anExperimentsFurtherTablesAreItsOwnMarkdownFilesOnly(@TempDir Path results) throws Exception {
        for (String f : List.of("ensemble-distillation.md", "ensemble-distillation-seeds.md",
                "ensemble-distillation-student-curves.png", "specialists-glyphs.md", "specialists-glyphs-ablation.md",
                "bench-goals.md")) {
            Files.writeString(results.resolve(f), "x");
        }
        assertEquals(List.of(results.resolve("ensemble-distillation-seeds.md")),
                Main.Tables.extraTables(results, "ensemble-distillation"));
        assertEquals(List.of(results.resolve("specialists-glyphs-ablation.md")),
                Main.Tables.extraTables(results, "specialists-glyphs"));
        assertEquals(List.of(), Main.Tables.extraTables(results, "mnist-distillation"));
    }
}
