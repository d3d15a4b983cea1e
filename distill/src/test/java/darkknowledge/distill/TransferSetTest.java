package darkknowledge.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.Check;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TransferSetTest {
    private static final int[] LABELS = {0, 1, 2, 3, 3, 7, 8, 7, 3, 1};

    @Test
    void withoutClassesDropsThemAndReportsThemMissing() {
        TransferSet t = new TransferSet(TransferSet.Kind.WITHOUT_CLASSES, 1, List.of(3), true);
        assertArrayEquals(new int[] {0, 1, 2, 5, 6, 7, 9}, t.select(LABELS, 1));
        assertEquals(List.of(3), t.missingClasses(10));
    }

    @Test
    void onlyClassesKeepsThem() {
        TransferSet t = new TransferSet(TransferSet.Kind.ONLY_CLASSES, 1, List.of(7, 8), true);
        assertArrayEquals(new int[] {5, 6, 7}, t.select(LABELS, 1));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 9), t.missingClasses(10));
    }

    @Test
    void fractionIsASeededSortedSubset() {
        TransferSet t = new TransferSet(TransferSet.Kind.FRACTION, 0.3, List.of(), true);
        int[] a = t.select(LABELS, 5);
        assertEquals(3, a.length);
        assertArrayEquals(a, t.select(LABELS, 5));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, a);
        assertTrue(!Arrays.equals(a, t.select(LABELS, 6)) || !Arrays.equals(a, t.select(LABELS, 7)));
    }

    @Test
    void inconsistentSettingsAreRejected() {
        assertThrows(Check.InvalidValue.class, () -> new TransferSet(TransferSet.Kind.ALL, 0.5, List.of(), true));
        assertThrows(Check.InvalidValue.class, () -> new TransferSet(TransferSet.Kind.WITHOUT_CLASSES, 1, List.of(), true));
    }
}
