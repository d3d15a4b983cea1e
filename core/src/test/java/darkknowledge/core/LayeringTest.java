package darkknowledge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The module layering (STYLE.md, "Modules show the method") is enforced by maven-enforcer's
 * {@code bannedDependencies} in each module's POM; this test shows that a rule fires. It runs Maven
 * (offline, phase {@code validate}, a few seconds) on core's own POM as it is on disk, with one
 * change: ND4J's API declared as a compile dependency, which core bans. The build must fail and name
 * the artifact.
 *
 * <p>Why this cannot drift from the real rules: nothing here restates a rule. The POM under test is
 * read from {@code core/pom.xml} at test time and keeps its artifactId, so Maven builds it as core;
 * its parent is the real parent POM (by {@code relativePath}), which brings the plugin version and
 * the other rules. Removing or weakening core's ban makes the first run pass and this test fail. The
 * same copy without the added dependency must pass, so the failure is the ban's and not a broken copy.
 * Only core is used because it depends on no sibling module: an offline build of it needs nothing
 * that only a reactor build (or an {@code install}) would provide.
 */
class LayeringTest {
    private static final String BANNED = "org.nd4j:nd4j-api";

    @Test
    void aBannedDependencyFailsTheBuildNamingTheArtifact(@TempDir Path dir) throws Exception {
        Path module = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
        Path parentPom = module.resolve("../pom.xml").normalize();
        assertTrue(Files.isRegularFile(module.resolve("pom.xml")) && Files.isRegularFile(parentPom),
                "expected core/pom.xml and the parent pom.xml under " + module);

        Path clean = dir.resolve("clean");
        writeCopy(module.resolve("pom.xml"), parentPom, clean, false);
        Result ok = validate(clean);
        assertEquals(0, ok.exit, "core's own POM, copied, must validate:\n" + ok.output);

        Path banned = dir.resolve("banned");
        writeCopy(module.resolve("pom.xml"), parentPom, banned, true);
        Result fail = validate(banned);
        assertNotEquals(0, fail.exit, "core with " + BANNED + " must fail the build:\n" + fail.output);
        assertTrue(fail.output.contains("BannedDependencies failed"), fail.output);
        assertTrue(fail.output.contains(BANNED + ":jar:") && fail.output.contains("<--- banned"), fail.output);
    }

    /** Core's POM with the parent found by path and, if asked, the banned dependency added. */
    private static void writeCopy(Path pom, Path parentPom, Path into, boolean addBanned) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        Document doc = f.newDocumentBuilder().parse(pom.toFile());
        String ns = doc.getDocumentElement().getNamespaceURI();
        Element parent = (Element) doc.getElementsByTagNameNS(ns, "parent").item(0);
        append(doc, parent, "relativePath", parentPom.toString());
        if (addBanned) {
            Element deps = (Element) doc.getElementsByTagNameNS(ns, "dependencies").item(0);
            Element dep = append(doc, deps, "dependency", null);
            String[] ga = BANNED.split(":");
            append(doc, dep, "groupId", ga[0]);
            append(doc, dep, "artifactId", ga[1]);
        }
        Files.createDirectories(into);
        TransformerFactory.newInstance().newTransformer()
                .transform(new DOMSource(doc), new StreamResult(into.resolve("pom.xml").toFile()));
    }

    private static Element append(Document doc, Element to, String name, String text) {
        Element e = doc.createElementNS(to.getNamespaceURI(), name);
        if (text != null) {
            e.setTextContent(text);
        }
        to.appendChild(e);
        return e;
    }

    private record Result(int exit, String output) {
    }

    private static Result validate(Path project) {
        List<String> cmd = new ArrayList<>(List.of(maven(), "-B", "-o", "-q", "-Dstyle.color=never",
                "-f", project.resolve("pom.xml").toString()));
        String repo = System.getProperty("dk.maven.repo.local", "");
        if (!repo.isBlank()) {
            cmd.add("-Dmaven.repo.local=" + repo);  // the same local repository as the build running us
        }
        cmd.add("validate");
        ChildProcess.Result r = ChildProcess.of(cmd).directory(project).mergeErrors()
                // The enforcer's own rules ask for JDK 25: run Maven on the JDK running this test.
                .env("JAVA_HOME", System.getProperty("java.home"))
                // A short-lived Maven: the C1 compiler alone halves its CPU time (measured: 3.3 s -> 1.9 s).
                .environment(env -> env.merge("MAVEN_OPTS",
                        "--sun-misc-unsafe-memory-access=allow -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
                        (a, b) -> a + " " + b))
                .timeout(Duration.ofMinutes(2)).run();
        return new Result(r.exitCode(), r.output());
    }

    /** The Maven running this build (surefire passes its home), else {@code mvn} from the PATH. */
    private static String maven() {
        String home = System.getProperty("dk.maven.home", "");
        if (!home.isBlank() && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
            return Path.of(home, "bin", "mvn").toString();
        }
        return "mvn";
    }
}
