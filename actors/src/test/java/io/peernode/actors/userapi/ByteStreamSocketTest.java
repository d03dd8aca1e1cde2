package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.peernode.actors.cluster.TestCluster;
import io.peernode.protocol.Hex;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The blocking transport of byte stream data connections ({@link ByteStreamSockets}, {@link
 * ByteStreamSocket}) on its own: two stream ends, each a {@link ByteStreamPipe} with the Java
 * API's reader and writer stages on it and a probe in the endpoint's place, over a real
 * loopback connection. Small buffers, chunks and reads, so that a transfer is many chunks and
 * frames split across reads.
 */
class ByteStreamSocketTest {

  static ActorTestKit testKit;
  static UserApiSettings settings;
  static final int BUFFER = 64 * 1024;
  static final int WRITE_AHEAD = 8 * 1024;
  static final int CHUNK = 16 * 1024;

  @BeforeAll
  static void start() {
    testKit = Nodes.localTestKit();
    settings = settingsOf(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static UserApiSettings settingsOf(ActorSystem<?> system) {
    return UserApiSettings.from(Nodes.config("stream-buffer = 64 KiB, stream-chunk = 16 KiB, "
            + "stream-credit-batch = 16 KiB, stream-write-ahead = 8 KiB, stream-source-chunk = 4 KiB, "
            + "stream-data-read-size = 40 KiB, stream-data-transport = blocking")
        .withFallback(system.settings().config().getConfig("peer.userapi")));
  }

  /** One stream end: its pipe (with the peer's buffer as credit) and a probe as its endpoint. */
  static final class End {
    final ByteStreamPipe pipe = new ByteStreamPipe();
    final TestProbe<ByteStreamEndpoint.Command> endpoint;
    /** What the probe received before the message a test waited for. */
    final List<ByteStreamEndpoint.Command> seen = new ArrayList<>();

    End(ActorTestKit kit) {
      endpoint = kit.createTestProbe();
      pipe.outgoing.addCredit(BUFFER);
    }

    /** The next message of {@code type} the endpoint got (others are kept in {@link #seen}). */
    <T extends ByteStreamEndpoint.Command> T await(Class<T> type) {
      for (ByteStreamEndpoint.Command c : seen) {
        if (type.isInstance(c)) {
          seen.remove(c);
          return type.cast(c);
        }
      }
      for (;;) {
        ByteStreamEndpoint.Command c = endpoint.receiveMessage(Duration.ofSeconds(15));
        if (type.isInstance(c)) {
          return type.cast(c);
        }
        seen.add(c);
      }
    }

    /** Writes {@code data} through the Java API's writer, in elements of 1 to 4096 bytes. */
    void write(ActorSystem<?> system, byte[] data, Random random) {
      List<ByteString> elements = new ArrayList<>();
      for (int i = 0; i < data.length; ) {
        int n = Math.min(data.length - i, 1 + random.nextInt(4096));
        elements.add(ByteString.fromArray(data, i, n));
        i += n;
      }
      Source.from(elements).runWith(Sink.fromGraph(new ByteStreamWriter(pipe, endpoint.getRef(), settings)), system);
    }

    /** Reads through the Java API's reader until the stream ends. */
    CompletionStage<ByteString> readAll(ActorSystem<?> system) {
      return Source.fromGraph(new ByteStreamReader(pipe, endpoint.getRef(), settings))
          .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), system);
    }
  }

  /** A listener of {@code system}'s transport whose connections attach to the ends registered by stream id. */
  static final class Server {
    final Map<String, End> ends = new ConcurrentHashMap<>();
    final ByteStreamDataServer.Binding binding;

    Server(ActorSystem<?> system) throws Exception {
      this(system, settings);
    }

    Server(ActorSystem<?> system, UserApiSettings settings) throws Exception {
      binding = ByteStreamSockets.get(system).bind("127.0.0.1", 0, hs -> {
        End e = ends.get(Hex.encode(hs.streamId()));
        return e == null ? CompletableFuture.failedFuture(new IllegalStateException("no such stream"))
            : CompletableFuture.completedFuture(new ByteStreamConnection.Attached(e.pipe, e.endpoint.getRef()));
      }, settings);
    }

    /** A stream {@code id} from {@code system}'s transport to this listener: the opening end and the accepting end. */
    End[] connect(ActorSystem<?> system, ActorTestKit server, ActorTestKit client, String id) {
      End accepting = new End(server);
      ends.put(id, accepting);
      End opening = new End(client);
      Nodes.await(ByteStreamSockets.get(system).connect(
          new InetSocketAddress("127.0.0.1", binding.localAddress().getPort()), handshake(id),
          opening.pipe, opening.endpoint.getRef(), settings, Duration.ofSeconds(5)));
      return new End[] {opening, accepting};
    }
  }

  static ByteString handshake(String id) {
    return ByteString.fromArrayUnsafe(
        new StreamDataHandshake(Hex.decode(id), new byte[StreamDataHandshake.TOKEN_BYTES]).encode());
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void bytesArriveInOrderBothWaysAtOnceAndClosingEndsBothSides() throws Exception {
    Server server = new Server(testKit.system());
    int before = ByteStreamSockets.get(testKit.system()).openSockets();
    End[] ends = server.connect(testKit.system(), testKit, testKit, "1".repeat(32));
    End a = ends[0];
    End b = ends[1];
    byte[] ab = random(3 * 1024 * 1024 + 7, 1);
    byte[] ba = random(2 * 1024 * 1024 + 3, 2);
    CompletionStage<ByteString> atB = b.readAll(testKit.system());
    CompletionStage<ByteString> atA = a.readAll(testKit.system());
    a.write(testKit.system(), ab, new Random(3));
    b.write(testKit.system(), ba, new Random(4));

    // Both writers finish while both sides still read: a side's end (TCP half-close) stops the
    // credit it gives the peer, so ending A while B still needs credit would hold B's writer
    // forever (the endpoint ends both directions at a writer's end, so it never half-closes
    // like this with the peer still writing). Then, as the endpoints do: a side's end reaches
    // the peer after its bytes, and the connection's end ends that side's unread bytes.
    assertNull(a.await(ByteStreamEndpoint.WriterDone.class).cause);
    assertNull(b.await(ByteStreamEndpoint.WriterDone.class).cause);
    a.pipe.outgoing.end();
    assertNull(b.await(ByteStreamEndpoint.ConnectionEnded.class).cause, "B sees A's end after A's bytes");
    b.pipe.incoming.end();
    b.pipe.outgoing.end();
    assertNull(a.await(ByteStreamEndpoint.ConnectionEnded.class).cause, "A sees B's end after B's bytes");
    a.pipe.incoming.end();

    assertEquals(ByteString.fromArray(ab), Nodes.await(atB), "A's 3 MiB in order, chunk after chunk");
    assertEquals(ByteString.fromArray(ba), Nodes.await(atA), "B's 2 MiB in order, at the same time");
    TestCluster.awaitCondition(Duration.ofSeconds(10),
        () -> ByteStreamSockets.get(testKit.system()).openSockets() == before, "both sockets are closed");
    server.binding.unbind();
  }

  @Test
  void aSlowReaderHoldsTheWriterBackAndNothingBuffersBeyondTheCredit() throws Exception {
    Server server = new Server(testKit.system());
    End[] ends = server.connect(testKit.system(), testKit, testKit, "2".repeat(32));
    End a = ends[0];
    End b = ends[1];
    byte[] data = random(640 * 1024, 5);
    AtomicLong emitted = new AtomicLong();
    AtomicLong maxAhead = new AtomicLong();
    AtomicLong maxUnread = new AtomicLong();
    AtomicLong maxOutgoing = new AtomicLong();
    AtomicLong consumed = new AtomicLong();
    // The reader takes 4 KiB elements at ~2 MiB/s; every element it takes is a sample.
    CompletionStage<ByteString> read = Source.fromGraph(new ByteStreamReader(b.pipe, b.endpoint.getRef(), settings))
        .throttle(20, Duration.ofMillis(40))
        .map(e -> {
          long c = consumed.addAndGet(e.size());
          maxAhead.accumulateAndGet(emitted.get() - c, Math::max);
          maxUnread.accumulateAndGet(b.pipe.incoming.size(), Math::max);
          maxOutgoing.accumulateAndGet(a.pipe.outgoing.size(), Math::max);
          return e;
        })
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), testKit.system());
    List<ByteString> elements = new ArrayList<>();
    for (int i = 0; i < data.length; i += 4096) {
      elements.add(ByteString.fromArray(data, i, 4096));
    }
    Source.from(elements)
        .map(e -> {
          emitted.addAndGet(e.size());
          return e;
        })
        .runWith(Sink.fromGraph(new ByteStreamWriter(a.pipe, a.endpoint.getRef(), settings)), testKit.system());
    a.await(ByteStreamEndpoint.WriterDone.class);
    a.pipe.outgoing.end();
    b.await(ByteStreamEndpoint.ConnectionEnded.class);
    b.pipe.incoming.end();
    assertEquals(ByteString.fromArray(data), Nodes.await(read, Duration.ofSeconds(30)));

    // Written but not yet consumed: the peer's buffer (credit) + the write-ahead + a chunk the
    // reader took + a few elements in the stages; without back-pressure it would reach 640 KiB.
    long bound = BUFFER + WRITE_AHEAD + CHUNK + 3 * 4096;
    assertTrue(maxAhead.get() <= bound, "at most " + bound + " bytes ahead of the reader, got " + maxAhead.get());
    assertTrue(maxAhead.get() >= BUFFER / 2, "the window was used: " + maxAhead.get());
    assertTrue(maxUnread.get() <= BUFFER, "unread within the buffer, got " + maxUnread.get());
    assertTrue(maxOutgoing.get() <= BUFFER + WRITE_AHEAD, "queued to send within credit + write-ahead, got " + maxOutgoing.get());
    server.binding.unbind();
  }

  @Test
  void thePeerNodeGoingAwayClosesTheConnectionOnThisSide() throws Exception {
    ActorTestKit peerKit = Nodes.localTestKit();
    Server server = new Server(peerKit.system());
    int before = ByteStreamSockets.get(testKit.system()).openSockets();
    End[] ends = server.connect(testKit.system(), peerKit, testKit, "3".repeat(32));
    End a = ends[0];
    End b = ends[1];
    CompletionStage<ByteString> atA = a.readAll(testKit.system());
    b.write(peerKit.system(), random(100_000, 6), new Random(7));
    b.await(ByteStreamEndpoint.WriterDone.class); // B's bytes are on their way (or here)
    peerKit.shutdownTestKit(); // its transport closes every socket, as a crash would

    ByteStreamEndpoint.ConnectionEnded ended = a.await(ByteStreamEndpoint.ConnectionEnded.class);
    assertNotNull(ended, "A's endpoint is told");
    a.pipe.incoming.end();
    a.pipe.outgoing.end();
    assertTrue(Nodes.await(atA).size() <= 100_000, "A's reader ends");
    TestCluster.awaitCondition(Duration.ofSeconds(10),
        () -> ByteStreamSockets.get(testKit.system()).openSockets() == before, "A's socket is closed");
  }

  @Test
  void aBadFrameClosesThatConnectionWithALoggedReasonAndOthersGoOn() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ByteStreamSocket.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try {
      Server server = new Server(testKit.system());
      End[] good = server.connect(testKit.system(), testKit, testKit, "4".repeat(32));
      CompletionStage<ByteString> atB = good[1].readAll(testKit.system());
      byte[] first = random(200_000, 8);
      good[0].write(testKit.system(), first, new Random(9));
      good[0].await(ByteStreamEndpoint.WriterDone.class);

      // A peer that sends its handshake, then a frame of an unknown type.
      String badId = "5".repeat(32);
      End bad = new End(testKit);
      server.ends.put(badId, bad);
      try (Socket s = new Socket("127.0.0.1", server.binding.localAddress().getPort())) {
        s.getOutputStream().write(handshake(badId).toArray());
        s.getOutputStream().write(Hex.decode("0700000001"));
        assertTrue(ByteStreamsTest.closedByServer(s), "the node drops that connection");
      }
      Throwable cause = bad.await(ByteStreamEndpoint.ConnectionEnded.class).cause;
      assertNotNull(cause, "its endpoint is told it failed");
      assertTrue(cause.getMessage().contains("unknown stream data frame type 0x07"), cause.getMessage());
      TestCluster.awaitCondition(Duration.ofSeconds(5), () -> logged.list.stream().anyMatch(e ->
          e.getLevel() == Level.WARN && e.getFormattedMessage().contains("unknown stream data frame type 0x07")),
          "the reason is logged");

      // The other stream goes on, and the listener takes new ones.
      byte[] second = random(300_000, 10);
      good[0].write(testKit.system(), second, new Random(11));
      good[0].await(ByteStreamEndpoint.WriterDone.class);
      good[0].pipe.outgoing.end();
      good[1].await(ByteStreamEndpoint.ConnectionEnded.class);
      good[1].pipe.incoming.end();
      byte[] both = java.util.Arrays.copyOf(first, first.length + second.length);
      System.arraycopy(second, 0, both, first.length, second.length);
      assertEquals(ByteString.fromArray(both), Nodes.await(atB));

      End[] next = server.connect(testKit.system(), testKit, testKit, "6".repeat(32));
      CompletionStage<ByteString> atNext = next[1].readAll(testKit.system());
      byte[] third = random(50_000, 12);
      next[0].write(testKit.system(), third, new Random(13));
      next[0].await(ByteStreamEndpoint.WriterDone.class);
      next[0].pipe.outgoing.end();
      next[1].await(ByteStreamEndpoint.ConnectionEnded.class);
      next[1].pipe.incoming.end();
      assertEquals(ByteString.fromArray(third), Nodes.await(atNext));
      server.binding.unbind();
    } finally {
      logger.detachAppender(logged);
    }
  }

  @Test
  void streamsAtOnceShareABoundedPoolOfLargeBuffersAndIdleOnesHoldNone() throws Exception {
    // A node whose transport has two large buffers for six busy connections: when none is
    // free, a read or write goes through the connection's small buffer instead of waiting.
    ActorTestKit kit = ActorTestKit.create(Nodes.config("peer.userapi.stream-data-direct-buffers = 2")
        .withFallback(testKit.system().settings().config()));
    try {
      Server server = new Server(kit.system());
      int streams = 6;
      List<End[]> ends = new ArrayList<>();
      List<CompletionStage<ByteString>> reads = new ArrayList<>();
      List<byte[]> data = new ArrayList<>();
      for (int k = 0; k < streams; k++) {
        End[] e = server.connect(kit.system(), kit, kit, Integer.toHexString(k).repeat(32));
        ends.add(e);
        reads.add(e[1].readAll(kit.system()));
        data.add(random(1024 * 1024, 20 + k));
      }
      for (int k = 0; k < streams; k++) {
        ends.get(k)[0].write(kit.system(), data.get(k), new Random(30 + k));
      }
      for (int k = 0; k < streams; k++) {
        End[] e = ends.get(k);
        e[0].await(ByteStreamEndpoint.WriterDone.class);
        e[0].pipe.outgoing.end();
        e[1].await(ByteStreamEndpoint.ConnectionEnded.class);
        e[1].pipe.incoming.end();
        assertEquals(ByteString.fromArray(data.get(k)), Nodes.await(reads.get(k)), "stream " + k);
      }
      assertTrue(ByteStreamSockets.get(kit.system()).buffers().made() <= 2,
          "at most stream-data-direct-buffers large buffers, made " + ByteStreamSockets.get(kit.system()).buffers().made());
      server.binding.unbind();
    } finally {
      kit.shutdownTestKit();
    }
  }
  @Test
  void connectionsThatSendNoHandshakeHoldAtMostTheirLimitOfThreadsAndStreamsStillConnect() throws Exception {
    // Two may read their handshake at once, each for up to a minute: the third is closed at
    // once (not after the timeout), and a stream connects again once one of the two is gone.
    ActorTestKit kit = ActorTestKit.create(Nodes.config(
            "peer.userapi.stream-data-max-handshakes = 2, peer.userapi.stream-data-handshake-timeout = 60 s")
        .withFallback(testKit.system().settings().config()));
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ByteStreamSockets.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    ByteStreamSockets sockets = ByteStreamSockets.get(kit.system());
    try (Socket silent1 = new Socket(); Socket silent2 = new Socket(); Socket third = new Socket()) {
      Server server = new Server(kit.system(), UserApiSettings.from(kit.system().settings().config().getConfig("peer.userapi")));
      InetSocketAddress at = new InetSocketAddress("127.0.0.1", server.binding.localAddress().getPort());
      silent1.connect(at);
      silent2.connect(at);
      TestCluster.awaitCondition(Duration.ofSeconds(10), () -> sockets.handshakesInProgress() == 2,
          "both silent connections are reading their handshake");
      third.connect(at);
      long t0 = System.nanoTime();
      assertTrue(ByteStreamsTest.closedByServer(third), "the third is closed");
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(30).toNanos(), "at once, not after the handshake timeout");
      TestCluster.awaitCondition(Duration.ofSeconds(5), () -> logged.list.stream().anyMatch(e ->
          e.getLevel() == Level.WARN && e.getFormattedMessage().contains("stream-data-max-handshakes")),
          "the reason is logged");
      assertEquals(2, sockets.handshakesInProgress(), "the two silent ones are still waiting");

      silent1.close();
      TestCluster.awaitCondition(Duration.ofSeconds(10), () -> sockets.handshakesInProgress() == 1,
          "a connection that closes before its handshake no longer counts");
      End[] e = server.connect(kit.system(), kit, kit, "7".repeat(32));
      CompletionStage<ByteString> read = e[1].readAll(kit.system());
      byte[] data = random(100_000, 14);
      e[0].write(kit.system(), data, new Random(15));
      e[0].await(ByteStreamEndpoint.WriterDone.class);
      e[0].pipe.outgoing.end();
      e[1].await(ByteStreamEndpoint.ConnectionEnded.class);
      e[1].pipe.incoming.end();
      assertEquals(ByteString.fromArray(data), Nodes.await(read));
      assertEquals(1, sockets.handshakesInProgress(), "an attached connection no longer counts");
      server.binding.unbind();
    } finally {
      logger.detachAppender(logged);
      kit.shutdownTestKit();
    }
  }
}
