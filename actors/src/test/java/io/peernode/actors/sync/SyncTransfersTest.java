package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.prometheus.client.CollectorRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyncTransfersTest {

  static ActorTestKit kit;
  static SyncServer.Binding server;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kit = SyncTestSupport.testKit("sync-transfers");
    Path root = Files.createDirectories(tmp.resolve("root"));
    Files.write(root.resolve("a.bin"), SyncTestSupport.bytes(50_000, 1));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), new CollectorRegistry());
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
  }

  @Test
  void startReportsFinishedAndStatusListsRecentTransfers() {
    ActorRef<SyncTransfers.Command> transfers = kit.spawn(SyncTransfers.create(
        SyncTestSupport.settings(kit, null, ""), 2));
    TestProbe<SyncTransfers.Finished> done = kit.createTestProbe();
    transfers.tell(new SyncTransfers.Start(Action.PULL, "127.0.0.1", server.port(), "a.bin",
        tmp.resolve("a.bin"), 1024, "node-b", done.getRef()));
    SyncTransfers.Finished f = done.receiveMessage(Duration.ofSeconds(30));
    assertTrue(f.ok(), f.error());
    assertEquals(49, f.result().blocksTransferred());

    transfers.tell(new SyncTransfers.Start(Action.PULL, "127.0.0.1", server.port(), "missing.bin",
        tmp.resolve("m.bin"), 1024, "node-b", done.getRef()));
    SyncTransfers.Finished bad = done.receiveMessage(Duration.ofSeconds(30));
    assertEquals(404, bad.status());
    assertNull(bad.result());

    TestProbe<SyncTransfers.Status> status = kit.createTestProbe();
    transfers.tell(new SyncTransfers.GetStatus(status.getRef()));
    var rows = status.receiveMessage().transfers();
    assertEquals(2, rows.size());
    assertEquals("failed", rows.get(0).state());
    assertEquals("done", rows.get(1).state());
    assertEquals("node-b", rows.get(1).peer());
    assertTrue(rows.get(1).bytesOnWire() > 50_000);
  }

  @Test
  void oneTransferMoreThanTheBoundIsRefusedAtOnce() throws Exception {
    // A peer that accepts and never answers keeps the first transfer running.
    try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ActorRef<SyncTransfers.Command> transfers = kit.spawn(SyncTransfers.create(
          SyncTestSupport.settings(kit, null, "client.max-running-transfers = 1\nclient.timeout = 60s"), 5));
      TestProbe<SyncTransfers.Finished> first = kit.createTestProbe();
      TestProbe<SyncTransfers.Finished> second = kit.createTestProbe();
      transfers.tell(new SyncTransfers.Start(Action.PULL, "127.0.0.1", silent.getLocalPort(), "a.bin",
          tmp.resolve("bound-1.bin"), 1024, "node-c", first.getRef()));
      try (Socket accepted = silent.accept()) {
        transfers.tell(new SyncTransfers.Start(Action.PULL, "127.0.0.1", server.port(), "a.bin",
            tmp.resolve("bound-2.bin"), 1024, "node-b", second.getRef()));
        SyncTransfers.Finished refused = second.receiveMessage(Duration.ofSeconds(10));
        assertEquals(503, refused.status());
        assertTrue(refused.error().contains("too many transfers running (1)"), refused.error());
        TestProbe<SyncTransfers.Status> status = kit.createTestProbe();
        transfers.tell(new SyncTransfers.GetStatus(status.getRef()));
        var rows = status.receiveMessage().transfers();
        assertEquals(1, rows.size(), "the refused transfer is not listed");
        assertEquals("running", rows.get(0).state());
      }
      // The silent peer hung up: the first transfer ends, and the next one may run.
      assertTrue(!first.receiveMessage(Duration.ofSeconds(30)).ok());
      transfers.tell(new SyncTransfers.Start(Action.PULL, "127.0.0.1", server.port(), "a.bin",
          tmp.resolve("bound-3.bin"), 1024, "node-b", second.getRef()));
      SyncTransfers.Finished after = second.receiveMessage(Duration.ofSeconds(30));
      assertTrue(after.ok(), after.error());
    }
  }
}
