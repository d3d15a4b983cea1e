package darkknowledge.bench;

import darkknowledge.bench.Bench.Row;
import darkknowledge.core.Provenance;
import darkknowledge.kernels.NativeLibraries;
import darkknowledge.data.DataStore;
import darkknowledge.data.DatasetSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The NumPy peer ({@code numpy_mlp.py}): the same 784-800-800-10 epoch, run as NumPy runs by default. */
final class NumpyPeer {
    /** Thread settings dk exports for itself that the NumPy peer must not inherit. */
    static final List<String> PEER_UNSET_ENV = List.of("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
            "MKL_THREADING_LAYER", "LD_PRELOAD");  // dk preloads Intel's OpenMP for ND4J's MKL, not for NumPy

    private NumpyPeer() {
    }

    /**
     * Seconds of the peer's second epoch, scaled to {@code n} examples; NaN (and a row saying why in
     * {@code rows}) if the script is missing or prints no timing.
     */
    static double secondsPerEpoch(Path peer, DataStore data, int n, List<Row> rows) {
        if (peer == null || !Files.isRegularFile(peer)) {
            rows.add(new Row("NumPy peer", Double.NaN, "", Double.NaN, "", "not found: " + peer + " (set DK_PEER)"));
            return Double.NaN;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder("python3", peer.toString(), data.ensure(DatasetSource.MNIST).toString())
                    .redirectErrorStream(true);
            // The peer runs as NumPy runs by default (its OpenBLAS on every core), not under dk's thread
            // settings: OpenBLAS reads OMP_NUM_THREADS too, and one thread would flatter us.
            for (String v : PEER_UNSET_ENV) {
                pb.environment().remove(v);
            }
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            Matcher m = Pattern.compile("epoch=2 s/epoch=([0-9.]+) ex/s=([0-9]+)").matcher(out);
            if (!m.find()) {
                rows.add(new Row("NumPy peer", Double.NaN, "", Double.NaN, "", "no timing in its output: " + out.strip()));
                return Double.NaN;
            }
            return Double.parseDouble(m.group(1)) * n / 60000.0;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the NumPy peer " + peer, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    /** Our thread settings as the environment gives them to ND4J (OpenMP) and to the BLAS. */
    static String blasThreads() {
        return String.format(Locale.ROOT, "%s, OMP_NUM_THREADS=%s, MKL_NUM_THREADS=%s, MKL_THREADING_LAYER=%s",
                NativeLibraries.blas(), System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_NUM_THREADS", "unset"),
                System.getenv().getOrDefault("MKL_THREADING_LAYER", "unset"));
    }
}
