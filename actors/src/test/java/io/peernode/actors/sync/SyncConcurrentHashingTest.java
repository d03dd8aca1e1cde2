package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.prometheus.client.CollectorRegistry;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client sends init before it has hashed its local copy, so both sides hash at once. When
 * the server answers long before the client's tree is there, the client's keep-alives hold the
 * session open past the server's idle timeout, and the transfer then goes on as usual.
 */
class SyncConcurrentHashingTest {

  static ActorTestKit kit;
  static SyncServer.Binding server;
  static Path root;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kit = SyncTestSupport.testKit("sync-concurrent-hashing");
    root = Files.createDirectories(tmp.resolve("root"));
    // Far shorter than hashing the client's 2 GiB local copy below takes on any machine (SHA-256
    // runs at most ~1.2 GB/s here), and ten keep-alive periods long, so a loaded machine's late
    // timer does not end the session either.
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, "idle-timeout = 1s"),
        new CollectorRegistry());
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
  }

  @Test
  void aClientStillHashingItsCopyOutlivesTheServersIdleTimeout() throws Exception {
    byte[] remote = bytes(3000, 21);
    Files.write(root.resolve("small.bin"), remote);
    Path local = tmp.resolve("large-local.bin");
    try (RandomAccessFile f = new RandomAccessFile(local.toFile(), "rw")) {
      f.setLength(2L << 30); // sparse: costs hashing, not disk
    }
    SyncSettings client = SyncTestSupport.settings(kit, null, "client.keep-alive = 100ms");

    SyncResult r = await(SyncClient.run(kit.system(), client, Action.PULL, "127.0.0.1",
        server.port(), "small.bin", local, 4096, null));

    assertArrayEquals(remote, Files.readAllBytes(local));
    assertEquals(1, r.blocksTransferred());
    SyncTransferTest.assertNoStaging(tmp);
  }
}
