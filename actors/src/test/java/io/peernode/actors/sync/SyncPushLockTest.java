package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static io.peernode.actors.sync.SyncTestSupport.countFiles;
import static io.peernode.actors.sync.SyncTestSupport.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.actors.sync.SyncTestSupport.RawClient;
import io.peernode.protocol.sync.Frame;
import io.peernode.protocol.sync.HashTree;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The push lock, staging and crash safety, and the session limit. */
class SyncPushLockTest {

  static ActorTestKit kit;
  @TempDir static Path tmp;
  static int n;

  @BeforeAll
  static void start() {
    kit = SyncTestSupport.testKit("sync-lock");
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  static SyncServer.Binding server(Path root, String overrides) throws Exception {
    return SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, overrides), new CollectorRegistry());
  }

  static String initPush(String name, long size) {
    return "{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"push\",\"filename\":\"" + name
        + "\",\"blockSize\":1024,\"blockCount\":" + HashTree.blockCount(size, 1024) + ",\"size\":" + size + "}";
  }

  @Test
  void secondPushIsDenied409PullSeesOldVersionDisconnectLeavesOldFileAndNoStaging() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    byte[] old = bytes(8192, 1);
    Files.write(root.resolve("f.bin"), old);
    SyncServer.Binding s = server(root, "");
    Path staging = s.root().resolve(".peer-sync-staging");
    try (RawClient a = new RawClient(s.port())) {
      a.frame(initPush("f.bin", 8192)).expect("init");
      // A staging copy exists while the push runs.
      assertEquals(1, countFiles(staging));
      // Block 0 changes in the staging copy only.
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[0]}", new byte[1024]).expect("ack");

      Path other = tmp.resolve("other-" + n);
      Files.write(other, bytes(100, 2));
      var e = assertThrows(ExecutionException.class,
          () -> await(SyncClient.push(kit.system(), "127.0.0.1", s.port(), other, "f.bin", 1024, null)));
      assertEquals(409, ((SyncFailedException) e.getCause()).status());

      Path pulled = tmp.resolve("pulled-" + n);
      await(SyncClient.pull(kit.system(), "127.0.0.1", s.port(), "f.bin", pulled, 1024, null));
      assertArrayEquals(old, Files.readAllBytes(pulled), "pull during a push sees the committed version");
      // The client vanishes mid-push.
    }
    eventually(Duration.ofSeconds(10), "staging copy removed", () -> countFiles(staging) == 0);
    assertArrayEquals(old, Files.readAllBytes(root.resolve("f.bin")));
    // And the lock is free again.
    Path newer = tmp.resolve("newer-" + n);
    byte[] fresh = bytes(5000, 3);
    Files.write(newer, fresh);
    eventually(Duration.ofSeconds(10), "lock released", () -> {
      try {
        await(SyncClient.push(kit.system(), "127.0.0.1", s.port(), newer, "f.bin", 1024, null));
        return true;
      } catch (Exception ex) {
        return false;
      }
    });
    assertArrayEquals(fresh, Files.readAllBytes(root.resolve("f.bin")));
    await(s.unbind());
  }

  @Test
  void endWithAWrongRootCommitsNothingAndAbortingLeavesTheOldFile() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    byte[] old = bytes(3000, 4);
    Files.write(root.resolve("g.bin"), old);
    SyncServer.Binding s = server(root, "");
    try (RawClient a = new RawClient(s.port())) {
      a.frame(initPush("g.bin", 3000)).expect("init");
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[2]}", new byte[3000 - 2048]).expect("ack");
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[2]}", new byte[5]).expect("err");
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[3]}", new byte[1024]).expect("err");
      Frame e = a.frame("{\"command\":\"end\",\"action\":\"push\",\"size\":3000,\"root\":\""
          + "00".repeat(32) + "\"}").expect("err");
      assertTrue(e.json().asText("msg").contains("root mismatch"));
      assertArrayEquals(old, Files.readAllBytes(root.resolve("g.bin")));
      a.frame("{\"command\":\"end\"}").expect("end");
      a.expectClosed();
    }
    eventually(Duration.ofSeconds(10), "staging removed",
        () -> countFiles(s.root().resolve(".peer-sync-staging")) == 0);
    assertArrayEquals(old, Files.readAllBytes(root.resolve("g.bin")));
    await(s.unbind());
  }

  @Test
  void pushCommitWithTheRightRootReplacesTheFile() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    byte[] old = bytes(3000, 5);
    Files.write(root.resolve("h.bin"), old);
    SyncServer.Binding s = server(root, "");
    byte[] next = old.clone();
    next[2100] ^= 1;
    try (RawClient a = new RawClient(s.port())) {
      a.frame(initPush("h.bin", 3000)).expect("init");
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[2]}",
          java.util.Arrays.copyOfRange(next, 2048, 3000)).expect("ack");
      a.frame("{\"command\":\"end\",\"action\":\"push\",\"root\":\"" + HashTree.of(next, 1024).rootHex() + "\"}")
          .expect("end");
      a.expectClosed();
    }
    assertArrayEquals(next, Files.readAllBytes(root.resolve("h.bin")));
    await(s.unbind());
  }

  @Test
  void staleStagingCopiesAreRemovedAtStart() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    Path staging = Files.createDirectories(root.resolve(".peer-sync-staging"));
    Files.write(staging.resolve("crashed.part"), new byte[100]);
    Files.write(root.resolve("k.bin"), new byte[] {1, 2, 3});
    SyncServer.Binding s = server(root, "");
    assertEquals(0, countFiles(staging));
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(root.resolve("k.bin")));
    await(s.unbind());
  }

  @Test
  void maxSessionsThenDeny503WithRetry() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    Files.write(root.resolve("m.bin"), new byte[10]);
    CollectorRegistry registry = new CollectorRegistry();
    SyncServer.Binding s = SyncTestSupport.bind(kit,
        SyncTestSupport.settings(kit, root, "max-sessions = 2\nbusy-retry = 7s"), registry);
    List<RawClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        RawClient c = new RawClient(s.port());
        open.add(c);
        c.frame("{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"pull\",\"filename\":\"m.bin\",\"blockSize\":1024,\"blockCount\":0}")
            .expect("init");
      }
      try (RawClient third = new RawClient(s.port())) {
        Frame d = third.expect("deny");
        assertEquals(503, d.json().asInt("status"));
        assertEquals(7, d.json().asInt("retry"));
        third.expectClosed();
      }
      var e = assertThrows(ExecutionException.class, () -> await(SyncClient.pull(kit.system(),
          "127.0.0.1", s.port(), "m.bin", tmp.resolve("m-" + n), 1024, null)));
      assertEquals(503, ((SyncFailedException) e.getCause()).status());
      assertEquals(7, ((SyncFailedException) e.getCause()).retrySeconds());
      assertEquals(2.0, registry.getSampleValue("peer_sync_denials_total", new String[] {"status"}, new String[] {"503"}));
    } finally {
      for (RawClient c : open) {
        c.close();
      }
    }
    // Sessions end when their clients go; then there is room again.
    eventually(Duration.ofSeconds(10), "sessions closed",
        () -> registry.getSampleValue("peer_sync_active_sessions") == 0.0);
    await(SyncClient.pull(kit.system(), "127.0.0.1", s.port(), "m.bin", tmp.resolve("m-ok-" + n), 1024, null));
    assertFalse(Files.exists(tmp.resolve("m-" + n)));
    await(s.unbind());
  }

  @Test
  void answerLimitAndOtherMinorVersions() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    Files.write(root.resolve("q.bin"), bytes(20 * 1024, 6));
    SyncServer.Binding s = server(root, "max-answer-bytes = 8 KiB");
    try (RawClient c = new RawClient(s.port())) {
      Frame init = c.frame("{\"command\":\"init\",\"version\":[0,9,3],\"action\":\"pull\",\"filename\":\"q.bin\",\"blockSize\":1024,\"blockCount\":0}")
          .expect("init");
      assertEquals(20, init.json().asInt("blockCount"));
      Frame e = c.frame("{\"command\":\"req\",\"dataType\":\"data\",\"index\":[0,1,2,3,4,5,6,7,8]}").expect("err");
      assertTrue(e.json().asText("msg").contains("at most 8192"), e.json().toString());
      assertEquals(8192, c.frame("{\"command\":\"req\",\"dataType\":\"data\",\"index\":[0,1,2,3,4,5,6,7]}")
          .expect("send").binary().length);
    }
    await(s.unbind());
  }

  @Test
  void blocksAtAMovedEndOfFileAreReadBackForTheRootCheck() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    byte[] old = bytes(3000, 7);
    Files.write(root.resolve("s.bin"), old);
    SyncServer.Binding s = server(root, "");
    // Shrink to 2500 without sending anything: block 2 is now the old bytes 2048..2500.
    byte[] shrunk = java.util.Arrays.copyOf(old, 2500);
    try (RawClient a = new RawClient(s.port())) {
      a.frame(initPush("s.bin", 2500)).expect("init");
      a.frame("{\"command\":\"end\",\"action\":\"push\",\"size\":2500,\"root\":\""
          + HashTree.of(shrunk, 1024).rootHex() + "\"}").expect("end");
    }
    assertArrayEquals(shrunk, Files.readAllBytes(root.resolve("s.bin")));
    // Grow to 3500 sending only the new block 3: block 2 is the old tail plus zeros.
    byte[] grown = java.util.Arrays.copyOf(shrunk, 3500);
    for (int i = 3072; i < 3500; i++) {
      grown[i] = (byte) i;
    }
    try (RawClient a = new RawClient(s.port())) {
      a.frame(initPush("s.bin", 3500)).expect("init");
      a.frame("{\"command\":\"send\",\"dataType\":\"data\",\"index\":[3]}",
          java.util.Arrays.copyOfRange(grown, 3072, 3500)).expect("ack");
      a.frame("{\"command\":\"end\",\"action\":\"push\",\"root\":\""
          + HashTree.of(grown, 1024).rootHex() + "\"}").expect("end");
    }
    assertArrayEquals(grown, Files.readAllBytes(root.resolve("s.bin")));
    // And the tree cached at commit is the right one: a pull moves nothing for an equal copy.
    Path local = tmp.resolve("s-local-" + n);
    Files.write(local, grown);
    SyncResult r = await(SyncClient.pull(kit.system(), "127.0.0.1", s.port(), "s.bin", local, 1024, null));
    assertEquals(0, r.blocksTransferred());
    await(s.unbind());
  }

  @Test
  void treeCacheIsBoundedInBytes() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root-" + (++n)));
    Files.write(root.resolve("t.bin"), bytes(30 * 1024, 8));
    CollectorRegistry registry = new CollectorRegistry();
    SyncServer.Binding s = SyncTestSupport.bind(kit,
        SyncTestSupport.settings(kit, root, "tree-cache-bytes = 1 KiB"), registry);
    for (int i = 0; i < 2; i++) {
      await(SyncClient.pull(kit.system(), "127.0.0.1", s.port(), "t.bin", tmp.resolve("t-" + n + "-" + i), 1024, null));
    }
    // 32 leaves = 63 nodes = 2016 bytes > 1 KiB: never kept, hashed for each session.
    assertEquals(2.0, registry.getSampleValue("peer_sync_trees_hashed_total"));
    await(s.unbind());
  }
}
