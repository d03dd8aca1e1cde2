package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SyncSettingsTest {

  private final SyncSettings settings =
      SyncSettings.fromConfig(ConfigFactory.load().getConfig("peer.sync"), Path.of("/tmp/unused-root"));

  @Test
  void theDefaultBlockSizeIsThePowerOfTwoNearestTheSquareRootOfTheLocalCopy() {
    assertEquals(32 << 10, settings.blockSizeFor(1L << 30), "1 GiB: 32 KiB, as rsync");
    assertEquals(32 << 10, settings.blockSizeFor(805_306_368L), "sqrt = 28,378: nearer 32 KiB than 16 KiB");
    assertEquals(16 << 10, settings.blockSizeFor(300_000_000L), "sqrt = 17,321: nearer 16 KiB");
    assertEquals(1 << 20, settings.blockSizeFor(1L << 40), "sqrt = 1 MiB");
  }

  @Test
  void itStaysWithinItsBoundsAndUsesTheLargestWithoutALocalCopy() {
    assertEquals(8 << 10, settings.blockSizeFor(0));
    assertEquals(8 << 10, settings.blockSizeFor(1000));
    assertEquals(1 << 20, settings.blockSizeFor(1L << 50));
    assertEquals(1 << 20, settings.blockSizeFor(-1), "nothing to reuse: fewest hashes");
  }

  @Test
  void anUnknownClientTransportIsAClearError() {
    var c = com.typesafe.config.ConfigFactory.parseString("client.transport = udp")
        .withFallback(com.typesafe.config.ConfigFactory.load().getConfig("peer.sync"));
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> SyncSettings.clientFromConfig(c));
    assertEquals("peer.sync.client.transport must be akka or blocking, not 'udp'", e.getMessage());
    assertEquals(false, settings.clientBlockingTransport, "Akka TCP by default");
  }
}
