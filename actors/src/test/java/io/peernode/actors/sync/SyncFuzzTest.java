package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.actors.sync.SyncTestSupport.RawClient;
import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncMessage;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.peernode.protocol.sync.SyncMessage.DataType;
import io.prometheus.client.CollectorRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random and mutated frame sequences (seeded, so a failure reproduces) against one server: it
 * never stops serving, never writes outside its root, never answers with anything but frames,
 * and every session ends (no leak of sessions or staging copies).
 */
class SyncFuzzTest {

  static final long SEED = 20261123L;
  static final int ROUNDS = 400;

  static ActorTestKit kit;
  static SyncServer.Binding server;
  static CollectorRegistry registry = new CollectorRegistry();
  static Path root;
  static byte[] content = bytes(5000, 9);
  @TempDir static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kit = SyncTestSupport.testKit("sync-fuzz");
    root = Files.createDirectories(tmp.resolve("root"));
    Files.createDirectories(tmp.resolve("outside"));
    Files.write(tmp.resolve("outside/keep.txt"), new byte[] {1});
    Files.write(root.resolve("f.bin"), content);
    Files.createSymbolicLink(root.resolve("link"), tmp.resolve("outside"));
    server = SyncTestSupport.bind(kit,
        SyncTestSupport.settings(kit, root, "idle-timeout = 1s\nmax-bin-bytes = 1 MiB\nmax-block-size = 64 KiB"),
        registry);
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
  }

  static Set<String> filesOutsideRoot() throws Exception {
    try (Stream<Path> s = Files.walk(tmp)) {
      return s.filter(p -> !p.startsWith(root) && !p.getFileName().toString().startsWith("check"))
          .map(Path::toString).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** Plausible sessions, so mutations land in every part of the protocol. */
  static byte[] validSequence(Random r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean push = r.nextBoolean();
    String name = r.nextInt(4) == 0 ? "link/x.bin" : (push ? "fz/p" + r.nextInt(3) + ".bin" : "f.bin");
    out.writeBytes(FrameEncoder.encode(new SyncMessage.Init(SyncMessage.VERSION,
        push ? Action.PUSH : Action.PULL, name, 1024, push ? 2 : 0, push ? 2000 : -1)));
    int k = r.nextInt(5);
    for (int i = 0; i < k; i++) {
      switch (r.nextInt(3)) {
        case 0 -> out.writeBytes(FrameEncoder.encode(new SyncMessage.Req(DataType.HASH, new int[] {1, 2})));
        case 1 -> out.writeBytes(FrameEncoder.encode(new SyncMessage.Req(DataType.DATA, new int[] {r.nextInt(6)})));
        default -> out.writeBytes(FrameEncoder.encode(new SyncMessage.Send(DataType.DATA, new int[] {1},
            bytes(2000 - 1024, r.nextLong()))));
      }
    }
    out.writeBytes(FrameEncoder.encode(new SyncMessage.End(push && r.nextBoolean(), push ? 2000 : -1, null)));
    return out.toByteArray();
  }

  static byte[] mutate(byte[] in, Random r) {
    byte[] b = in.clone();
    switch (r.nextInt(7)) {
      case 0 -> { // flip bytes
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
          b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 1 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1)); // truncate
      case 2 -> { // insert random bytes
        int at = r.nextInt(b.length + 1);
        byte[] junk = new byte[1 + r.nextInt(20)];
        r.nextBytes(junk);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(b, 0, at);
        o.writeBytes(junk);
        o.write(b, at, b.length - at);
        b = o.toByteArray();
      }
      case 3 -> { // digits in a header become other digits (lengths lie)
        for (int i = 0; i < b.length; i++) {
          if (b[i] >= '0' && b[i] <= '9' && r.nextInt(8) == 0) {
            b[i] = (byte) ('0' + r.nextInt(10));
          }
        }
      }
      case 5 -> b = hostileValues(r); // well-formed frames, hostile field values
      case 4 -> { // pure noise
        b = new byte[r.nextInt(300)];
        r.nextBytes(b);
      }
      default -> { } // unchanged: a valid session
    }
    return b;
  }

  static final String[] EVIL = {"-1", "9223372036854775807", "4294967296", "1e30", "0.5", "\"7\"",
      "null", "[]", "2147483648", "-9223372036854775808", "{}", "1024", "0", "3"};

  static String evil(Random r) {
    return EVIL[r.nextInt(EVIL.length)];
  }

  /** Frames that parse, with numbers and types a peer should never send. */
  static byte[] hostileValues(Random r) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String[] frames = {
        "{\"command\":\"init\",\"version\":[0," + evil(r) + ",0],\"action\":\"" + (r.nextBoolean() ? "push" : "pull")
            + "\",\"filename\":\"f.bin\",\"blockSize\":" + (r.nextBoolean() ? "1024" : evil(r))
            + ",\"blockCount\":" + evil(r) + ",\"size\":" + evil(r) + "}",
        "{\"command\":\"req\",\"dataType\":\"" + (r.nextBoolean() ? "hash" : "data") + "\",\"index\":[" + evil(r) + "," + evil(r) + "]}",
        "{\"command\":\"req\",\"dataType\":\"hash\",\"index\":" + evil(r) + "}",
        "{\"command\":\"send\",\"dataType\":\"data\",\"index\":[" + evil(r) + "]}",
        "{\"command\":\"end\",\"action\":" + evil(r) + ",\"size\":" + evil(r) + ",\"root\":" + evil(r) + "}",
    };
    for (int i = 0; i < 1 + r.nextInt(6); i++) {
      String json = frames[i == 0 ? 0 : r.nextInt(frames.length)];
      try {
        out.writeBytes(FrameEncoder.encode(
            io.peernode.protocol.sync.SyncJson.parseObject(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
            new byte[r.nextInt(3) == 0 ? r.nextInt(3000) : 0]));
      } catch (io.peernode.protocol.sync.FrameException e) {
        throw new AssertionError(json, e);
      }
    }
    return out.toByteArray();
  }

  @Test
  void randomAndMutatedFramesNeverBreakTheServer() throws Exception {
    var errors = SyncTestSupport.captureErrors();
    Set<String> outsideBefore = filesOutsideRoot();
    Random r = new Random(SEED);
    int answered = 0;
    for (int round = 0; round < ROUNDS; round++) {
      byte[] input = mutate(validSequence(r), r);
      try (RawClient c = new RawClient(server.port())) {
        // Split the input at a random point into two writes, then half-close.
        int cut = input.length == 0 ? 0 : r.nextInt(input.length + 1);
        c.write(java.util.Arrays.copyOf(input, cut));
        c.write(java.util.Arrays.copyOfRange(input, cut, input.length));
        c.socket.shutdownOutput();
        // Everything the server says must be well-formed frames, then it closes.
        List<io.peernode.protocol.sync.Frame> frames = c.drain();
        answered += frames.size();
      } catch (java.net.SocketException e) {
        // The server may close before reading everything we sent (after err): fine.
      }
    }
    assertTrue(answered > ROUNDS / 2, "the server answered: " + answered);
    // Still serving.
    Path check = tmp.resolve("check.bin");
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "f.bin", check, 1024, null));
    assertArrayEquals(content, Files.readAllBytes(check));
    // Nothing outside the root changed; no session or staging copy left behind.
    assertEquals(outsideBefore, filesOutsideRoot());
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(tmp.resolve("outside/keep.txt")));
    SyncTestSupport.eventually(Duration.ofSeconds(15), "all sessions ended",
        () -> registry.getSampleValue("peer_sync_active_sessions") == 0.0);
    SyncTestSupport.eventually(Duration.ofSeconds(15), "no staging copies",
        () -> SyncTestSupport.countFiles(server.root().resolve(".peer-sync-staging")) == 0);
    assertTrue(registry.getSampleValue("peer_sync_frames_rejected_total") > 0);
    assertEquals(List.of(), errors.list.stream().map(e -> e.getFormattedMessage()).toList(),
        "hostile input never shows up as an ERROR");
  }

  @Test
  void aValidSessionSplitAtEveryPositionIsAnsweredTheSame() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.writeBytes(FrameEncoder.encode(new SyncMessage.Init(SyncMessage.VERSION, Action.PULL, "f.bin", 1024, 0, -1)));
    buf.writeBytes(FrameEncoder.encode(new SyncMessage.Req(DataType.HASH, new int[] {1, 2})));
    buf.writeBytes(FrameEncoder.encode(new SyncMessage.Req(DataType.DATA, new int[] {4})));
    buf.writeBytes(FrameEncoder.encode(new SyncMessage.End(false, -1, null)));
    byte[] session = buf.toByteArray();
    HashTree t = HashTree.of(content, 1024);
    for (int cut = 0; cut <= session.length; cut++) {
      try (RawClient c = new RawClient(server.port())) {
        c.write(java.util.Arrays.copyOf(session, cut));
        c.write(java.util.Arrays.copyOfRange(session, cut, session.length));
        c.expect("init");
        var h = c.expect("send");
        assertArrayEquals(java.util.Arrays.copyOfRange(t.node(1), 0, 32), java.util.Arrays.copyOfRange(h.binary(), 0, 32));
        var d = c.expect("send");
        assertArrayEquals(java.util.Arrays.copyOfRange(content, 4096, 5000), d.binary());
        c.expect("end");
        c.expectClosed();
      }
    }
  }
}
