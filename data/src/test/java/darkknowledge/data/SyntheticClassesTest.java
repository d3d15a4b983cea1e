package darkknowledge.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticClassesTest {

    @Test
    void plantedGroupsAreCloserThanOtherClassesAndGenerationIsSeeded() {
        var spec = new SyntheticClasses.Spec(24, 4, 40, 0.8, 0.5, 50, 10, 12);
        var g = SyntheticClasses.generate(spec);
        assertEquals(24 * 50, g.train().numExamples());
        assertEquals(24 * 10, g.test().numExamples());
        assertTrue(Arrays.stream(g.train().classCounts()).allMatch(c -> c == 50));
        assertEquals(4, g.groups().size());
        assertTrue(g.groups().stream().allMatch(l -> l.size() == 6));
        assertTrue(g.groups().stream().noneMatch(l -> l.equals(java.util.List.of(0, 1, 2, 3, 4, 5))),
                "groups are not contiguous label ranges");

        double[][] means = classMeans(g.train());
        double within = 0;
        double between = 0;
        int nw = 0;
        int nb = 0;
        for (int a = 0; a < 24; a++) {
            for (int b = a + 1; b < 24; b++) {
                double dist = 0;
                for (int j = 0; j < 40; j++) {
                    dist += (means[a][j] - means[b][j]) * (means[a][j] - means[b][j]);
                }
                if (g.groupOfClass()[a] == g.groupOfClass()[b]) {
                    within += dist;
                    nw++;
                } else {
                    between += dist;
                    nb++;
                }
            }
        }
        // E|μa−μb|² is 2d(1−s) within a group and 2d between groups.
        assertEquals(2 * 40 * 0.2, within / nw, 4);
        assertEquals(2 * 40, between / nb, 15);
        var again = SyntheticClasses.generate(spec);
        assertArrayEquals(g.train().features(), again.train().features());
        assertArrayEquals(g.groupOfClass(), again.groupOfClass());
    }

    private static double[][] classMeans(Dataset d) {
        double[][] m = new double[d.numClasses()][d.numFeatures()];
        int[] counts = d.classCounts();
        for (int i = 0; i < d.numExamples(); i++) {
            for (int j = 0; j < d.numFeatures(); j++) {
                m[d.labels()[i]][j] += d.features()[i * d.numFeatures() + j] / counts[d.labels()[i]];
            }
        }
        return m;
    }
}
