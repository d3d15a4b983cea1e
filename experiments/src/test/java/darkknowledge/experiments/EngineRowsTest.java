package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.bench.Bench;
import darkknowledge.core.Provenance;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny twin of the bench's engine rows: real glyphs specialists and soft targets, trained and
 * computed on the in-process pool and on Spark local[2] with the same results, timed, recorded in the
 * bench's provenance, and the work directory removed. (Small and full add a two-worker standalone
 * cluster; {@code EngineBenchTest} covers that path among the slow tests.)
 */
class EngineRowsTest {

    @Test
    void theGlyphsWorkloadRunsOnEachEngineWithTheSameResults(@TempDir Path dir) {
        Provenance p = Provenance.empty();
        Path work = dir.resolve("work");
        List<Bench.Row> rows = EngineRows.measure(Scale.TINY, new DataStore(DataStore.defaultCacheDir()), work, p);
        assertEquals(4, rows.size(), rows.toString());
        for (int i = 0; i < rows.size(); i++) {
            Bench.Row r = rows.get(i);
            // per workload: the engines side by side, then what shipping its inputs and outputs cost on Spark
            assertTrue(r.measure().contains(i % 2 == 0 ? "Spark local[2] vs in-process pool"
                    : "shipping inputs and outputs on spark-local-2"), r.measure());
            assertTrue(r.value() > 0 && Double.isFinite(r.ratio()) && r.ratio() > 0, r.toString());
        }
        assertTrue(rows.get(1).note().contains("MB (data and models)"), rows.get(1).note());
        assertEquals("true", p.entries().get("engines.same_results"));
        assertTrue(p.entries().get("engines.workload.specialists").startsWith("2 specialists of 10 glyph classes"),
                p.entries().toString());
        assertTrue(p.entries().containsKey("engines.targets.spark-local-2.seconds"));
        assertFalse(Files.exists(work), "the work directory is removed");
    }

    /** The small bench's rows: the pool, local[2] and a two-worker standalone cluster (minutes). */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void theSmallWorkloadAlsoRunsOnAStandaloneClusterWithOneAndTwoExecutors(@TempDir Path dir) {
        Provenance p = Provenance.empty();
        List<Bench.Row> rows = EngineRows.measure(Scale.SMALL, new DataStore(DataStore.defaultCacheDir()),
                dir.resolve("work"), p);
        assertEquals(6, rows.size(), rows.toString());
        assertTrue(rows.get(1).measure().contains("2 one-core executors vs 1"), rows.get(1).measure());
        assertTrue(rows.get(2).measure().contains("shipping inputs and outputs on standalone-2x1"), rows.get(2).measure());
        assertTrue(rows.get(1).ratio() > 1, "two executors are faster than one: " + rows.get(1));
        assertEquals("true", p.entries().get("engines.same_results"));
        rows.forEach(r -> System.out.println(r));
    }

    @Test
    void blocksAreDisjointSortedAndSeeded() {
        int[][] a = EngineRows.blocks(100, 4, 20, 7);
        int[][] b = EngineRows.blocks(100, 4, 20, 7);
        assertEquals(4, a.length);
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int m = 0; m < 4; m++) {
            assertEquals(20, a[m].length);
            assertTrue(java.util.Arrays.equals(a[m], b[m]));
            for (int i = 0; i < 20; i++) {
                assertTrue(seen.add(a[m][i]), "class " + a[m][i] + " in two blocks");
                assertTrue(i == 0 || a[m][i - 1] < a[m][i]);
            }
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> EngineRows.blocks(50, 3, 20, 7));
    }
}
