package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.ChildProcess;
import darkknowledge.kernels.Cpu;
import darkknowledge.kernels.OpenBlas;
import darkknowledge.core.Provenance;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.data.DataStore;
import darkknowledge.data.DatasetSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The NumPy peer ({@value #IN_REPO} in the repository, {@code $DK_PEER} or {@code --peer} to run
 * another): the same 784-800-800-10 epoch, run as NumPy runs by default.
 */
final class NumpyPeer {
    /** The repository's own peer script, relative to the repository. */
    static final String IN_REPO = "bench/peer/numpy_mlp.py";
    /** The interpreter, from the PATH. */
    static final String PYTHON = "python3";
    /** Two epochs take about a minute here; one that takes this long is stuck, not slow. */
    static final Duration TIMEOUT = Duration.ofMinutes(30);
    /** Thread settings dk exports for itself that the NumPy peer must not inherit. */
    static final List<String> PEER_UNSET_ENV = List.of("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "MKL_THREADING_LAYER", "LD_PRELOAD");  // dk preloads Intel's OpenMP for ND4J's MKL, not for NumPy

    private static final Pattern TIMING = Pattern.compile("epoch=2 s/epoch=([0-9.]+) ex/s=([0-9]+)");

    private NumpyPeer() {
    }

    /** {@code option} if given, else {@code dkPeer} ({@code $DK_PEER}) if set, else the repository's {@value #IN_REPO}. */
    static Path script(Path option, String dkPeer, Path repoDir) {
        if (option != null) {
            return option;
        }
        return dkPeer != null && !dkPeer.isBlank() ? Path.of(dkPeer) : repoDir.resolve(IN_REPO);
    }

    /**
     * Seconds of the peer's second epoch, scaled to {@code n} examples; NaN (and a row saying why in
     * {@code rows}) if the script, python3 or NumPy is missing, or it prints no timing.
     */
    static double secondsPerEpoch(Path peer, DataStore data, int n, List<Row> rows) {
        if (peer == null || !Files.isRegularFile(peer)) {
            rows.add(why("not found: " + peer + " (set DK_PEER or --peer)"));
            return Double.NaN;
        }
        return secondsPerEpoch(PYTHON, peer, data.ensure(DatasetSource.MNIST), n, rows);
    }

    /** As above with the MNIST directory given and the interpreter named (a test names a missing one). */
    static double secondsPerEpoch(String python, Path peer, Path mnist, int n, List<Row> rows) {
        ChildProcess.Result r;
        try {
            // The peer runs as NumPy runs by default (its OpenBLAS on every core), not under dk's thread
            // settings: OpenBLAS reads OMP_NUM_THREADS too, and one thread would flatter us.
            // Its OpenBLAS gets the kernel set ours gets (OpenBlas.coreType), over the environment's
            // OPENBLAS_CORETYPE: ours would otherwise run AVX-512 kernels against its AVX2 ones.
            String core = peerCoreType();
            r = ChildProcess.of(python, peer.toString(), mnist.toString()).mergeErrors().unsetEnv(PEER_UNSET_ENV)
                    .environment(env -> {
                        if (core != null) {
                            env.put("OPENBLAS_CORETYPE", core);
                        }
                    }).timeout(TIMEOUT).run();
        } catch (ChildProcess.StartFailure e) {
            rows.add(why(python + " not found, needed to run " + peer + " (" + e.getCause().getMessage() + ")"));
            return Double.NaN;
        } catch (ChildProcess.TimedOut e) {
            rows.add(why(e.getMessage()));
            return Double.NaN;
        } catch (ChildProcess.Interrupted e) {
            return Double.NaN;  // the interrupt flag is set for the caller to see
        }
        String out = r.output();
        Matcher m = TIMING.matcher(out);
        if (!m.find()) {
            String numpyMissing = out.contains("No module named 'numpy'") || out.contains("NumPy is not installed")
                    ? "NumPy is not importable by " + python + "; " : "";
            rows.add(why(numpyMissing + "no timing in the output of " + peer + " (exit " + r.exitCode() + "): "
                    + ChildProcess.tail(out)));
            return Double.NaN;
        }
        return Double.parseDouble(m.group(1)) * n / 60000.0;
    }

    private static Row why(String note) {
        return new Row("NumPy peer", Double.NaN, "", Double.NaN, "", note);
    }

    /** The OPENBLAS_CORETYPE the peer runs with when our rule sets one ({@link OpenBlas#coreType}), else null. */
    static String peerCoreType() {
        return OpenBlas.coreType(Cpu.info());
    }

    /** How the peer's OpenBLAS picked its kernels, for the row's note. */
    static String peerKernels() {
        String core = peerCoreType();
        return core != null ? "its OpenBLAS told OPENBLAS_CORETYPE=" + core + " as ours is"
                : "its OpenBLAS's kernels as it detects them" + (System.getenv("OPENBLAS_CORETYPE") != null
                        ? " (OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE") + " from the environment)" : "");
    }

    /** Our thread settings as the environment gives them to ND4J (OpenMP) and to the BLAS. */
    static String blasThreads() {
        return String.format(Locale.ROOT, "%s, OMP_NUM_THREADS=%s, MKL_NUM_THREADS=%s, MKL_THREADING_LAYER=%s",
                NativeLibraries.blas(), System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_THREADING_LAYER", "unset"));
    }
}
