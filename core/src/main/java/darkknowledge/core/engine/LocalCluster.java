package darkknowledge.core.engine;

import darkknowledge.core.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A Spark standalone cluster on this machine, started and stopped through {@code scripts/cluster.sh}
 * (the very code path of {@code ./dk cluster}): a master and N workers as separate JVMs on 127.0.0.1,
 * state (SPARK_HOME, pid files, logs) under {@code dir}. For tests and the bench; a user runs the script.
 */
public final class LocalCluster implements AutoCloseable {
    private final Path script;
    private final Path dir;
    private final String master;
    private final int workers;

    private LocalCluster(Path script, Path dir, String master, int workers) {
        this.script = script;
        this.dir = dir;
        this.master = master;
        this.workers = workers;
    }

    /**
     * Starts a cluster on free loopback ports whose executors get {@code classpath}'s jars (written to
     * {@code dir/classpath.txt}); fails with the script's own message when it cannot.
     *
     * @param repo the repository (holds scripts/cluster.sh)
     */
    public static LocalCluster start(Path repo, Path dir, String classpath, int workers, int cores, String memory) {
        return start(repo, dir, classpath, workers, cores, memory, null);
    }

    /**
     * As {@link #start(Path, Path, String, int, int, String)}, with the workers and their executors run
     * as the unprivileged user {@code user} (null: this process's user), each with a home and work
     * directory of its own and a SPARK_HOME of copied jars ({@code cluster.sh --user}): executors that
     * share no file system with the driver. Needs root.
     */
    public static LocalCluster start(Path repo, Path dir, String classpath, int workers, int cores, String memory,
                                     String user) {
        Path script = repo.resolve("scripts/cluster.sh");
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("cluster script not found: " + script + " (is dk.repo the repository?)");
        }
        try {
            Files.createDirectories(dir);
            Path cp = dir.resolve("classpath.txt");
            Files.writeString(cp, classpath);
            int port = freePort();
            int webui = freePorts(workers + 1);
            try {
                List<String> args = new ArrayList<>(List.of("start", "--workers", String.valueOf(workers), "--cores",
                        String.valueOf(cores), "--memory", memory, "--port", String.valueOf(port), "--webui-port",
                        String.valueOf(webui), "--classpath", cp.toString(), "--dir", dir.toString()));
                if (user != null) {
                    args.addAll(List.of("--user", user));
                }
                run(script, 300, args.toArray(new String[0]));
            } catch (RuntimeException e) {
                // a start that failed or timed out half-way may have left a master or workers running
                try {
                    run(script, 120, "stop", "--dir", dir.toString());
                } catch (RuntimeException stop) {
                    e.addSuppressed(stop);
                }
                throw e;
            }
            return new LocalCluster(script, dir, "spark://127.0.0.1:" + port, workers);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the cluster directory " + dir, e);
        }
    }

    public String masterUrl() {
        return master;
    }

    public int workers() {
        return workers;
    }

    /** The process id of worker {@code i} (1-based), from its pid file. */
    public long workerPid(int i) {
        try {
            return Long.parseLong(Files.readString(dir.resolve("pids/worker-" + i + ".pid")).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("no pid file for worker " + i + " under " + dir, e);
        }
    }

    /**
     * SIGKILLs worker {@code i} and the executors it started, as when its machine is lost: no shutdown
     * hook runs, a model being written stays half-written in its temporary file.
     */
    public void killWorker(int i) {
        ProcessHandle worker = ProcessHandle.of(workerPid(i))
                .orElseThrow(() -> new IllegalStateException("worker " + i + " is not running"));
        if (!ChildProcess.killTree(worker, Duration.ofSeconds(30))) {
            throw new IllegalStateException("worker " + i + " did not die after SIGKILL");
        }
    }

    /** The last {@code lines} lines of every executor's stderr, for a failure message. */
    public String executorLogTails(int lines) {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("stderr")).sorted().toList()) {
                List<String> all = Files.readAllLines(f, StandardCharsets.UTF_8);
                sb.append("\n--- ").append(dir.relativize(f)).append('\n')
                        .append(String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())));
            }
        } catch (IOException e) {
            sb.append("\n(cannot read the executors' logs: ").append(e).append(')');
        }
        return sb.toString();
    }

    @Override
    public void close() {
        run(script, 120, "stop", "--dir", dir.toString());
    }

    private static String run(Path script, int timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString()));
        cmd.addAll(List.of(args));
        ChildProcess.Result r;
        try {
            // ChildProcess sends the output to a file, not a pipe: the daemons the script leaves running
            // inherit its output, and a pipe read to its end would wait for them
            r = ChildProcess.of(cmd).mergeErrors()
                    .environment(env -> env.putIfAbsent("JAVA_HOME", System.getProperty("java.home")))
                    .timeout(Duration.ofSeconds(timeoutSeconds)).run();
        } catch (ChildProcess.TimedOut e) {
            throw new IllegalStateException("cluster.sh " + args[0] + " took longer than " + timeoutSeconds
                    + " s and was killed; its output so far: " + e.output().strip(), e);
        } catch (ChildProcess.StartFailure e) {
            throw new UncheckedIOException("cannot run " + script, (IOException) e.getCause());
        }
        if (r.exitCode() != 0) {
            throw new IllegalStateException("cluster.sh " + String.join(" ", args) + " failed: " + r.output().strip());
        }
        return r.output();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The first of {@code n} consecutive free ports (the master's web UI, then one per worker). */
    private static int freePorts(int n) throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = freePort();
            if (base + n > 65535) {
                continue;
            }
            boolean free = true;
            for (int i = 1; i < n && free; i++) {
                try (ServerSocket s = new ServerSocket(base + i, 1, java.net.InetAddress.getLoopbackAddress())) {
                    free = s.getLocalPort() == base + i;
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no " + n + " consecutive free ports on 127.0.0.1");
    }
}
