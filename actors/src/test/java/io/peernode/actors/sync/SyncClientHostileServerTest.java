package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncMessage;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a server that misbehaves: every case ends in a SyncFailedException, the
 * local file stays as it was, no staging copy is left, and nothing is logged at ERROR.
 */
class SyncClientHostileServerTest {

  static ActorTestKit kit;
  static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> errors;
  @TempDir static Path tmp;
  static final byte[] LOCAL = SyncTestSupport.bytes(5000, 3);

  @BeforeAll
  static void start() {
    errors = SyncTestSupport.captureErrors();
    kit = SyncTestSupport.testKit("sync-client-hostile");
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
    assertEquals(java.util.List.of(), errors.list.stream().map(e -> e.getFormattedMessage()).toList());
  }

  /** Runs a pull against a one-connection fake server that answers init with {@code answer}. */
  static SyncFailedException pullAgainst(Function<byte[], byte[]> answer) throws Exception {
    return pullAgainst(answer, "10s");
  }

  static SyncFailedException pullAgainst(Function<byte[], byte[]> answer, String timeout) throws Exception {
    Path local = Files.createTempFile(tmp, "local", ".bin");
    Files.write(local, LOCAL);
    try (ServerSocket ss = new ServerSocket(0)) {
      Thread fake = new Thread(() -> {
        try (Socket s = ss.accept()) {
          InputStream in = s.getInputStream();
          byte[] buf = new byte[4096];
          int n = in.read(buf); // the init frame (small, arrives whole on loopback)
          s.getOutputStream().write(answer.apply(java.util.Arrays.copyOf(buf, Math.max(0, n))));
          s.getOutputStream().flush();
          while (in.read(buf) >= 0) {
            // hold the connection until the client gives up
          }
        } catch (Exception ignored) {
          // the client closed
        }
      });
      fake.start();
      SyncSettings settings = SyncTestSupport.settings(kit, null,
          "client.timeout = " + timeout + "\nclient.hash-timeout = " + timeout);
      var e = assertThrows(ExecutionException.class, () -> SyncTestSupport.await(SyncClient.run(kit.system(),
          settings, Action.PULL, "127.0.0.1", ss.getLocalPort(), "f.bin", local, 1024, null)));
      fake.join(10_000);
      assertArrayEquals(LOCAL, Files.readAllBytes(local), "the local file is untouched");
      SyncTestSupport.eventually(java.time.Duration.ofSeconds(5), "no staging copy", () -> {
        try (Stream<Path> s = Files.list(tmp)) {
          return s.noneMatch(p -> p.getFileName().toString().contains(".peer-sync-"));
        } catch (java.io.IOException ex) {
          return false;
        }
      });
      assertTrue(e.getCause() instanceof SyncFailedException, e.getCause().toString());
      return (SyncFailedException) e.getCause();
    }
  }

  static byte[] frames(SyncMessage... ms) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (SyncMessage m : ms) {
      out.writeBytes(FrameEncoder.encode(m));
    }
    return out.toByteArray();
  }

  @Test
  void garbageInsteadOfAFrame() throws Exception {
    var e = pullAgainst(init -> "HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertTrue(e.getMessage().contains("bad frame"), e.getMessage());
  }

  @Test
  void silence() throws Exception {
    var e = pullAgainst(init -> new byte[0], "1s");
    assertTrue(e.getMessage().contains("timed out"), e.getMessage());
  }

  @Test
  void inconsistentInitReply() throws Exception {
    var e = pullAgainst(init -> frames(new SyncMessage.InitReply(SyncMessage.VERSION, 1024, 7, 100, "00".repeat(32))));
    assertTrue(e.getMessage().contains("inconsistent"), e.getMessage());
  }

  @Test
  void otherMajorVersion() throws Exception {
    var e = pullAgainst(init -> frames(new SyncMessage.InitReply(new int[] {1, 0, 0}, 1024, 1, 100, "00".repeat(32))));
    assertEquals(426, e.status());
  }

  @Test
  void blocksNobodyAskedForAndWrongHashes() throws Exception {
    HashTree remote = HashTree.of(SyncTestSupport.bytes(5000, 4), 1024);
    var e = pullAgainst(init -> frames(
        new SyncMessage.InitReply(SyncMessage.VERSION, 1024, 5, 5000, remote.rootHex()),
        new SyncMessage.Send(SyncMessage.DataType.DATA, new int[] {0}, new byte[1024])));
    assertTrue(e.getMessage().contains("other nodes") || e.getMessage().contains("unexpected"), e.getMessage());
  }

  @Test
  void dataThatDoesNotMatchTheRootIsNotRenamedIntoPlace() throws Exception {
    // The server claims a one-block file, then sends bytes that do not hash to its root.
    byte[] claimed = SyncTestSupport.bytes(1000, 5);
    HashTree t = HashTree.of(claimed, 1024);
    var e = pullAgainst(init -> frames(
        new SyncMessage.InitReply(SyncMessage.VERSION, 1024, 1, 1000, t.rootHex()),
        new SyncMessage.Send(SyncMessage.DataType.DATA, new int[] {0}, new byte[1000])));
    assertTrue(e.getMessage().contains("does not hash"), e.getMessage());
  }

  @Test
  void denyCarriesStatusAndRetry() throws Exception {
    var e = pullAgainst(init -> frames(new SyncMessage.Deny(9, 503, "busy")));
    assertEquals(503, e.status());
    assertEquals(9, e.retrySeconds());
  }
}
