package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged {@code test-predictions.csv} is refused with the file, the line and the column named. */
class TestPredictionsTest {
    private static String refusal(Path file, String text) throws Exception {
        Files.writeString(file, text);
        return assertThrows(IllegalArgumentException.class, () -> TestPredictions.read(file)).getMessage();
    }

    @Test
    void aFieldThatIsNotANumberNamesItsLineAndColumn(@TempDir Path dir) throws Exception {
        Path f = dir.resolve(TestPredictions.FILE);
        String m = refusal(f, "label,members_wrong_of_10,student\n3,0,3\n4,1,x4\n");
        assertTrue(m.contains(f.toString()) && m.contains("line 3") && m.contains("student") && m.contains("'x4'"), m);
    }

    @Test
    void aBadMemberCountInTheHeaderIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve(TestPredictions.FILE);
        String m = refusal(f, "label,members_wrong_of_ten,student\n3,0,3\n");
        assertTrue(m.contains(f.toString()) && m.contains("line 1") && m.contains("member count"), m);
    }

    @Test
    void aCountOutOfRangeNamesTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve(TestPredictions.FILE);
        String m = refusal(f, "label,members_wrong_of_10,student\n3,11,3\n");
        assertTrue(m.contains(f.toString()) && m.contains("membersWrong") && m.contains("0..10"), m);
    }

    @Test
    void aTruncatedRowNamesItsLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve(TestPredictions.FILE);
        String m = refusal(f, "label,members_wrong_of_10,student\n3,0,3\n4,1\n");
        assertTrue(m.contains(f.toString()) && m.contains("line 3") && m.contains("expected 3 fields"), m);
    }
}
