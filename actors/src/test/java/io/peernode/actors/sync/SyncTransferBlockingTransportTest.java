package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every transfer case of {@link SyncTransferTest} again, with the client on
 * {@code client.transport = blocking} (the sync CLI's {@link BlockingConnection}) against the
 * same Akka TCP server, and with the staging copy made in the kernel
 * ({@code client.direct-staging-copy = off}).
 */
class SyncTransferBlockingTransportTest extends SyncTransferTest {

  @BeforeAll
  static void start() throws Exception {
    // With the in-kernel staging copy: the other transfer tests use the default, direct writes.
    kit = SyncTestSupport.testKit("sync-transfer-blocking",
        "peer.sync.client.transport = blocking\npeer.sync.client.direct-staging-copy = off");
    registry = new io.prometheus.client.CollectorRegistry();
    root = Files.createDirectories(tmp.resolve("root-blocking"));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), registry);
  }

  @Test
  void theClientIsOnTheBlockingTransport() {
    assertEquals(true, SyncSettings.clientFromConfig(kit.system().settings().config().getConfig("peer.sync"))
        .clientBlockingTransport);
  }

  @Test
  void aPullLargerThanTheReadBufferAndItsReadAheadArrivesWhole() throws Exception {
    // 3 MiB in 64 KiB blocks: many reads of read-bytes (256 KiB), all through the bounded buffer.
    byte[] remote = SyncTestSupport.bytes(3 << 20, 31);
    SyncResult r = pull(remote, null, 64 * KB);
    assertEquals(48, r.blocksTransferred());
  }
}
