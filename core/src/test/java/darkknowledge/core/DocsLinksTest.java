package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README and the docs pages point only at things a clone has: every run id they name is a run
 * directory under {@code runs/<experiment>/}, every {@code results/...} file they name exists, and
 * every relative markdown link resolves.
 */
class DocsLinksTest {
    /** A run id, {@code 20261201-082412} or {@code 20261201-082412-447e045f}, not inside a longer token. */
    private static final Pattern RUN_ID = Pattern.compile("(?<![\\w-])(\\d{8}-\\d{6})(-[0-9a-f]{8})?(?![\\w-])");
    /** A file named under results/, e.g. {@code results/bench.csv} or {@code ../results/pipeline.md}. */
    private static final Pattern RESULTS_FILE = Pattern.compile("(?<![\\w-])results/(\\w[\\w./-]*)");
    /** An inline markdown link or image: {@code [text](target)} or {@code ![alt](target)}. */
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    /** The problems of one document, each as {@code <file>:<line>: <what>}; none when it is sound. */
    static List<String> problems(Path repo, Path doc) {
        List<String> lines;
        try {
            lines = Files.readAllLines(doc);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + doc, e);
        }
        List<String> runIds = runIds(repo);
        String name = repo.relativize(doc.toAbsolutePath().normalize()).toString();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String at = name + ":" + (i + 1) + ": ";
            Matcher run = RUN_ID.matcher(line);
            while (run.find()) {
                String id = run.group();
                boolean known = run.group(2) != null ? runIds.contains(id)
                        : runIds.stream().anyMatch(r -> r.startsWith(id + "-"));
                if (!known) {
                    problems.add(at + "run " + id + " is no directory under runs/*/");
                }
            }
            Matcher results = RESULTS_FILE.matcher(line);
            while (results.find()) {
                String file = results.group(1).replaceAll("[.]+$", "");
                if (!Files.exists(repo.resolve("results").resolve(file))) {
                    problems.add(at + "results/" + file + " does not exist");
                }
            }
            Matcher link = LINK.matcher(line);
            while (link.find()) {
                String target = link.group(1);
                if (target.startsWith("#") || target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
                    continue; // an anchor in the same page, or a URL (https:, mailto:)
                }
                String path = target.replaceFirst("#.*$", "");
                if (!Files.exists(doc.toAbsolutePath().getParent().resolve(path).normalize())) {
                    problems.add(at + "link target " + target + " does not exist");
                }
            }
        }
        return problems;
    }

    /** The names of every run directory, {@code runs/<experiment>/<id>}. */
    private static List<String> runIds(Path repo) {
        Path runs = repo.resolve("runs");
        if (!Files.isDirectory(runs)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(runs)) {
            List<String> ids = new ArrayList<>();
            for (Path experiment : dirs.filter(Files::isDirectory).toList()) {
                try (Stream<Path> runDirs = Files.list(experiment)) {
                    runDirs.filter(Files::isDirectory).forEach(d -> ids.add(d.getFileName().toString()));
                }
            }
            return ids;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + runs, e);
        }
    }

    /** The repository: {@code dk.repo} when set, else the parent of this module's directory. */
    private static Path repo() {
        String property = System.getProperty("dk.repo");
        Path dir = property != null ? Path.of(property) : Path.of("").toAbsolutePath().getParent();
        return dir.toAbsolutePath().normalize();
    }

    @Test
    void everyRunResultsFileAndLinkTheDocsNameExistsInTheRepository() {
        Path repo = repo();
        assertTrue(Files.isRegularFile(repo.resolve("README.md")), "no README.md in " + repo);
        assertTrue(Files.isDirectory(repo.resolve("docs")), "no docs/ in " + repo);
        List<String> problems = ResultTables.documents(repo).stream().flatMap(d -> problems(repo, d).stream()).toList();
        assertEquals(List.of(), problems, String.join("\n", problems));
    }

    @Test
    void aDocNamingAMissingRunResultsFileOrLinkTargetIsReportedWithItsFileAndLine(@TempDir Path repo)
            throws Exception {
        Files.createDirectories(repo.resolve("runs/exp/20261201-082412-447e045f"));
        Files.createDirectories(repo.resolve("results"));
        Files.writeString(repo.resolve("results/exp.md"), "table\n");
        Files.createDirectories(repo.resolve("docs"));
        Path doc = repo.resolve("docs/page.md");
        Files.writeString(doc, String.join("\n",
                "# A page",
                "Run `20261201-082412-447e045f` and `20261201-082412` exist; so does [the table](../results/exp.md).",
                "Run `20261201-082412-00000000` does not (right time, wrong hash).",
                "Nor does 20261130-999999.",
                "See results/missing.csv, and [a page](other.md#section) that is not there.",
                "![a figure](../results/exp-curves.png)",
                "Fine: [paper](https://arxiv.org/abs/1503.02531), [above](#a-page), results/exp.md.",
                ""));

        assertEquals(List.of(
                "docs/page.md:3: run 20261201-082412-00000000 is no directory under runs/*/",
                "docs/page.md:4: run 20261130-999999 is no directory under runs/*/",
                "docs/page.md:5: results/missing.csv does not exist",
                "docs/page.md:5: link target other.md#section does not exist",
                "docs/page.md:6: results/exp-curves.png does not exist",
                "docs/page.md:6: link target ../results/exp-curves.png does not exist"), problems(repo, doc));

        Files.writeString(repo.resolve("docs/other.md"), "# Other\n");
        assertTrue(problems(repo, doc).stream().noneMatch(p -> p.contains("other.md")));
    }

    @Test
    void aReadmeWithNothingMissingHasNoProblems(@TempDir Path repo) throws Exception {
        Files.createDirectories(repo.resolve("runs/exp/20261125-063915-09936a35"));
        Files.createDirectories(repo.resolve("docs"));
        Files.writeString(repo.resolve("docs/layout.md"), "# Layout\n");
        Files.writeString(repo.resolve("README.md"),
                "| claim | runs |\n|---|---|\n| teacher | exp `20261125-063915` |\n\n[Layout](docs/layout.md), "
                        + "commit `c43c965`, 2026-12-01, `runs/<experiment>/<id>/`, `results/<experiment>.md`\n");
        assertEquals(List.of(), problems(repo, repo.resolve("README.md")));
    }
}
