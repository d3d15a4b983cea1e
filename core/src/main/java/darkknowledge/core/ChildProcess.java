package darkknowledge.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Every program this project runs (git, apt-get, dpkg, Maven, {@code cluster.sh}, python3, child
 * JVMs) runs through here, with a timeout that fires.
 *
 * <p>Why one place: reading a child's output to its end before {@code waitFor(timeout)} waits as long
 * as the child does, so the timeout never fires when it hangs; not reading it lets a chatty child fill
 * the pipe and block. Here the output of a child that is {@link #run} to its end goes to files (a
 * temporary one unless {@link #logTo}), never to a pipe that must be read: a chatty child never
 * blocks, and a daemon it leaves behind holding the output open (cluster.sh's Spark master) holds
 * nobody up. A long-lived child ({@link #start}) that talks over pipes has its output drained by a
 * thread of its own, and {@link Running#readLine} waits for a line a bounded time.
 *
 * <p>On a timeout the child and its descendants are killed ({@link #killTree}: SIGKILL) and a
 * {@link TimedOut} names the command and the timeout. The exceptions are {@link Failure}s, which are
 * {@link IllegalStateException}s, as the hand-written code they replace threw.
 *
 * <pre>{@code
 * ChildProcess.Result r = ChildProcess.of("git", "-C", dir.toString(), "rev-parse", "HEAD")
 *         .mergeErrors().timeout(Duration.ofSeconds(10)).run();   // r.exitCode(), r.output()
 * ChildProcess.of("dpkg", "-x", deb, root).directory(work).timeout(Duration.ofMinutes(30))
 *         .run().requireSuccess();                                 // NonZeroExit names code and output
 * }</pre>
 */
public final class ChildProcess {
    /** How long a killed child may take to die before we stop waiting for it. */
    static final Duration KILL_WAIT = Duration.ofSeconds(30);
    /** The end of a child's output that a failure message carries. */
    static final int TAIL_LINES = 40;
    static final int TAIL_CHARS = 4000;

    private final List<String> command;
    private Path directory;
    private final Map<String, String> environment = new LinkedHashMap<>();  // a null value unsets
    private final List<Consumer<Map<String, String>>> edits = new ArrayList<>();
    private Duration timeout;
    private boolean mergeErrors;
    private Path log;

    private ChildProcess(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        this.command = List.copyOf(command);
    }

    public static ChildProcess of(String... command) {
        return new ChildProcess(List.of(command));
    }

    public static ChildProcess of(List<String> command) {
        return new ChildProcess(command);
    }

    /** The working directory (default: this process's). */
    public ChildProcess directory(Path dir) {
        this.directory = dir;
        return this;
    }

    /** Sets {@code name} in the child's environment (this process's, by default); {@code null} unsets it. */
    public ChildProcess env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /** Leaves {@code names} out of the child's environment. */
    public ChildProcess unsetEnv(List<String> names) {
        names.forEach(n -> environment.put(n, null));
        return this;
    }

    /** Any other change to the child's environment (merge, put-if-absent), applied after {@link #env}. */
    public ChildProcess environment(Consumer<Map<String, String>> edit) {
        edits.add(edit);
        return this;
    }

    /** The longest {@link #run} waits before it kills the child and its descendants; required by it. */
    public ChildProcess timeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        this.timeout = timeout;
        return this;
    }

    /** Standard error into the same output as standard output, interleaved as written. */
    public ChildProcess mergeErrors() {
        this.mergeErrors = true;
        return this;
    }

    /**
     * Output and errors (merged) to {@code file}, which is kept, rather than to a temporary file
     * ({@link #run}) or to a pipe ({@link #start}).
     */
    public ChildProcess logTo(Path file) {
        this.log = file;
        return this;
    }

    /** The command as a message shows it (very long arguments, such as class paths, shortened). */
    public String describe() {
        return describe(command);
    }

    /**
     * Runs the child to its end, or until the timeout (then kills it and its descendants). Its standard
     * input is closed at once.
     *
     * @return its exit code and output, whatever the exit code ({@link Result#requireSuccess})
     * @throws StartFailure the program cannot be started (not installed, not executable)
     * @throws TimedOut it ran longer than the timeout
     * @throws Interrupted this thread was interrupted while waiting (the child is killed, the flag kept)
     */
    public Result run() {
        if (timeout == null) {
            throw new IllegalStateException("no timeout given for " + describe());
        }
        Path out = log;
        Path err = null;
        boolean tempOut = log == null;
        try {
            if (tempOut) {
                out = Files.createTempFile("dk-child-", ".out");
            }
            if (!mergeErrors && log == null) {
                err = Files.createTempFile("dk-child-", ".err");
            }
            ProcessBuilder pb = builder().redirectOutput(out.toFile());
            if (err == null) {
                pb.redirectErrorStream(true);
            } else {
                pb.redirectError(err.toFile());
            }
            Process p = start(pb);
            p.getOutputStream().close();
            boolean ended;
            try {
                ended = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                killTree(p.toHandle(), KILL_WAIT);
                Thread.currentThread().interrupt();
                throw new Interrupted(describe(), read(out) + read(err), e);
            }
            if (!ended) {
                killTree(p.toHandle(), KILL_WAIT);
                throw new TimedOut(describe(), timeout, read(out) + read(err));
            }
            return new Result(describe(), p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot capture the output of " + describe(), e);
        } finally {
            deleteQuietly(tempOut ? out : null);
            deleteQuietly(err);
        }
    }

    /**
     * Starts a long-lived child and returns at once. Output and errors go, merged, to the {@link #logTo}
     * file if one was given, else to a pipe drained into {@link Running#readLine}. Its standard input
     * is {@link Running#input}. The timeout does not apply: {@link Running#await} and
     * {@link Running#readLine} take their own.
     */
    public Running start() {
        ProcessBuilder pb = builder().redirectErrorStream(true);
        if (log != null) {
            pb.redirectOutput(log.toFile());
        }
        return new Running(describe(), start(pb), log == null);
    }

    /**
     * SIGKILLs {@code root} and all its descendants (found before the root dies, while they are still
     * its descendants) and waits up to {@code wait} for the root to end.
     *
     * @return whether the root ended in that time
     */
    public static boolean killTree(ProcessHandle root, Duration wait) {
        List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
        root.destroyForcibly();
        for (int i = 0; i < tree.size(); i++) {
            ProcessHandle h = tree.get(i);
            // children started since the first look, before their parent is killed below
            h.children().filter(c -> !tree.contains(c)).forEach(tree::add);
            h.destroyForcibly();
        }
        try {
            root.onExit().get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return !root.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !root.isAlive();
        }
    }

    private ProcessBuilder builder() {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        Map<String, String> env = pb.environment();
        environment.forEach((k, v) -> {
            if (v == null) {
                env.remove(k);
            } else {
                env.put(k, v);
            }
        });
        edits.forEach(e -> e.accept(env));
        return pb;
    }

    private Process start(ProcessBuilder pb) {
        try {
            return pb.start();
        } catch (IOException e) {
            throw new StartFailure(describe(), e);
        }
    }

    private static String read(Path file) throws IOException {
        // bytes, not readString: a child's output need not be valid UTF-8
        return file == null ? "" : new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    static String describe(List<String> command) {
        return command.stream().map(a -> {
            String shown = a.length() > 200 ? a.substring(0, 80) + "...[" + a.length() + " chars]" : a;
            return a.isEmpty() || a.chars().anyMatch(Character::isWhitespace) ? "'" + shown + "'" : shown;
        }).collect(Collectors.joining(" "));
    }

    /** "1 s", "30 min", "250 ms". */
    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms >= 60_000 && ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** The last {@value #TAIL_LINES} lines (at most {@value #TAIL_CHARS} characters) of {@code text}, stripped. */
    public static String tail(String text) {
        List<String> lines = text.strip().lines().toList();
        String t = String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        return t.length() > TAIL_CHARS ? "..." + t.substring(t.length() - TAIL_CHARS) : t;
    }

    /**
     * A child that ran to its end.
     *
     * @param output its standard output, with its errors if they were merged
     * @param errors its standard error when not merged, else empty
     */
    public record Result(String command, int exitCode, String output, String errors) {
        /** This result if the exit code is 0, else a {@link NonZeroExit} naming the command, the code and the end of the output. */
        public Result requireSuccess() {
            if (exitCode != 0) {
                throw new NonZeroExit(this);
            }
            return this;
        }
    }

    /** A long-lived child ({@link #start}); closing it kills it (and its descendants) if it still runs. */
    public static final class Running implements AutoCloseable {
        private static final Optional<String> END = Optional.empty();

        private final String command;
        private final Process process;
        private final PrintStream input;
        private final BlockingQueue<Optional<String>> lines;  // null when the output goes to a file
        private final List<String> recent = new ArrayList<>();

        private Running(String command, Process process, boolean piped) {
            this.command = command;
            this.process = process;
            this.input = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            this.lines = piped ? new LinkedBlockingQueue<>() : null;
            if (piped) {
                Thread drain = new Thread(this::drain, "dk-child-" + process.pid() + "-output");
                drain.setDaemon(true);
                drain.start();
            }
        }

        private void drain() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(Optional.of(line));
                }
            } catch (IOException ignored) {
                // the pipe closed under us (the child was killed): the end of its output
            } finally {
                lines.add(END);
            }
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** The child's standard input (auto-flushed). */
        public PrintStream input() {
            return input;
        }

        /**
         * The next line the child printed, waiting up to {@code timeout} for it; {@code null} once its
         * output has ended. Only when the output goes to a pipe (no {@link #logTo}).
         *
         * @throws TimedOut no line came in time: the child and its descendants are killed
         */
        public String readLine(Duration timeout) {
            if (lines == null) {
                throw new IllegalStateException("the output of " + command + " goes to a file, not to readLine");
            }
            Optional<String> line;
            try {
                line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                killTree(process.toHandle(), KILL_WAIT);
                Thread.currentThread().interrupt();
                throw new Interrupted(command, String.join("\n", recent), e);
            }
            if (line == null) {
                killTree(process.toHandle(), KILL_WAIT);
                throw new TimedOut(command, timeout, String.join("\n", recent));
            }
            if (line.isEmpty()) {
                lines.add(END);  // for the next caller too
                return null;
            }
            recent.add(line.get());
            if (recent.size() > TAIL_LINES) {
                recent.remove(0);
            }
            return line.get();
        }

        /**
         * Waits up to {@code timeout} for the child to end.
         *
         * @return its exit code
         * @throws TimedOut it still ran: it and its descendants are killed
         */
        public int await(Duration timeout) {
            try {
                if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    return process.exitValue();
                }
            } catch (InterruptedException e) {
                killTree(process.toHandle(), KILL_WAIT);
                Thread.currentThread().interrupt();
                throw new Interrupted(command, String.join("\n", recent), e);
            }
            killTree(process.toHandle(), KILL_WAIT);
            throw new TimedOut(command, timeout, String.join("\n", recent));
        }

        /**
         * Waits up to {@code wait} for the child to end, and never kills it: true when it has ended
         * (a short poll in a loop that has its own deadline).
         */
        public boolean waitFor(Duration wait) {
            try {
                return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                killTree(process.toHandle(), KILL_WAIT);
                Thread.currentThread().interrupt();
                throw new Interrupted(command, String.join("\n", recent), e);
            }
        }

        /** The exit code of a child that has ended. */
        public int exitValue() {
            return process.exitValue();
        }

        /** SIGKILLs the child and its descendants (no shutdown hook runs) and waits for the child to end. */
        public void kill() {
            if (!killTree(process.toHandle(), KILL_WAIT)) {
                throw new IllegalStateException(command + " (pid " + process.pid() + ") did not end within "
                        + human(KILL_WAIT) + " of SIGKILL");
            }
        }

        @Override
        public void close() {
            input.close();
            if (process.isAlive()) {
                killTree(process.toHandle(), KILL_WAIT);
            }
        }
    }

    /** A child that could not be run, or did not end well; {@link #output} is what it printed. */
    public static class Failure extends IllegalStateException {
        private final String command;
        private final String output;

        Failure(String message, String command, String output, Throwable cause) {
            super(message, cause);
            this.command = command;
            this.output = output;
        }

        /** The command, as {@link ChildProcess#describe()} shows it. */
        public String command() {
            return command;
        }

        /** Everything it printed (merged, or output then errors), empty if it never started. */
        public String output() {
            return output;
        }
    }

    /** The program could not be started; the cause is the {@link IOException} saying why. */
    public static final class StartFailure extends Failure {
        StartFailure(String command, IOException cause) {
            super("cannot run " + command + ": " + cause.getMessage(), command, "", cause);
        }
    }

    /** The child ran longer than its timeout and was killed with its descendants. */
    public static final class TimedOut extends Failure {
        private final Duration timeout;

        TimedOut(String command, Duration timeout, String output) {
            super(command + " did not finish within " + human(timeout) + " and was killed (with its descendants)"
                    + (output.isBlank() ? "; it printed nothing" : "; the end of its output:\n" + tail(output)),
                    command, output, null);
            this.timeout = timeout;
        }

        public Duration timeout() {
            return timeout;
        }
    }

    /** The child ended with an exit code other than 0. */
    public static final class NonZeroExit extends Failure {
        private final int exitCode;

        NonZeroExit(Result r) {
            super(r.command() + " failed with exit code " + r.exitCode()
                    + (r.output().isBlank() && r.errors().isBlank() ? "; it printed nothing"
                    : "; the end of its output:\n" + tail(r.output() + "\n" + r.errors())),
                    r.command(), r.output() + r.errors(), null);
            this.exitCode = r.exitCode();
        }

        public int exitCode() {
            return exitCode;
        }
    }

    /** This thread was interrupted while it waited for the child, which was killed; the flag is kept set. */
    public static final class Interrupted extends Failure {
        Interrupted(String command, String output, InterruptedException cause) {
            super("interrupted while waiting for " + command + " (it was killed)", command, output, cause);
        }
    }
}
