package darkknowledge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Medians and ranges of per-round figures, ratios taken round by round. */
class SpreadTest {

    @Test
    void medianMinAndMaxOfTheFiniteRounds() {
        assertEquals(new Spread(3, 1, 5, 5), Spread.of(3, 1, 5, 2, 4));
        assertEquals(new Spread(2, 1, 5, 3), Spread.of(5, Double.NaN, 1, 2));
        assertEquals(0, Spread.of(Double.NaN).rounds());
        assertTrue(Double.isNaN(Spread.of().median()));
    }

    @Test
    void ratiosAreTakenRoundByRoundNotFromTheMedians() {
        // round by round: 1, 2, 0.5 -> median 1; the medians' ratio would be 2/2 = 1 too, but the range shows
        Spread r = Spread.ofRatios(new double[] {2, 4, 1}, new double[] {2, 2, 2});
        assertEquals(new Spread(1, 0.5, 2, 3), r);
        assertEquals("1.00 (0.500–2.00 over 3 rounds)", r.describe());
        assertThrows(IllegalArgumentException.class, () -> Spread.ofRatios(new double[2], new double[3]));
    }
}
