package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {
    @Test
    void derivedSeedsAreStableForTheSameNameAndIndices() {
        assertEquals(new Seeds(1).derive("specialist", 3), new Seeds(1).derive("specialist", 3));
    }

    @Test
    void derivedSeedsDifferAcrossNamesIndicesAndMasters() {
        Set<Long> seen = new HashSet<>();
        for (long master = 0; master < 5; master++) {
            for (String name : new String[] {"teacher", "student", "baseline", "split"}) {
                for (int i = 0; i < 20; i++) {
                    seen.add(new Seeds(master).derive(name, i));
                }
            }
        }
        assertEquals(5 * 4 * 20, seen.size());
        assertNotEquals(new Seeds(1).derive("a"), new Seeds(1).derive("a", 0));
    }
}
