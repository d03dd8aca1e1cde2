package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real npm clients {@code streamr-client@0.12.2} and {@code @0.11.2}, installed by this
 * test into {@code target/streamr-js-VERSION}, against the data API served by {@link StreamrApiTest}'s server.
 * Needs Node.js and npm: without them the test fails saying so (it is not skipped).
 */
class StreamrJsClientTest {

  static Path jsDir(String version) {
    return Paths.get("target", "streamr-js-" + version).toAbsolutePath();
  }

  @BeforeAll
  static void start() throws Exception {
    StreamrApiTest.start();
  }

  @AfterAll
  static void stop() throws Exception {
    StreamrApiTest.stop();
  }

  private static String run(List<String> cmd, Path dir, int timeoutSeconds) throws Exception {
    Path log = Files.createTempFile("streamr-js", ".log");
    Process p;
    try {
      p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
    } catch (java.io.IOException e) {
      fail("'" + cmd.get(0) + "' is needed for this test (Node.js and npm must be installed): "
          + e.getMessage());
      return null;
    }
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s:\n"
          + Files.readString(log));
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + " failed:\n" + out);
    return out;
  }

  @ParameterizedTest(name = "streamr-client@{0}")
  @ValueSource(strings = {"0.12.2", "0.11.2"})
  void realClientWorksUnchanged(String version) throws Exception {
    Path dir = jsDir(version);
    Files.createDirectories(dir);
    if (!new File(dir.toFile(), "node_modules/streamr-client/package.json").exists()) {
      run(List.of("npm", "install", "--no-audit", "--no-fund", "--silent",
          "streamr-client@" + version), dir, 600);
    }
    Path script = dir.resolve("client-flow.js");
    try (var in = StreamrJsClientTest.class.getResourceAsStream("/streamr-js/client-flow.js")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    String ws = StreamrApiTest.base.replace("http:", "ws:") + "/ws";
    String out = run(List.of("node", script.toString(), StreamrApiTest.base, ws,
        StreamrApiTest.ADMIN), dir, 120);
    assertTrue(out.contains("OK"), out);
  }
}
