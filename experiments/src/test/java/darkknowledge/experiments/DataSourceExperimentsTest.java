package darkknowledge.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import darkknowledge.core.ConfigException;
import darkknowledge.core.RunRecord;
import darkknowledge.core.Scale;
import darkknowledge.data.DataStore;
import darkknowledge.generalist.Classifier;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data.source} and {@code data.imageSize}: an experiment runs on a user's image folder or
 * IDX directory by config alone, no experiment code knowing which data it reads.
 */
class DataSourceExperimentsTest {
    private static final DataStore STORE = new DataStore(DataStore.defaultCacheDir());

    /**
     * Three classes of colour images, each a bright square in its own corner and colour on seeded
     * noise; a third of them 12×12, the rest 8×8 (so they need {@code data.imageSize}).
     */
    static Path imageFolder(Path root, int trainPerClass, int testPerClass) throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        String[] classes = {"circle", "square", "triangle"};
        int[] colours = {0xFF3020, 0x20FF30, 0x3040FF};
        for (String split : List.of("train", "test")) {
            int n = split.equals("train") ? trainPerClass : testPerClass;
            for (int c = 0; c < classes.length; c++) {
                Path dir = Files.createDirectories(root.resolve(split).resolve(classes[c]));
                for (int i = 0; i < n; i++) {
                    int size = i % 3 == 0 ? 12 : 8;
                    BufferedImage im = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
                    int q = size / 2;
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            boolean in = (c == 0 && x < q && y < q) || (c == 1 && x >= q && y < q)
                                    || (c == 2 && y >= q);
                            int noise = r.nextInt(60);
                            im.setRGB(x, y, in ? colours[c] : (noise << 16) | (noise << 8) | noise);
                        }
                    }
                    ImageIO.write(im, "png", dir.resolve(String.format("%03d.png", i)).toFile());
                }
            }
        }
        return root;
    }

    /** Four classes of 8×8 grey images, class c a bright band on rows 2c, 2c+1 over seeded noise, as IDX. */
    static Path idxDirectory(Path dir, int train, int test) throws IOException {
        SplittableRandom r = new SplittableRandom(11);
        Files.createDirectories(dir);
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? train : test;
            ByteBuffer images = ByteBuffer.allocate(16 + n * 64).putInt(0x0803).putInt(n).putInt(8).putInt(8);
            ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x0801).putInt(n);
            for (int i = 0; i < n; i++) {
                int c = i % 4;
                labels.put((byte) c);
                for (int p = 0; p < 64; p++) {
                    images.put((byte) (p / 8 / 2 == c ? 200 + r.nextInt(56) : r.nextInt(80)));
                }
            }
            Files.write(dir.resolve(split + "-images-idx3-ubyte"), images.array());
            Files.write(dir.resolve(split + "-labels-idx1-ubyte"), labels.array());
        }
        return dir;
    }

    private static <C extends Record> Runner.Outcome run(Experiment<C> e, Path runs, String... sets) {
        return Runner.run(e, Runner.resolve(e, Scale.TINY, null, List.of(sets)), runs, STORE, false);
    }

    @Test
    void mnistDistillationRunsOnAColourImageFolderByConfigAlone(@TempDir Path root) throws IOException {
        Path data = imageFolder(root.resolve("shapes"), 30, 8);
        Runner.Outcome o = run(new MnistDistillation(), root.resolve("runs"), "data.source=images:" + data,
                "data.imageSize=10", "data.validationSize=15");
        assertEquals("24", o.result().get("test_examples"));
        assertTrue(o.result().containsKey("student.test_errors") && o.result().containsKey("student.gap_closed_pct"),
                o.result().toString());
        Classifier student = Classifier.load(o.dir().resolve("student.zip"));
        assertEquals(3, student.numClasses(), "classes from the folders, not 10");
        assertEquals(3 * 10 * 10, student.numInputs(), "three colour planes of 10x10");
        Map<String, String> prov = RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
        assertEquals("images:" + data, prov.get("dataset.source"));
        assertEquals(64, prov.get("data.images.train").length());
        assertEquals("images:" + data, RunRecord.readProperties(o.dir().resolve(RunRecord.CONFIG)).get("data.source"));
        assertEquals("75", prov.get("split.train_examples"));
    }

    @Test
    void omittedClassRunsOnAnIdxDirectoryAndRefusesClassesItLacks(@TempDir Path root) throws IOException {
        Path data = idxDirectory(root.resolve("bands"), 120, 40);
        var e = new MnistOmittedClass();
        var ex = assertThrows(ConfigException.class, () -> run(e, root.resolve("refused"), "data.source=idx:" + data,
                "data.validationSize=20"));
        assertTrue(ex.getMessage().contains("omitted.onlyClasses=[7, 8]") && ex.getMessage().contains("0..3"),
                ex.getMessage());
        Runner.Outcome o = run(e, root.resolve("runs"), "data.source=idx:" + data, "data.validationSize=20",
                "omitted.classes=2", "omitted.onlyClasses=1,3");
        assertEquals("[2]", o.result().get("omitted.missing_classes"));
        assertEquals("[0,2]", o.result().get("only.missing_classes"));
        assertEquals("10", o.result().get("omitted.class_examples"), "every fourth of 40 test images is class 2");
        Map<String, String> prov = RunRecord.readProperties(o.dir().resolve(RunRecord.PROVENANCE));
        assertEquals(64, prov.get("data.idx.train-labels-idx1-ubyte").length());
    }

    @Test
    void unknownSourceStopsAtResolveNamingTheKeyAndTheForms() {
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(new TemperatureSweep(), Scale.TINY, null,
                List.of("data.source=cifar10")));
        assertTrue(ex.getMessage().startsWith("data.source") && ex.getMessage().contains("images:<dir>")
                && ex.getMessage().contains("idx:<dir>"), ex.getMessage());
    }

    @Test
    void anExperimentThatChoosesOnValidationRefusesNoHoldOutBeforeItTrains() {
        var ex = assertThrows(ConfigException.class, () -> Runner.resolve(new MnistOmittedClass(), Scale.TINY, null,
                List.of("data.validationSize=0")));
        assertTrue(ex.getMessage().startsWith("data.validationSize=0: mnist-omitted-class needs a validation split")
                && ex.getMessage().contains("bias shift"), ex.getMessage());
        // experiments that need none accept it (the paper's protocol for mnist-distillation)
        Runner.resolve(new MnistDistillation(), Scale.TINY, null,
                List.of("data.validationSize=0", "baseline.patience=0"));
    }

    @Test
    void variantsThatMakeTheirOwnDataRefuseASource(@TempDir Path root) {
        var e = new SpecialistsExperiment(darkknowledge.pipeline.SpecialistDataset.SYNTHETIC);
        var ex = assertThrows(ConfigException.class, () -> run(e, root, "data.source=images:" + root));
        assertTrue(ex.getMessage().contains("synthetic dataset makes its own data"), ex.getMessage());
    }

    @Test
    void missingDirectoryNamesItBeforeAnyTraining(@TempDir Path root) {
        Path nowhere = root.resolve("no-such-folder");
        var ex = assertThrows(RuntimeException.class, () -> run(new EnsembleDistillation(), root.resolve("runs"),
                "data.source=images:" + nowhere));
        List<String> messages = new ArrayList<>();
        for (Throwable t = ex; t != null; t = t.getCause()) {
            messages.add(t.getMessage());
        }
        assertTrue(messages.stream().anyMatch(m -> m != null && m.contains(nowhere.toString())
                && m.contains("no such directory")), messages.toString());
    }
}
