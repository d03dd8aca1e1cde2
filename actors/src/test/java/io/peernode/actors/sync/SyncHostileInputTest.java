package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.actors.sync.SyncTestSupport.RawClient;
import io.peernode.protocol.sync.Frame;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile input on a raw socket, byte-exact: each case gets the deny/err the spec says, and
 * after each one the server still serves a normal pull.
 */
class SyncHostileInputTest {

  static ActorTestKit kit;
  static SyncServer.Binding server;
  static Path root;
  static Path outside;
  static byte[] content = bytes(10_000, 11);
  static CollectorRegistry registry = new CollectorRegistry();
  @TempDir static Path tmp;

  static final String PULL = "{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"pull\",\"filename\":\"f.bin\",\"blockSize\":1024,\"blockCount\":0}";

  static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> errors;

  @BeforeAll
  static void start() throws Exception {
    errors = SyncTestSupport.captureErrors();
    kit = SyncTestSupport.testKit("sync-hostile");
    root = Files.createDirectories(tmp.resolve("root"));
    outside = Files.createDirectories(tmp.resolve("outside"));
    Files.write(outside.resolve("secret.txt"), "secret".getBytes());
    Files.write(root.resolve("f.bin"), content);
    Files.createSymbolicLink(root.resolve("out-link"), outside.resolve("secret.txt"));
    Files.createSymbolicLink(root.resolve("out-dir"), outside);
    Files.createSymbolicLink(root.resolve("in-link"), root.resolve("f.bin"));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, "idle-timeout = 2s"), registry);
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
    assertEquals(java.util.List.of(), errors.list.stream().map(e -> e.getFormattedMessage()).toList(),
        "hostile input never shows up as an ERROR");
  }

  @AfterEach
  void stillServing() throws Exception {
    Path local = tmp.resolve("check.bin");
    Files.deleteIfExists(local);
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "f.bin", local, 1024, null));
    assertArrayEquals(content, Files.readAllBytes(local));
    assertArrayEquals("secret".getBytes(), Files.readAllBytes(outside.resolve("secret.txt")));
    try (var s = Files.list(outside)) {
      assertEquals(1, s.count(), "nothing written outside the root");
    }
  }

  static String init(String action, String filenameJson) {
    return "{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"" + action + "\",\"filename\":"
        + filenameJson + ",\"blockSize\":1024,\"blockCount\":1,\"size\":10}";
  }

  static void expectDeny(String frameJson, int status) throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      Frame f = c.frame(frameJson).expect("deny");
      assertEquals(status, f.json().asInt("status"), f.json().toString());
      assertTrue(f.json().asText("msg").length() > 0);
      c.expectClosed();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"../f.bin\"", "\"a/../../f.bin\"", "\"/etc/passwd\"", "\"a\\u0000b\"",
      "\"a//b\"", "\"\"", "\"out-link\"", "\"out-dir/secret.txt\"", "\"out-dir/new.txt\"",
      "\".peer-sync-staging/x\""})
  void badNamesAreDenied400ForPullAndPush(String name) throws Exception {
    expectDeny(init("pull", name), 400);
    expectDeny(init("push", name), 400);
  }

  @Test
  void symlinkInsideTheRootIsFollowed() throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      Frame f = c.frame(init("pull", "\"in-link\"")).expect("init");
      assertEquals(content.length, f.json().asLong("size"));
    }
  }

  @Test
  void badParametersAndVersions() throws Exception {
    expectDeny(PULL.replace("[0,1,0]", "[1,0,0]"), 426);
    expectDeny(PULL.replace("1024", "512"), 400);
    expectDeny(PULL.replace("1024", "3000"), 400);
    expectDeny(PULL.replace("1024", "33554432"), 400);
    expectDeny(PULL.replace("f.bin", "missing.bin"), 404);
    expectDeny(PULL.replace("\"pull\"", "\"steal\""), 400);
    expectDeny(init("push", "\"n.bin\"").replace("\"blockCount\":1", "\"blockCount\":5"), 400);
    // Numbers that would overflow size arithmetic.
    expectDeny("{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"push\",\"filename\":\"n.bin\",\"blockSize\":1024,\"blockCount\":9223372036854775807}", 400);
    expectDeny("{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"push\",\"filename\":\"n.bin\",\"blockSize\":1024,\"blockCount\":1,\"size\":9223372036854775807}", 400);
    expectDeny(PULL.replace("1024", "9223372036854775807"), 400);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "json-length: 99999999999\nbin-length: 0\n",
      "json-length: 9999999999\nbin-length: 0\n",
      "json-length: 10\nbin-length: 999999999\n",
      "json-length: -5\nbin-length: 0\n",
      "json-length: abc\nbin-length: 0\n",
      "json-length: 17 bin-length: 0\n{\"command\":\"end\"}",
      "json-length: 5\nbin-length: 0\n{oops",
      "json-length: 18\nbin-length: 0\n{\"command\":\"nope\"}",
      "json-length: 12\nbin-length: 0\n{\"cmd\":\"end\"}",
      "json-length: 2\nbin-length: 0\n[]",
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
  })
  void malformedFramesGetErrAndTheConnectionCloses(String raw) throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      Frame f = c.write(raw).expect("err");
      assertFalse(f.json().asText("msg").isEmpty());
      c.expectClosed();
    }
  }

  @Test
  void reqBeforeInitGetsErrAndCloses() throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      c.frame("{\"command\":\"req\",\"dataType\":\"hash\",\"index\":[0]}").expect("err");
      c.expectClosed();
    }
  }

  @Test
  void badRequestsInAnOpenSessionGetErrAndTheSessionGoesOn() throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      Frame init = c.frame(PULL).expect("init");
      assertEquals(10, init.json().asInt("blockCount"));
      assertEquals(16, HashTreeNodes.leaves(10));
      // out of range: node 31 (2L-1 = 31 nodes), block 10
      c.frame("{\"command\":\"req\",\"dataType\":\"hash\",\"index\":[0,31]}").expect("err");
      c.frame("{\"command\":\"req\",\"dataType\":\"data\",\"index\":[10]}").expect("err");
      StringBuilder many = new StringBuilder("[");
      for (int i = 0; i < 4097; i++) {
        many.append(i == 0 ? "" : ",").append(0);
      }
      c.frame("{\"command\":\"req\",\"dataType\":\"hash\",\"index\":" + many + "]}").expect("err");
      c.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[0]}", new byte[1024]).expect("err");
      c.frame("{\"command\":\"req\",\"dataType\":\"bogus\",\"index\":[0]}").expect("err");
      c.frame(PULL).expect("err");
      // and it still answers properly
      Frame h = c.frame("{\"command\":\"req\",\"dataType\":\"hash\",\"index\":[1,2]}").expect("send");
      assertEquals(64, h.binary().length);
      Frame d = c.frame("{\"command\":\"req\",\"dataType\":\"data\",\"index\":[9,0]}").expect("send");
      assertEquals(10_000 - 9 * 1024 + 1024, d.binary().length);
      c.frame("{\"command\":\"end\"}").expect("end");
      c.expectClosed();
    }
  }

  @Test
  void halfAFrameThenSilenceHitsTheIdleTimeout() throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      long t0 = System.nanoTime();
      Frame f = c.write("json-length: 40\nbin-length: 0\n{\"comm").expect("err");
      assertTrue(f.json().asText("msg").contains("idle"), f.json().toString());
      c.expectClosed();
      assertTrue(Duration.ofNanos(System.nanoTime() - t0).compareTo(Duration.ofMillis(1900)) > 0);
    }
    try (RawClient c = new RawClient(server.port())) {
      c.frame(PULL).expect("init");
      c.expect("err"); // idle after init too
      c.expectClosed();
    }
  }

  @Test
  void headerAnnouncingTheMaximumThenSilenceAllocatesNothingAndTimesOut() throws Exception {
    try (RawClient c = new RawClient(server.port())) {
      c.write("json-length: 65536\nbin-length: 67108864\n").expect("err");
      c.expectClosed();
    }
  }

  static final class HashTreeNodes {
    static int leaves(long blocks) {
      return io.peernode.protocol.sync.HashTree.leafCount(blocks);
    }
  }
}
