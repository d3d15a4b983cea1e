package darkknowledge.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalEngineTest {
    /** Sums a seeded stream and writes the sum into the run directory: a small, real, checkable task. */
    record SumTask(long seed, int n, String output) implements Task<Double> {
        @Override
        public Double run(TaskContext ctx) {
            SplittableRandom r = new SplittableRandom(seed);
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += r.nextDouble();
            }
            double sum = s;
            ctx.writeOutput(output, out -> out.write(Double.toString(sum).getBytes(StandardCharsets.UTF_8)));
            return sum;
        }
    }

    record FailingTask(String why) implements Task<Integer> {
        @Override
        public Integer run(TaskContext ctx) {
            throw new IllegalStateException(why);
        }
    }

    record ReadTask(String input) implements Task<Integer> {
        @Override
        public Integer run(TaskContext ctx) throws Exception {
            return Files.readAllBytes(ctx.input(Path.of(input))).length;
        }
    }

    record MayForkTask() implements Task<Boolean> {
        @Override
        public Boolean run(TaskContext ctx) {
            return LocalEngine.mayFork();
        }
    }

    /** A worker forks (parallel streams) only while its engine leaves cores free; other threads always may. */
    @Test
    void workersForkOnlyWhereTheirEngineLeavesCoresFree(@TempDir Path run) {
        int cores = Runtime.getRuntime().availableProcessors();
        assertTrue(LocalEngine.mayFork(), "a thread outside any engine");
        for (int workers : new int[] {1, cores, cores + 1}) {
            try (Engine e = new LocalEngine(workers, run)) {
                List<Boolean> got = e.runAll("fork", List.of(new MayForkTask(), new MayForkTask()));
                assertEquals(List.of(workers < cores, workers < cores), got, workers + " workers on " + cores + " cores");
            }
        }
    }

    @Test
    void resultsComeBackInTaskOrderAndOutputsAreInTheRunDirectory(@TempDir Path run) throws Exception {
        List<SumTask> tasks = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            tasks.add(new SumTask(i, 1000 + 100 * i, "sums/" + i + ".txt"));
        }
        Path again = Files.createDirectories(run.resolve("again"));
        try (Engine e = new LocalEngine(2, run)) {
            List<Double> got = e.runAll("sums", tasks);
            for (int i = 0; i < tasks.size(); i++) {
                assertEquals(tasks.get(i).run(ctx(again)), got.get(i), 0.0);
                assertEquals(Double.toString(got.get(i)), Files.readString(run.resolve("sums/" + i + ".txt")));
            }
            var d = e.describe();
            assertEquals("local", d.get("kind"));
            assertEquals("2", d.get("executors"));
            assertTrue(d.get("stage.sums.executors").startsWith("local-"), d.toString());
        }
    }

    @Test
    void aFailingTaskSurfacesItsOwnMessageWithStageTaskAndExecutor(@TempDir Path run) {
        try (Engine e = new LocalEngine(2, run)) {
            TaskFailedException f = assertThrows(TaskFailedException.class,
                    () -> e.runAll("doomed", List.of(new FailingTask("the subset is empty"))));
            assertTrue(f.getMessage().contains("stage doomed: task 0"), f.getMessage());
            assertTrue(f.getMessage().contains("on executor local-"), f.getMessage());
            assertTrue(f.getMessage().endsWith("the subset is empty"), f.getMessage());
        }
    }

    @Test
    void aMissingInputIsNamedWithTheExecutor(@TempDir Path run) {
        Path missing = run.resolve("no-such-data/train.bin");
        try (Engine e = new LocalEngine(1, run)) {
            TaskFailedException f = assertThrows(TaskFailedException.class,
                    () -> e.runAll("read", List.of(new ReadTask(missing.toString()))));
            assertTrue(f.getCause() instanceof TaskInputException, String.valueOf(f.getCause()));
            assertTrue(f.getMessage().contains(missing.toString()), f.getMessage());
            assertTrue(f.getMessage().contains("executor local-1"), f.getMessage());
        }
    }

    @Test
    void aRunDirectoryTheExecutorCannotSeeFailsNamingIt(@TempDir Path tmp) {
        Path run = tmp.resolve("not-mounted");
        try (Engine e = new LocalEngine(1, run)) {
            TaskFailedException f = assertThrows(TaskFailedException.class,
                    () -> e.runAll("sums", List.of(new SumTask(1, 10, "x.txt"))));
            assertTrue(f.getMessage().contains("cannot see the run directory " + run), f.getMessage());
        }
    }

    private static TaskContext ctx(Path run) {
        return new TaskContext("test", 0, 0, "test", "localhost", 1, run, run);
    }
}
