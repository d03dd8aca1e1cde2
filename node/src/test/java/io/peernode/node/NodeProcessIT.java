package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.Eventually;
import io.peernode.node.testkit.NodeProcess;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes as separate processes from the built jar, driven only through their CLI and HTTP. */
class NodeProcessIT {

  @TempDir
  Path dir;

  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() {
    nodes.forEach(NodeProcess::close);
  }

  private NodeProcess start(String name, String... args) {
    NodeProcess node = NodeProcess.start(dir.resolve(name), args);
    nodes.add(node);
    return node;
  }

  private static List<String> peerIds(NodeProcess node) throws Exception {
    List<String> ids = new ArrayList<>();
    for (JsonNode peer : RpcClient.forPort(node.httpPort()).call("node_peers")) {
      ids.add(peer.get(0).textValue());
    }
    return ids;
  }

  private static JsonNode health(NodeProcess node) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return RpcClient.mapper().readTree(r.body());
  }

  @Test
  void threeProcessesFormAClusterAndAKilledNodeIsRemoved() throws Exception {
    long t0 = System.nanoTime();
    NodeProcess a = start("a");
    NodeProcess b = start("b", "--seed", a.seed());
    NodeProcess c = start("c", "--seed", a.seed());
    for (NodeProcess n : List.of(a, b, c)) {
      Eventually.await(Duration.ofSeconds(30), () -> assertEquals(2, peerIds(n).size(), "peers of " + n.nodeId()));
    }
    System.out.printf("MEASURE cluster-of-3 formed in %d ms (ready a=%d b=%d c=%d ms)%n",
        (System.nanoTime() - t0) / 1_000_000, a.readyMillis(), b.readyMillis(), c.readyMillis());
    assertTrue(peerIds(a).containsAll(List.of(b.nodeId(), c.nodeId())));
    JsonNode peerOfB = null;
    for (JsonNode peer : RpcClient.forPort(a.httpPort()).call("node_peers")) {
      if (peer.get(0).textValue().equals(b.nodeId())) {
        peerOfB = peer;
      }
    }
    assertEquals("127.0.0.1", peerOfB.get(1).textValue());
    assertEquals(b.clusterPort(), peerOfB.get(2).intValue());

    long killed = System.nanoTime();
    c.kill9();
    Eventually.await(Duration.ofSeconds(20), () -> {
      assertFalse(peerIds(a).contains(c.nodeId()));
      assertFalse(peerIds(b).contains(c.nodeId()));
    });
    long unlisted = (System.nanoTime() - killed) / 1_000_000;
    Eventually.await(Duration.ofSeconds(30), () ->
        assertFalse(health(a).get("members").toString().contains(c.nodeId()), "still a member"));
    System.out.printf("MEASURE kill -9: gone from node_peers in %d ms, removed from the cluster in %d ms%n",
        unlisted, (System.nanoTime() - killed) / 1_000_000);

    // The same data dir keeps the identity, and the node rejoins.
    String idBefore = c.nodeId();
    c.restart();
    assertEquals(idBefore, c.nodeId());
    Eventually.await(Duration.ofSeconds(30), () -> assertTrue(peerIds(a).contains(c.nodeId())));
  }

  @Test
  void sigtermLeavesGracefullyAndExitsZero() throws Exception {
    NodeProcess a = start("a");
    NodeProcess b = start("b", "--seed", a.seed());
    Eventually.await(Duration.ofSeconds(30), () -> assertEquals(1, peerIds(a).size()));
    long t = System.nanoTime();
    assertEquals(0, b.terminate(Duration.ofSeconds(10)));
    System.out.printf("MEASURE SIGTERM to exit: %d ms%n", (System.nanoTime() - t) / 1_000_000);
    // A graceful leave removes the member at once, without waiting for the failure detector.
    Eventually.await(Duration.ofSeconds(5), () -> {
      assertEquals(0, peerIds(a).size());
      assertFalse(health(a).get("members").toString().contains(b.nodeId()));
    });
  }

  @Test
  void theCallCommandPrintsResultsAndErrors() throws Exception {
    NodeProcess a = start("a");
    String url = "http://127.0.0.1:" + a.httpPort();
    NodeProcess.Result id = NodeProcess.run(Duration.ofSeconds(30), "call", "--url", url, "node_id");
    assertEquals(0, id.exitCode, id.toString());
    assertEquals("\"" + a.nodeId() + "\"", id.stdout.strip());
    NodeProcess.Result unknown = NodeProcess.run(Duration.ofSeconds(30), "call", "--url", url, "no_such_method");
    assertEquals(1, unknown.exitCode, unknown.toString());
    assertTrue(unknown.stderr.contains("-32601") && unknown.stderr.contains("no_such_method"), unknown.toString());
    NodeProcess.Result params = NodeProcess.run(Duration.ofSeconds(30), "call", "--url", url, "node_id", "42");
    assertEquals(1, params.exitCode, params.toString());
    assertTrue(params.stderr.contains("-32602"), params.toString());
    NodeProcess.Result usage = NodeProcess.run(Duration.ofSeconds(30), "call", "--url");
    assertEquals(2, usage.exitCode, usage.toString());
  }

  @Test
  void theSyncCommandPullsFromANodeProcess() throws Exception {
    NodeProcess a = start("a");
    byte[] data = new byte[300_000];
    new java.util.Random(7).nextBytes(data);
    Files.createDirectories(a.dataDir.resolve("sync"));
    Files.write(a.dataDir.resolve("sync/file.bin"), data);
    Path local = dir.resolve("local.bin");
    NodeProcess.Result pull = NodeProcess.run(Duration.ofSeconds(60), "sync", "pull", "127.0.0.1:" + a.syncPort(),
        "file.bin", local.toString(), "--block-size", "65536");
    assertEquals(0, pull.exitCode, pull.toString());
    org.junit.jupiter.api.Assertions.assertArrayEquals(data, Files.readAllBytes(local));
    NodeProcess.Result missing = NodeProcess.run(Duration.ofSeconds(60), "sync", "pull", "127.0.0.1:" + a.syncPort(),
        "missing.bin", dir.resolve("m.bin").toString());
    assertEquals(1, missing.exitCode, missing.toString());
    assertTrue(missing.stderr.contains("404") || missing.stdout.contains("404"), missing.toString());
  }

  @Test
  void badCommandLinesExitTwoWithOneLineNamingTheProblem() throws Exception {
    NodeProcess.Result unknown = NodeProcess.run(Duration.ofSeconds(30), "--bogus");
    assertEquals(2, unknown.exitCode, unknown.toString());
    assertTrue(unknown.stderr.contains("--bogus"), unknown.toString());
    assertEquals(1, unknown.stderr.strip().lines().count(), unknown.toString());

    NodeProcess.Result port = NodeProcess.run(Duration.ofSeconds(30), "--http-port", "eighty");
    assertEquals(2, port.exitCode, port.toString());
    assertTrue(port.stderr.contains("--http-port"), port.toString());

    Path conf = dir.resolve("bad.conf");
    Files.writeString(conf, "peer.sync-port = -5\n");
    NodeProcess.Result config = NodeProcess.run(Duration.ofSeconds(30), "--config", conf.toString(), "--data-dir", dir.resolve("x").toString());
    assertEquals(2, config.exitCode, config.toString());
    assertTrue(config.stderr.contains("peer.sync-port"), config.toString());

    NodeProcess.Result help = NodeProcess.run(Duration.ofSeconds(30), "--help");
    assertEquals(0, help.exitCode);
    assertTrue(help.stdout.contains("--seed HOST:PORT"), help.toString());
  }

  @Test
  void aPortInUseOrABadDataDirIsAClearErrorNotAStackTrace() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      NodeProcess.Result r = NodeProcess.run(Duration.ofSeconds(60), "--data-dir", dir.resolve("p").toString(),
          "--cluster-port", "0", "--sync-port", "0", "--http-port", String.valueOf(taken.getLocalPort()));
      assertEquals(1, r.exitCode, r.toString());
      assertTrue(r.stderr.contains("cannot bind HTTP") && r.stderr.contains(String.valueOf(taken.getLocalPort())), r.toString());
      assertFalse(r.stderr.contains("\tat "), "no stack trace: " + r);

      NodeProcess.Result cluster = NodeProcess.run(Duration.ofSeconds(60), "--data-dir", dir.resolve("q").toString(),
          "--http-port", "0", "--sync-port", "0", "--cluster-port", String.valueOf(taken.getLocalPort()));
      assertEquals(1, cluster.exitCode, cluster.toString());
      assertTrue(cluster.stderr.contains("cluster port " + taken.getLocalPort()), cluster.toString());
    }

    Path notADir = dir.resolve("file");
    Files.writeString(notADir, "x");
    NodeProcess.Result r = NodeProcess.run(Duration.ofSeconds(30), "--data-dir", notADir.toString(), "--http-port", "0", "--cluster-port", "0");
    assertEquals(1, r.exitCode, r.toString());
    assertTrue(r.stderr.contains("data dir") && r.stderr.contains("not writable"), r.toString());

    Path corrupt = dir.resolve("corrupt");
    Files.createDirectories(corrupt);
    Files.writeString(corrupt.resolve("node.key"), "garbage\n");
    NodeProcess.Result k = NodeProcess.run(Duration.ofSeconds(30), "--data-dir", corrupt.toString(), "--http-port", "0", "--cluster-port", "0");
    assertEquals(1, k.exitCode, k.toString());
    assertTrue(k.stderr.contains("node.key") && k.stderr.contains("refusing to start"), k.toString());
  }

  @Test
  void aNodeOfItsOwnInstallsTheJitPolicyItIsGiven() throws Exception {
    Path conf = dir.resolve("jit.conf");
    Files.writeString(conf, "peer.jit.c2-only = [\"io/peernode/*.*\", \"java/lang/*.*\"]");
    NodeProcess a = start("a", "--config", conf.toString());
    // jcmd asks the JVM itself which compiler directives it holds.
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(a.pid()), "Compiler.directives_print").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    // Ours first (C2 allowed for the patterns), then the rest kept from C2, then the JVM's default.
    int ours = out.indexOf("io/peernode/*.*");
    int rest = out.indexOf("matching: *.*", ours);
    assertTrue(ours > 0 && rest > ours, out);
    assertTrue(out.substring(rest).contains("Exclude:true"), out);
  }
}
