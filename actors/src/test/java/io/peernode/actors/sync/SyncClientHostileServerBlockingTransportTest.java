package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.sync.SyncMessage.Action;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hostile-server cases of {@link SyncClientHostileServerTest} with the client on
 * {@code client.transport = blocking}: the same clear errors, and a client that gives up closes
 * its socket (a read blocked on a silent server does not keep it open).
 */
class SyncClientHostileServerBlockingTransportTest extends SyncClientHostileServerTest {

  @BeforeAll
  static void start() {
    errors = SyncTestSupport.captureErrors();
    kit = SyncTestSupport.testKit("sync-client-hostile-blocking", "peer.sync.client.transport = blocking");
  }

  @Test
  void aClientThatTimesOutOnASilentServerClosesItsSocket() throws Exception {
    Path local = Files.createTempFile(tmp, "local", ".bin");
    Files.write(local, LOCAL);
    try (ServerSocket ss = new ServerSocket(0)) {
      CompletableFuture<Boolean> sawEof = new CompletableFuture<>();
      Thread fake = new Thread(() -> {
        try (Socket s = ss.accept()) {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[4096];
          while (in.read(buf) >= 0) {
            // never answers; reads until the client closes
          }
          sawEof.complete(true);
        } catch (Exception e) {
          sawEof.complete(true); // a reset is a close too
        }
      });
      fake.start();
      SyncSettings settings = SyncTestSupport.settings(kit, null, "client.timeout = 1s\nclient.hash-timeout = 1s");
      var e = assertThrows(ExecutionException.class, () -> SyncTestSupport.await(SyncClient.run(kit.system(),
          settings, Action.PULL, "127.0.0.1", ss.getLocalPort(), "f.bin", local, 1024, null)));
      assertTrue(e.getCause().getMessage().contains("timed out"), e.getCause().getMessage());
      assertTrue(sawEof.get(10, TimeUnit.SECONDS), "the server saw the client's socket close");
      fake.join(10_000);
      assertFalse(fake.isAlive());
    }
  }

  @Test
  void nobodyListeningIsACannotConnect() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0)) {
      port = ss.getLocalPort(); // closed again: nothing listens there now
    }
    Path local = Files.createTempFile(tmp, "local", ".bin");
    SyncSettings settings = SyncTestSupport.settings(kit, null, "");
    var e = assertThrows(ExecutionException.class, () -> SyncTestSupport.await(SyncClient.run(kit.system(),
        settings, Action.PULL, "127.0.0.1", port, "f.bin", local, 1024, null)));
    assertTrue(e.getCause().getMessage().startsWith("cannot connect to 127.0.0.1:" + port), e.getCause().getMessage());
  }
}
