package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.util.ByteString;
import io.peernode.actors.cluster.TestCluster;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** stream_open / read / write / list / close between nodes, through the Java API. */
class ByteStreamClusterTest {

  static TestCluster cluster;
  static TestCluster.Node nodeA;
  static TestCluster.Node nodeB;
  static UserApi a;
  static UserApi b;
  static final int MIB = 1024 * 1024;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(3);
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    a = Nodes.userApi(nodeA);
    b = Nodes.userApi(nodeB);
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  static String open(UserApi from, TestCluster.Node to) {
    Optional<String> id = await(from.streamOpen(to.id.hex(), to.host(), to.port()));
    assertTrue(id.isPresent(), "stream opened");
    return id.get();
  }

  static byte[] random(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Reads from {@code api} until {@code n} bytes came (or 15 s passed). */
  static byte[] readExactly(UserApi api, String id, int n) {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    TestCluster.awaitCondition(Duration.ofSeconds(15), () -> {
      Optional<ByteString> chunk = await(api.streamRead(id, n - got.size()));
      chunk.ifPresent(c -> got.writeBytes(c.toArray()));
      return got.size() >= n || chunk.isEmpty();
    }, n + " bytes");
    return got.toByteArray();
  }

  /** Writes all of {@code data}, retrying while the peer's buffer is full, reading nothing. */
  static void writeAll(UserApi api, String id, byte[] data) {
    int[] off = {0};
    TestCluster.awaitCondition(Duration.ofSeconds(15), () -> {
      int n = Math.min(64 * 1024, data.length - off[0]);
      off[0] += await(api.streamWrite(id, ByteString.fromArray(data, off[0], n))).orElseThrow();
      return off[0] == data.length;
    }, "write " + data.length + " bytes");
  }

  @Test
  void bytesFlowInOrderBothWaysAndTheIdIsKnownOnBothSides() {
    String id = open(a, nodeB);
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(b.streamList()).containsKey(id), "B knows the stream");
    assertTrue(await(a.streamList()).containsKey(id));

    byte[] toB = random(300_000, 1);
    byte[] toA = random(200_000, 2);
    writeAll(a, id, toB);
    writeAll(b, id, toA);
    assertArrayEquals(toB, readExactly(b, id, toB.length));
    assertArrayEquals(toA, readExactly(a, id, toA.length));
    // Hex, as JSON-RPC carries it.
    assertEquals(Optional.of(3), await(a.streamWriteHex(id, "00ff10")));
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(b.streamList()).getOrDefault(id, 0) == 3, "3 unread on B");
    assertEquals("00ff10", await(b.streamReadHex(id, null)));
    assertEquals("", await(b.streamReadHex(id, null)));
    assertTrue(await(a.streamClose(id)));
  }

  @Test
  void writeAcceptsWhatFitsInThePeersBufferThenZeroUntilThePeerReads() {
    String id = open(a, nodeB);
    int buffer = b.settings().streamBuffer;
    byte[] data = random(buffer / 2 + 1000, 3);
    assertEquals(Optional.of(data.length), await(a.streamWrite(id, ByteString.fromArray(data))));
    // Only what is left of the peer's buffer is accepted.
    Optional<Integer> second = await(a.streamWrite(id, ByteString.fromArray(data)));
    assertEquals(Optional.of(buffer - data.length), second);
    assertEquals(Optional.of(0), await(a.streamWrite(id, ByteString.fromArray(new byte[] {1, 2, 3}))));
    // stream_list on B shows the unread bytes once they arrived: exactly the buffer, never more.
    TestCluster.awaitCondition(Duration.ofSeconds(10), () -> await(b.streamList()).getOrDefault(id, 0) == buffer, "B's buffer full");
    assertEquals(Optional.of(0), await(a.streamWrite(id, ByteString.fromArray(new byte[] {1}))));

    // B reads 1000 bytes: exactly that much room comes back to A.
    assertEquals(1000, await(b.streamRead(id, 1000)).orElseThrow().size());
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> {
      int accepted = await(a.streamWrite(id, ByteString.fromArray(new byte[1]))).orElseThrow();
      return accepted == 1;
    }, "credit back on A");
    assertTrue(await(a.streamClose(id)));
  }

  @Test
  void closingOnEitherSideClosesBothAndReadsReturnTheRestThenNull() {
    for (boolean closeOnReader : new boolean[] {false, true}) {
      String id = open(a, nodeB);
      byte[] data = random(5000, 4);
      assertEquals(Optional.of(5000), await(a.streamWrite(id, ByteString.fromArray(data))));
      TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(b.streamList()).getOrDefault(id, 0) == 5000, "arrived");
      assertTrue(await((closeOnReader ? b : a).streamClose(id)));
      // The other side sees the close: writes there give null (an empty write does not add bytes).
      UserApi other = closeOnReader ? a : b;
      TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(other.streamWrite(id, ByteString.emptyByteString())).isEmpty(), "closed on the other side");
      assertFalse(await((closeOnReader ? a : b).streamClose(id)));
      assertEquals(Map.of(id, 5000), Map.of(id, await(b.streamList()).get(id)));
      assertArrayEquals(java.util.Arrays.copyOf(data, 2000), await(b.streamRead(id, 2000)).orElseThrow().toArray());
      assertArrayEquals(java.util.Arrays.copyOfRange(data, 2000, 5000), await(b.streamRead(id, null)).orElseThrow().toArray());
      assertTrue(await(b.streamRead(id, null)).isEmpty(), "null after the rest");
    }
  }

  @Test
  void thePeerLeavingClosesTheStream() {
    TestCluster.Node d = cluster.addNode();
    UserApi onD = Nodes.userApi(d);
    String id = open(a, d);
    assertEquals(Optional.of(4), await(onD.streamWrite(id, ByteString.fromArray(new byte[] {9, 8, 7, 6}))));
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(a.streamList()).getOrDefault(id, 0) == 4, "arrived on A");
    cluster.leave(d);
    TestCluster.awaitCondition(Duration.ofSeconds(10), () -> await(a.streamWrite(id, ByteString.emptyByteString())).isEmpty(), "closed on A");
    assertEquals(ByteString.fromArray(new byte[] {9, 8, 7, 6}), await(a.streamRead(id, null)).orElseThrow());
    assertNull(await(a.streamReadHex(id, null)));
  }

  @Test
  void theJavaApisSourceAndSinkAttachEachTimeTheyRunAndAnEmptySinkClosesTheStream() {
    String id = open(a, nodeB);
    akka.stream.javadsl.Source<ByteString, akka.NotUsed> source = b.streamSource(id);
    java.util.concurrent.CompletionStage<ByteString> first =
        source.runWith(akka.stream.javadsl.Sink.fold(ByteString.emptyByteString(), ByteString::concat), nodeB.system());
    assertEquals(Optional.of(3), await(a.streamWrite(id, ByteString.fromArray(new byte[] {1, 2, 3}))));
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(b.streamList()).getOrDefault(id, -1) == 0,
        "the first run took the bytes");
    // The same source run again is a second reader: it completes at once, with nothing.
    assertEquals(java.util.List.of(), await(source.runWith(akka.stream.javadsl.Sink.seq(), nodeB.system())));
    // A sink whose upstream completes with no element still closes the stream.
    akka.stream.javadsl.Source.<ByteString>empty().runWith(a.streamSink(id), nodeA.system());
    assertEquals(ByteString.fromArray(new byte[] {1, 2, 3}), await(first), "the first run ends with the stream");
    TestCluster.awaitCondition(Duration.ofSeconds(5), () -> await(a.streamWrite(id, ByteString.emptyByteString())).isEmpty(),
        "closed on A");
    // Unknown streams fail the source and cancel the sink's upstream with the lookup's error.
    String unknown = "0123456789abcdef0123456789abcdef";
    assertEquals(UserApiException.Kind.NOT_FOUND,
        Nodes.failure(b.streamSource(unknown).runWith(akka.stream.javadsl.Sink.seq(), nodeB.system())).kind());
    java.util.concurrent.CompletionStage<akka.Done> upstream = akka.stream.javadsl.Source.repeat(ByteString.fromArray(new byte[] {1}))
        .watchTermination(akka.stream.javadsl.Keep.right()).to(a.streamSink(unknown)).run(nodeA.system());
    assertEquals(UserApiException.Kind.NOT_FOUND, Nodes.failure(upstream).kind());
  }

  @Test
  void unknownStreamsAndBadHexAreClearErrors() {
    assertEquals(UserApiException.Kind.NOT_FOUND, Nodes.failure(a.streamRead("0123456789abcdef0123456789abcdef", null)).kind());
    UserApiException bad = Nodes.failure(a.streamRead("nope", null));
    assertEquals("streamid", bad.param());
    String id = open(a, nodeB);
    UserApiException hex = Nodes.failure(a.streamWriteHex(id, "0g"));
    assertEquals(UserApiException.Kind.BAD_PARAMS, hex.kind());
    assertEquals("data", hex.param());
    assertTrue(hex.getMessage().contains("non-hex"), hex.getMessage());
    assertEquals("size", Nodes.failure(a.streamRead(id, -1)).param());
    assertTrue(await(a.streamClose(id)));
  }

  @Test
  void openingWithAWrongIdForTheAddressGivesNull() {
    assertTrue(await(a.streamOpen(cluster.node(2).id.hex(), nodeB.host(), nodeB.port())).isEmpty());
    assertTrue(await(a.streamOpen(TestCluster.randomId().hex(), nodeB.host(), nodeB.port())).isEmpty());
  }

  @Test
  void aConnectionWithAWrongTokenIsClosedAndTheStreamIsNotAffected() throws Exception {
    String id = open(a, nodeB);
    try (java.net.Socket intruder = new java.net.Socket(nodeB.host(), b.streamDataPort())) {
      intruder.getOutputStream().write(new io.peernode.protocol.userapi.StreamDataHandshake(
          io.peernode.protocol.Hex.decode(id), new byte[io.peernode.protocol.userapi.StreamDataHandshake.TOKEN_BYTES]).encode());
      intruder.getOutputStream().write(new byte[] {1, 2, 3});
      intruder.setSoTimeout(10_000);
      int r;
      try {
        r = intruder.getInputStream().read();
      } catch (java.io.IOException reset) {
        r = -1;
      }
      assertEquals(-1, r, "B closed the connection with the wrong token");
    }
    byte[] data = random(300_000, 9);
    writeAll(a, id, data);
    assertArrayEquals(data, readExactly(b, id, data.length), "the stream still carries A's bytes, and only them");
    assertEquals(Optional.of(2), await(b.streamWrite(id, ByteString.fromArray(new byte[] {5, 6}))));
    assertArrayEquals(new byte[] {5, 6}, readExactly(a, id, 2));
    assertTrue(await(a.streamClose(id)));
  }
}
