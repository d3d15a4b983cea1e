package darkknowledge.experiments;

import darkknowledge.core.ChildProcess;
import darkknowledge.core.Provenance;
import darkknowledge.core.Sha256;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The unprivileged user that the shared-nothing cluster tests run Spark's workers as: its executors
 * cannot read the driver's run directory, data cache or home (0700 directories of root), as on
 * machines that share no file system with the driver. Created on first use (root only).
 */
final class WorkerUser {
    static final String NAME = "dk-worker";

    private WorkerUser() {
    }

    /** Null when this JVM may make and use the worker user, else why not. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "starting Spark's workers as another user needs root (this JVM runs as "
                    + System.getProperty("user.name") + "): run the test as root, as CI does";
        }
        for (String tool : List.of("/usr/sbin/useradd", "/usr/bin/setpriv")) {
            if (!java.nio.file.Files.isExecutable(Path.of(tool))) {
                return tool + " is missing (packages passwd and util-linux)";
            }
        }
        return null;
    }

    /** The worker user's name, created now if need be ({@code useradd --system}); fails naming the command. */
    static String ensure() {
        String why = unavailable();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        if (run("id", "-u", NAME).exitCode() != 0) {
            ChildProcess.Result r = run("/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    NAME);
            if (r.exitCode() != 0 && run("id", "-u", NAME).exitCode() != 0) {
                throw new IllegalStateException("cannot create the user " + NAME + ": " + r.output() + r.errors());
            }
        }
        return NAME;
    }

    /** Whether the worker user can see {@code path} at all (exists, as far as it can tell). */
    static boolean canSee(Path path) {
        return run("/usr/bin/setpriv", "--reuid=" + NAME, "--regid=" + NAME, "--clear-groups", "/usr/bin/test", "-e",
                path.toAbsolutePath().toString()).exitCode() == 0;
    }

    /**
     * Where a test keeps its cluster: under /tmp (reachable by the worker user), one per repository
     * and purpose, reused between runs so that the workers' homes keep what they unpacked (JavaCPP's
     * native libraries) as a worker machine would.
     */
    static Path clusterDir(String purpose) {
        return Path.of("/tmp", "dk-shared-nothing-" + purpose + "-"
                + Sha256.of(Provenance.repoDir().toString()).substring(0, 8));
    }

    private static ChildProcess.Result run(String... cmd) {
        return ChildProcess.of(cmd).timeout(Duration.ofSeconds(30)).run();
    }
}
