package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.util.ByteString;
import com.typesafe.config.ConfigFactory;
import io.peernode.protocol.Hex;
import io.peernode.protocol.userapi.StreamDataFrames;
import io.peernode.protocol.userapi.StreamDataHandshake;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One node's ByteStreams and data server answering a (probe) peer that speaks the open protocol
 * over actor messages and the data connection (handshake, data and credit frames) over a real
 * socket; the node's data connections on the blocking transport (the default; {@link
 * ByteStreamsAkkaIoTest}: the same on akka.io).
 */
class ByteStreamsTest {

  static ActorTestKit testKit;
  static final String ID = "1".repeat(32);

  @BeforeAll
  static void start() {
    testKit = Nodes.localTestKit();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** {@code bytes} as one data frame. */
  static byte[] dataFrame(String bytes) {
    return dataFrame(bytes.getBytes(StandardCharsets.US_ASCII), 0, bytes.length());
  }

  static byte[] dataFrame(byte[] bytes, int from, int to) {
    byte[] f = new byte[StreamDataFrames.HEADER_BYTES + to - from];
    System.arraycopy(StreamDataFrames.dataHeader(to - from), 0, f, 0, StreamDataFrames.HEADER_BYTES);
    System.arraycopy(bytes, from, f, StreamDataFrames.HEADER_BYTES, to - from);
    return f;
  }

  /** The peer's side of a data connection after the handshake: reads the node's frames. */
  static final class FrameReader {
    final Socket socket;
    final java.util.ArrayDeque<Integer> credits = new java.util.ArrayDeque<>();
    final java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();

    FrameReader(Socket socket) {
      this.socket = socket;
    }

    /** Reads one frame (within {@code timeoutMillis}): false when none came or the connection ended. */
    boolean readFrame(int timeoutMillis) throws IOException {
      socket.setSoTimeout(timeoutMillis);
      java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
      int type;
      try {
        type = in.read();
      } catch (SocketTimeoutException e) {
        return false;
      }
      if (type < 0) {
        return false;
      }
      socket.setSoTimeout(10_000);
      int n = in.readInt();
      if (type == StreamDataFrames.CREDIT) {
        credits.add(n);
      } else {
        assertEquals(StreamDataFrames.DATA, type, "a frame type");
        byte[] b = new byte[n];
        in.readFully(b);
        data.writeBytes(b);
      }
      return true;
    }

    /** The next {@code n} data bytes (credit frames among them are kept). */
    byte[] readData(int n) throws IOException {
      while (data.size() < n && readFrame(10_000)) {
        // more
      }
      byte[] all = data.toByteArray();
      assertTrue(all.length >= n, "expected " + n + " data bytes, got " + all.length);
      data.reset();
      data.write(all, n, all.length - n);
      return java.util.Arrays.copyOf(all, n);
    }

    /** The next credit frame's bytes (data frames before it are kept). */
    int readCredit() throws IOException {
      while (credits.isEmpty()) {
        assertTrue(readFrame(10_000), "a credit frame");
      }
      return credits.poll();
    }
  }

  /** True when the server closed the connection (end of stream or reset) within 10 s. */
  static boolean closedByServer(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    try {
      return socket.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  @Test
  void acceptsUpToTheLimitRefusesWrongTokensAndCarriesTheBytesOverTheDataConnection() throws Exception {
    DataNode node = new DataNode("max-open-streams = 1, stream-buffer = 1000");
    ActorRef<ByteStreams.Command> streams = node.streams;
    ByteStreamDataServer.Binding server = node.server;
    int port = server.localAddress().getPort();
    TestProbe<ByteStreamEndpoint.Command> peer = testKit.createTestProbe();

    streams.tell(new ByteStreams.OpenRequest(ID, "b".repeat(40), peer.getRef(), 4));
    ByteStreamEndpoint.Opened opened = peer.expectMessageClass(ByteStreamEndpoint.Opened.class);
    assertEquals(1000, opened.peerBuffer);
    assertEquals("127.0.0.1", opened.dataHost);
    assertEquals(port, opened.dataPort);
    byte[] token = Hex.decode(opened.token);
    assertEquals(StreamDataHandshake.TOKEN_BYTES, token.length);

    // The limit: a second stream is refused with the reason.
    streams.tell(new ByteStreams.OpenRequest("2".repeat(32), "b".repeat(40), peer.getRef(), 4));
    assertTrue(peer.expectMessageClass(ByteStreamEndpoint.Refused.class).reason.contains("maximum of 1"));

    // A wrong token, an unknown stream id and something that is not a handshake at all: each
    // connection is closed by the node, and the stream is not affected.
    byte[] wrong = token.clone();
    wrong[0] ^= 1;
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream().write(new StreamDataHandshake(Hex.decode(ID), wrong).encode());
      assertTrue(closedByServer(s), "a wrong token closes the connection");
    }
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream().write(new StreamDataHandshake(Hex.decode("3".repeat(32)), token).encode());
      assertTrue(closedByServer(s), "an unknown stream id closes the connection");
    }
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789".getBytes(StandardCharsets.US_ASCII));
      assertTrue(closedByServer(s), "a connection that is not ours is closed");
    }

    ActorRef<ByteStreamEndpoint.Command> endpoint = node.endpoint(ID);
    TestProbe<Integer> unread = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.Unread(unread.getRef()));
    assertEquals(0, unread.receiveMessage(), "still open, nothing arrived");

    // Writes before the data connection: the peer announced a 4-byte buffer, so 4 of 6 bytes are
    // accepted, then 0; they wait for the connection.
    TestProbe<Optional<Integer>> writes = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("abcdef"), writes.getRef()));
    assertEquals(Optional.of(4), writes.receiveMessage());
    endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("g"), writes.getRef()));
    assertEquals(Optional.of(0), writes.receiveMessage());

    try (Socket s = new Socket("127.0.0.1", port)) {
      FrameReader frames = new FrameReader(s);
      // The handshake and the first bytes in one write, split across the handshake's end.
      byte[] hs = new StreamDataHandshake(Hex.decode(ID), token).encode();
      byte[] hi = dataFrame("hi");
      byte[] first = new byte[hs.length + hi.length];
      System.arraycopy(hs, 0, first, 0, hs.length);
      System.arraycopy(hi, 0, first, hs.length, hi.length);
      s.getOutputStream().write(first, 0, 10);
      s.getOutputStream().flush();
      s.getOutputStream().write(first, 10, first.length - 10);
      assertArrayEquals("abcd".getBytes(StandardCharsets.US_ASCII), frames.readData(4), "what was written before arrives");

      // The acceptor holds the peer's 2 bytes ("hi") and, once read, gives 2 bytes of credit back.
      TestProbe<Optional<ByteString>> reads = testKit.createTestProbe();
      ByteString[] got = {ByteString.emptyByteString()};
      io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
        endpoint.tell(new ByteStreamEndpoint.Read(10, reads.getRef()));
        got[0] = got[0].concat(reads.receiveMessage().orElse(ByteString.emptyByteString()));
        return got[0].size() >= 2;
      }, "the peer's bytes");
      assertEquals(ByteString.fromString("hi"), got[0]);
      assertEquals(2, frames.readCredit(), "the credit comes back in-band on the data connection");

      // A second connection with the right token is refused: the stream has its connection.
      try (Socket again = new Socket("127.0.0.1", port)) {
        again.getOutputStream().write(hs);
        assertTrue(closedByServer(again), "a second data connection is closed");
      }

      // Credit from the peer (a frame on the data connection) lets more through.
      s.getOutputStream().write(StreamDataFrames.credit(3));
      int[] accepted = {0};
      io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
        endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("xyz!"), writes.getRef()));
        accepted[0] = writes.receiveMessage().orElseThrow();
        return accepted[0] > 0;
      }, "the credit arrived");
      assertEquals(3, accepted[0], "exactly the credit given");
      assertArrayEquals("xyz".getBytes(StandardCharsets.US_ASCII), frames.readData(3));

      // Closing here ends the outbound bytes (the peer sees the end of its connection).
      TestProbe<Boolean> close = testKit.createTestProbe();
      endpoint.tell(new ByteStreamEndpoint.Close(close.getRef()));
      assertEquals(true, close.receiveMessage());
      assertTrue(closedByServer(s), "the close reaches the peer as the end of the connection");
    }
    server.unbind();
  }

  @Test
  void anAcceptorWhoseOpenerNeverConnectsCloses() {
    UserApiSettings settings = UserApiSettings.from(
        ConfigFactory.parseString("open-timeout = 300 ms")
            .withFallback(testKit.system().settings().config().getConfig("peer.userapi")));
    ActorRef<ByteStreams.Command> streams = testKit.spawn(
        ByteStreams.create("a".repeat(40), settings, UserApiMetrics.register(new CollectorRegistry())));
    TestProbe<ByteStreamEndpoint.Command> peer = testKit.createTestProbe();
    streams.tell(new ByteStreams.OpenRequest(ID, "b".repeat(40), peer.getRef(), 4));
    assertTrue(peer.expectMessageClass(ByteStreamEndpoint.Refused.class).reason.contains("not bound"),
        "no data server yet: refused");

    streams.tell(new ByteStreams.DataAddress("127.0.0.1", 9));
    streams.tell(new ByteStreams.OpenRequest(ID, "b".repeat(40), peer.getRef(), 4));
    peer.expectMessageClass(ByteStreamEndpoint.Opened.class);
    TestProbe<Optional<ActorRef<ByteStreamEndpoint.Command>>> lookup = testKit.createTestProbe();
    streams.tell(new ByteStreams.Lookup(ID, lookup.getRef()));
    ActorRef<ByteStreamEndpoint.Command> endpoint = lookup.receiveMessage().orElseThrow();
    TestProbe<Integer> unread = testKit.createTestProbe();
    io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
      endpoint.tell(new ByteStreamEndpoint.Unread(unread.getRef()));
      return unread.receiveMessage() == -1;
    }, "the stream closed for want of a data connection");
  }

  @Test
  void theDataConnectionDroppingClosesTheStreamAndTheUnreadBytesStayReadable() throws Exception {
    DataNode node = new DataNode("");
    ByteStreamDataServer.Binding server = node.server;
    String id = "4".repeat(32);
    ByteStreamEndpoint.Opened opened = node.open(id);
    ActorRef<ByteStreamEndpoint.Command> endpoint = node.endpoint(id);
    TestProbe<Integer> unread = testKit.createTestProbe();
    TestProbe<Optional<Integer>> writes = testKit.createTestProbe();

    Socket s = new Socket("127.0.0.1", server.localAddress().getPort());
    s.getOutputStream().write(new StreamDataHandshake(Hex.decode(id), Hex.decode(opened.token)).encode());
    s.getOutputStream().write(dataFrame("abc"));
    io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
      endpoint.tell(new ByteStreamEndpoint.Unread(unread.getRef()));
      return unread.receiveMessage() == 3;
    }, "the 3 bytes arrived");
    endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("x"), writes.getRef()));
    assertEquals(Optional.of(1), writes.receiveMessage(), "open before the drop");

    // The peer's connection goes away abruptly (a reset, as when its process dies).
    s.setSoLinger(true, 0);
    s.close();
    io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
      endpoint.tell(new ByteStreamEndpoint.Write(ByteString.emptyByteString(), writes.getRef()));
      return writes.receiveMessage().isEmpty();
    }, "closed after the connection dropped");
    TestProbe<Optional<ByteString>> reads = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.Read(100, reads.getRef()));
    assertEquals(Optional.of(ByteString.fromString("abc")), reads.receiveMessage());
    endpoint.tell(new ByteStreamEndpoint.Read(100, reads.getRef()));
    assertEquals(Optional.empty(), reads.receiveMessage(), "then null");
    server.unbind();
  }

  @Test
  void aBadFrameOrMoreThanTheCreditFailsTheConnectionAndClosesTheStream() throws Exception {
    DataNode node = new DataNode("stream-buffer = 100");
    ByteStreamDataServer.Binding server = node.server;
    byte[][] bad = {
      io.peernode.protocol.Hex.decode("0700000001"), // unknown frame type
      dataFrame(new byte[101], 0, 101), // one frame over the buffer
      concat(dataFrame(new byte[60], 0, 60), dataFrame(new byte[60], 0, 60)), // more than the credit
    };
    for (int k = 0; k < bad.length; k++) {
      String id = Integer.toString(6 + k).repeat(32);
      ByteStreamEndpoint.Opened opened = node.open(id);
      ActorRef<ByteStreamEndpoint.Command> endpoint = node.endpoint(id);
      TestProbe<Optional<Integer>> writes = testKit.createTestProbe();
      try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
        s.getOutputStream().write(new StreamDataHandshake(Hex.decode(id), Hex.decode(opened.token)).encode());
        s.getOutputStream().write(bad[k]);
        assertTrue(closedByServer(s), "case " + k + ": the node drops the connection");
      }
      io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
        endpoint.tell(new ByteStreamEndpoint.Write(ByteString.fromString("x"), writes.getRef()));
        return writes.receiveMessage().isEmpty();
      }, "case " + k + ": the stream closed");
    }
    server.unbind();
  }

  /** A node's byte streams (user API settings as given) with their data server on a free port. */
  /** The data connections' transport under test (peer.userapi.stream-data-transport). */
  String transport() {
    return "blocking";
  }

  private final class DataNode {
    final UserApiSettings settings;
    final ActorRef<ByteStreams.Command> streams;
    final ByteStreamDataServer.Binding server;
    final TestProbe<ByteStreamEndpoint.Command> peer = testKit.createTestProbe();

    DataNode(String settingsOverrides) {
      settings = UserApiSettings.from(ConfigFactory.parseString(settingsOverrides)
          .withFallback(ConfigFactory.parseString("stream-data-transport = " + transport()))
          .withFallback(testKit.system().settings().config().getConfig("peer.userapi")));
      streams = testKit.spawn(ByteStreams.create("a".repeat(40), settings,
          UserApiMetrics.register(new CollectorRegistry())));
      server = Nodes.await(
          ByteStreamDataServer.bind(testKit.system(), "127.0.0.1", 0, streams, settings));
      streams.tell(new ByteStreams.DataAddress("127.0.0.1", server.localAddress().getPort()));
    }

    /** Opens stream {@code id} from the peer probe (a 1000-byte peer buffer). */
    ByteStreamEndpoint.Opened open(String id) {
      streams.tell(new ByteStreams.OpenRequest(id, "b".repeat(40), peer.getRef(), 1000));
      return peer.expectMessageClass(ByteStreamEndpoint.Opened.class);
    }

    ActorRef<ByteStreamEndpoint.Command> endpoint(String id) {
      TestProbe<Optional<ActorRef<ByteStreamEndpoint.Command>>> lookup = testKit.createTestProbe();
      streams.tell(new ByteStreams.Lookup(id, lookup.getRef()));
      return lookup.receiveMessage().orElseThrow();
    }
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @Test
  void theJavaReaderTakesStraightFromTheConnectionAndGivesCreditBackInBatches() throws Exception {
    DataNode node = new DataNode(
        "stream-buffer = 1000, stream-credit-batch = 400, stream-source-chunk = 100");
    ByteStreamDataServer.Binding server = node.server;
    String id = "5".repeat(32);
    ByteStreamEndpoint.Opened opened = node.open(id);
    ActorRef<ByteStreamEndpoint.Command> endpoint = node.endpoint(id);
    TestProbe<Optional<ByteStreamPipe>> attach = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.AttachReader(attach.getRef()));
    ByteStreamPipe pipe = attach.receiveMessage().orElseThrow();
    endpoint.tell(new ByteStreamEndpoint.AttachReader(attach.getRef()));
    assertEquals(Optional.empty(), attach.receiveMessage(), "one reader at a time");

    TestProbe<ByteString> elements = testKit.createTestProbe();
    akka.stream.javadsl.Source.fromGraph(new ByteStreamReader(pipe, endpoint, node.settings))
        .runWith(akka.stream.javadsl.Sink.foreach(elements.getRef()::tell), testKit.system());
    try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
      s.getOutputStream().write(new StreamDataHandshake(Hex.decode(id), Hex.decode(opened.token)).encode());
      byte[] data = new byte[500];
      new java.util.Random(3).nextBytes(data);
      s.getOutputStream().write(dataFrame(data, 0, 300));
      ByteString got = ByteString.emptyByteString();
      while (got.size() < 300) {
        ByteString e = elements.receiveMessage();
        assertTrue(e.size() <= 100, "elements of at most stream-source-chunk");
        got = got.concat(e);
      }
      // 300 bytes taken: below the batch, so no credit yet; 200 more make 500, given back at once.
      FrameReader frames = new FrameReader(s);
      assertTrue(!frames.readFrame(300), "no credit for 300 bytes");
      s.getOutputStream().write(dataFrame(data, 300, 500));
      while (got.size() < 500) {
        got = got.concat(elements.receiveMessage());
      }
      assertEquals(ByteString.fromArray(data), got);
      assertEquals(500, frames.readCredit());
    }
    server.unbind();
  }

  @Test
  void theJavaWriterWritesAheadOfItsCreditAndTheConnectionSendsThatAsCreditComes() throws Exception {
    DataNode node = new DataNode("stream-write-ahead = 300");
    ByteStreamDataServer.Binding server = node.server;
    String id = "a".repeat(32);
    ByteStreamEndpoint.Opened opened = node.open(id); // the peer's buffer: 1000 bytes
    ActorRef<ByteStreamEndpoint.Command> endpoint = node.endpoint(id);
    TestProbe<ByteStreamPipe> attach = testKit.createTestProbe();
    endpoint.tell(new ByteStreamEndpoint.AttachWriter(attach.getRef()));
    ByteStreamPipe pipe = attach.receiveMessage();
    byte[] data = new byte[1600];
    new java.util.Random(9).nextBytes(data);
    java.util.List<ByteString> elements = new java.util.ArrayList<>();
    for (int k = 0; k < 4; k++) {
      elements.add(ByteString.fromArray(data, 400 * k, 400));
    }
    akka.stream.javadsl.Source.from(elements)
        .runWith(akka.stream.javadsl.Sink.fromGraph(new ByteStreamWriter(pipe, endpoint, node.settings)), testKit.system());

    try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
      s.getOutputStream().write(new StreamDataHandshake(Hex.decode(id), Hex.decode(opened.token)).encode());
      FrameReader frames = new FrameReader(s);
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 1000), frames.readData(1000), "the credit's worth");
      // 300 more are accepted from the writer (its write-ahead) but not sent without credit.
      io.peernode.actors.cluster.TestCluster.awaitCondition(Duration.ofSeconds(5),
          () -> pipe.outgoing.size() == 300, "the write-ahead waits in the pipe");
      assertTrue(!frames.readFrame(300), "nothing beyond the credit is sent");
      s.getOutputStream().write(StreamDataFrames.credit(200));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, 1200), frames.readData(200), "covered by the credit");
      assertTrue(!frames.readFrame(300), "still nothing beyond the credit");
      s.getOutputStream().write(StreamDataFrames.credit(400));
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 1200, 1600), frames.readData(400), "the rest");
      // The sink completed once credit covered all it had accepted: the stream closes after it.
      assertTrue(closedByServer(s), "the close follows the last byte");
    }
    server.unbind();
  }

  @Test
  void aDataDispatcherThatIsNotConfiguredIsRefusedAtBind() {
    UserApiSettings settings = UserApiSettings.from(ConfigFactory.parseString(
            "stream-data-transport = akka-io, stream-data-dispatcher = no-such-dispatcher")
        .withFallback(testKit.system().settings().config().getConfig("peer.userapi")));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ByteStreamDataServer.bind(testKit.system(), "127.0.0.1", 0, testKit.createTestProbe(ByteStreams.Command.class).getRef(), settings));
    assertTrue(e.getMessage().contains("no-such-dispatcher"), e.getMessage());
  }
}
