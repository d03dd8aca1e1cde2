package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.sync.Frame;
import io.peernode.protocol.sync.FrameDecoder;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every pull case of {@link SyncTransferTest} again on the blocking transport, each begun by a
 * {@link PullHeadStart} (connection, init, local file and staging copy before the session, as
 * the sync CLI does), and what a head start does on its own.
 */
class SyncPullHeadStartTest extends SyncTransferBlockingTransportTest {

  @BeforeAll
  static void start() throws Exception {
    // the sync CLI's client: blocking transport, staging copy written past the page cache
    kit = SyncTestSupport.testKit("sync-head-start", "peer.sync.client.transport = blocking");
    registry = new io.prometheus.client.CollectorRegistry();
    root = Files.createDirectories(tmp.resolve("root-head-start"));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), registry);
    headStart = true;
  }

  @AfterAll
  static void headStartOff() {
    headStart = false;
  }

  @Test
  void theStagingCopyIsWrittenPastThePageCache() {
    assertTrue(clientSettings().clientDirectStagingCopyChunk > 0);
  }

  @Test
  void aDeltaOfAFileOfNoWholeFileSystemBlocksAndOfOneWithAShortTailArriveWhole() throws Exception {
    // copied past the page cache in whole file-system blocks, the tail through the page cache
    for (int n : new int[] {100, 4095, 4097, 3 * 4096, (9 << 20) + 123}) {
      byte[] remote = bytes(n, n);
      byte[] local = remote.clone();
      local[n / 2] ^= 1;
      SyncResult r = pull(remote, local, KB);
      assertEquals(1, r.blocksTransferred(), "size " + n);
    }
  }

  @Test
  void theInitGoesOutBeforeAnySessionExists() throws Exception {
    Path local = tmp.resolve("head-start-init.bin");
    Files.write(local, bytes(10_000, 3));
    try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      listener.setSoTimeout(15_000);
      PullHeadStart h = PullHeadStart.begin(clientSettings(), "127.0.0.1", listener.getLocalPort(),
          "some/file.bin", local, 4 * KB);
      try (Socket s = listener.accept()) {
        s.setSoTimeout(15_000);
        Frame f = readFrame(s.getInputStream());
        assertEquals("init", f.command());
        assertEquals("pull", f.json().asText("action"));
        assertEquals("some/file.bin", f.json().asText("filename"));
        assertEquals(4 * KB, f.json().asInt("blockSize"));
        assertEquals(3, f.json().asLong("blockCount"));
        assertEquals(10_000, f.json().asLong("size"));
      } finally {
        h.abandon();
      }
    }
    SyncTestSupport.eventually(Duration.ofSeconds(10), "the head start's staging copy removed",
        () -> noStaging(tmp));
  }

  @Test
  void aHeadStartWithNoServerFailsThePullAndLeavesTheFileAndNoStagingCopy() throws Exception {
    byte[] old = bytes(300_000, 4);
    Path dir = Files.createDirectories(tmp.resolve("head-start-refused"));
    Path local = dir.resolve("file.bin");
    Files.write(local, old);
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    var f = SyncClient.pull(kit.system(), PullHeadStart.begin(clientSettings(), "127.0.0.1", closedPort,
        "file.bin", local, 4 * KB), null).toCompletableFuture();
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, java.util.concurrent.TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().contains("cannot connect"), e.getCause().getMessage());
    assertArrayEquals(old, Files.readAllBytes(local));
    // The result may come while the staging copy begun beside the connect is still landing.
    SyncTestSupport.eventually(Duration.ofSeconds(10), "the staging copy removed", () -> noStaging(dir));
  }

  @Test
  void aServerThatDiesMidPullFailsItAndTheHeadStartsStagingCopyIsRemoved() throws Exception {
    byte[] old = bytes(1 << 20, 8);
    Path dir = Files.createDirectories(tmp.resolve("head-start-dies"));
    Path local = dir.resolve("file.bin");
    Files.write(local, old);
    byte[] other = bytes(1 << 20, 9); // the server's "copy": same size, other content
    try (ServerSocket listener = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Thread fake = new Thread(() -> {
        try (Socket s = listener.accept()) {
          readFrame(s.getInputStream()); // init
          s.getOutputStream().write(io.peernode.protocol.sync.FrameEncoder.encode(
              new io.peernode.protocol.sync.SyncMessage.InitReply(io.peernode.protocol.sync.SyncMessage.VERSION,
                  64 * KB, 16, other.length, io.peernode.protocol.sync.HashTree.of(other, 64 * KB).rootHex())));
          s.getOutputStream().flush();
          readFrame(s.getInputStream()); // the first req: then the server is gone
        } catch (Exception ignored) {
          // the client closed first
        }
      });
      fake.start();
      var f = SyncClient.pull(kit.system(), PullHeadStart.begin(clientSettings(), "127.0.0.1",
          listener.getLocalPort(), "file.bin", local, 64 * KB), null).toCompletableFuture();
      ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, java.util.concurrent.TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof SyncFailedException, e.getCause().toString());
      fake.join(10_000);
    }
    assertArrayEquals(old, Files.readAllBytes(local), "the local file is untouched");
    SyncTestSupport.eventually(Duration.ofSeconds(10), "the staging copy removed", () -> noStaging(dir));
  }

  @Test
  void anAbandonedHeadStartLeavesNoStagingCopy() throws Exception {
    byte[] a = bytes(4 << 20, 5);
    Files.write(root.resolve("abandoned.bin"), a);
    Path dir = Files.createDirectories(tmp.resolve("head-start-abandoned"));
    Path local = dir.resolve("file.bin");
    Files.write(local, bytes(4 << 20, 6));
    PullHeadStart h = PullHeadStart.begin(clientSettings(), "127.0.0.1", server.port(), "abandoned.bin",
        local, 64 * KB);
    await(h.staging); // the copy is there
    assertTrue(!noStaging(dir), "a staging copy while it lives");
    h.abandon();
    SyncTestSupport.eventually(Duration.ofSeconds(10), "the staging copy removed", () -> noStaging(dir));
    assertArrayEquals(bytes(4 << 20, 6), Files.readAllBytes(local));
  }

  @Test
  void aDeltaPullBegunByAHeadStartMovesOnlyTheChangedBlocks() throws Exception {
    byte[] remote = bytes(2 << 20, 7);
    byte[] local = remote.clone();
    local[100_000] ^= 1;
    local[1_500_000] ^= 1;
    SyncResult r = pull(remote, local, 64 * KB);
    assertEquals(2, r.blocksTransferred());
  }

  private static boolean noStaging(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.noneMatch(p -> p.getFileName().toString().contains(".peer-sync-"));
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static Frame readFrame(InputStream in) throws Exception {
    FrameDecoder decoder = new FrameDecoder(1 << 16, 1 << 16);
    ArrayDeque<Frame> frames = new ArrayDeque<>();
    byte[] buf = new byte[4096];
    while (frames.isEmpty()) {
      int n = in.read(buf);
      if (n < 0) {
        throw new java.io.EOFException("closed before a frame");
      }
      decoder.feed(java.nio.ByteBuffer.wrap(buf, 0, n), frames::add);
    }
    return frames.poll();
  }
}
