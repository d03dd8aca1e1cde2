package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.stream.impl.streamref.StreamRefsProtocol;
import akka.stream.serialization.StreamRefSerializer;
import akka.util.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.NotSerializableException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stream ref elements' serializer: bound for {@code SequencedOnNext}; a ByteString element
 * survives both of Akka's paths (byte array, and Artery's ByteBuffer) whatever its shape; any
 * other element keeps Akka's own format.
 */
class StreamElementSerializerTest extends SerializationTestKit {

  static StreamRefsProtocol.SequencedOnNext<Object> element(long seqNr, Object payload) {
    return new StreamRefsProtocol.SequencedOnNext<>(seqNr, payload);
  }

  static ByteString random(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return ByteString.fromArrayUnsafe(bytes);
  }

  /** Through Serialization's byte array path, as Akka's other transports and tests use it. */
  @SuppressWarnings("unchecked")
  static StreamRefsProtocol.SequencedOnNext<Object> viaBytes(Object message) {
    Serializer serializer = serialization.findSerializerFor(message);
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    return (StreamRefsProtocol.SequencedOnNext<Object>) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  /** Through the ByteBuffer path, as Artery uses it: written at an offset, read with its limit. */
  @SuppressWarnings("unchecked")
  static StreamRefsProtocol.SequencedOnNext<Object> viaBuffer(Object message) throws NotSerializableException {
    StreamElementSerializer serializer = (StreamElementSerializer) serialization.findSerializerFor(message);
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    buf.put(new byte[] {7, 7, 7}); // Artery's header comes first
    int start = buf.position();
    serializer.toBinary(message, buf);
    buf.put(new byte[] {9, 9}); // and the buffer is larger than the message
    buf.flip();
    buf.position(start).limit(buf.limit() - 2);
    Object read = serializer.fromBinary(buf, serializer.manifest(message));
    assertEquals(0, buf.remaining(), "the whole message was read");
    return (StreamRefsProtocol.SequencedOnNext<Object>) read;
  }

  @Test
  void isBoundForStreamRefElementsOnly() {
    assertInstanceOf(StreamElementSerializer.class, serialization.findSerializerFor(element(0, ByteString.fromString("x"))));
    assertInstanceOf(StreamElementSerializer.class, serialization.findSerializerFor(element(0, "not bytes")));
    // The stream refs' other messages keep Akka's serializer.
    assertInstanceOf(StreamRefSerializer.class, serialization.findSerializerFor(new StreamRefsProtocol.CumulativeDemand(5)));
    assertInstanceOf(StreamRefSerializer.class, serialization.findSerializerFor(new StreamRefsProtocol.RemoteStreamCompleted(5)));
  }

  @Test
  void aByteStringElementRoundTripsWhateverItsShape() throws Exception {
    ByteString big = random(256 * 1024, 1);
    List<ByteString> shapes = List.of(
        ByteString.emptyByteString(),
        ByteString.fromString("hi"),
        big, // one array, all of it
        big.drop(1000).take(5000), // a slice of an array
        random(70_000, 2).concat(random(3, 3)).concat(random(65_536, 4))); // several arrays
    long[] seqNrs = {0, 1, 4095, Long.MAX_VALUE};
    for (ByteString bytes : shapes) {
      for (long seqNr : seqNrs) {
        StreamRefsProtocol.SequencedOnNext<Object> sent = element(seqNr, bytes);
        assertEquals(StreamElementSerializer.BYTES, Serializers.manifestFor(serialization.findSerializerFor(sent), sent));
        for (StreamRefsProtocol.SequencedOnNext<Object> got : List.of(viaBytes(sent), viaBuffer(sent))) {
          assertEquals(seqNr, got.seqNr());
          assertInstanceOf(ByteString.class, got.payload());
          assertEquals(bytes, got.payload());
          assertArrayEquals(bytes.toArray(), ((ByteString) got.payload()).toArray());
        }
      }
    }
  }

  @Test
  void theFormatIsTheSequenceNumberThenTheBytes() {
    byte[] bytes = serialization.serialize(element(0x0102030405060708L, ByteString.fromString("abc"))).get();
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 'a', 'b', 'c'}, bytes);
  }

  @Test
  void anyOtherElementKeepsAkkasFormat() throws Exception {
    StreamRefSerializer akka = new StreamRefSerializer((akka.actor.ExtendedActorSystem) Adapter.toClassic(testKit.system()));
    for (Object payload : List.of("a string", 42L, new ByteStreamEndpoint.Credit(7))) {
      StreamRefsProtocol.SequencedOnNext<Object> sent = element(3, payload);
      StreamElementSerializer serializer = (StreamElementSerializer) serialization.findSerializerFor(sent);
      assertEquals(akka.manifest(sent), serializer.manifest(sent));
      assertArrayEquals(akka.toBinary(sent), serialization.serialize(sent).get());
      for (StreamRefsProtocol.SequencedOnNext<Object> got : List.of(viaBytes(sent), viaBuffer(sent))) {
        assertEquals(3, got.seqNr());
        if (payload instanceof ByteStreamEndpoint.Credit c) {
          assertEquals(c.bytes, ((ByteStreamEndpoint.Credit) got.payload()).bytes);
        } else {
          assertEquals(payload, got.payload());
        }
      }
    }
  }

  @Test
  void aBufferTooSmallOverflowsAndATruncatedElementIsRefused() {
    StreamElementSerializer serializer = (StreamElementSerializer) serialization.findSerializerFor(element(0, ByteString.emptyByteString()));
    StreamRefsProtocol.SequencedOnNext<Object> sent = element(1, random(1000, 5));
    assertThrows(BufferOverflowException.class, () -> serializer.toBinary(sent, ByteBuffer.allocate(1000)));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[] {1, 2, 3}, StreamElementSerializer.BYTES));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(ByteBuffer.wrap(new byte[7]), StreamElementSerializer.BYTES));
  }

  @Test
  void theNodeRefusesAChunkLargerThanItsFrame() {
    Config akka = testKit.system().settings().config();
    int chunk = UserApiSettings.from(akka.getConfig("peer.userapi")).streamChunk;
    // The defaults fit: the chunks go on the large-message channel.
    assertTrue(akka.getStringList("akka.remote.artery.large-message-destinations").contains(UserApi.STREAM_ELEMENTS_DESTINATION));
    UserApi.checkStreamChunkFitsFrame(akka, chunk);
    IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
        () -> UserApi.checkStreamChunkFitsFrame(akka, akka.getBytes("akka.remote.artery.advanced.maximum-large-frame-size").intValue()));
    assertTrue(tooLarge.getMessage().contains("maximum-large-frame-size"), tooLarge.getMessage());
    // Without the large-message channel, the ordinary frame (256 KiB) is the bound.
    Config ordinary = ConfigFactory.parseString("akka.remote.artery.large-message-destinations = []").withFallback(akka);
    IllegalArgumentException noLarge = assertThrows(IllegalArgumentException.class,
        () -> UserApi.checkStreamChunkFitsFrame(ordinary, chunk));
    assertTrue(noLarge.getMessage().contains("maximum-frame-size"), noLarge.getMessage());
    UserApi.checkStreamChunkFitsFrame(ordinary, 64 * 1024);
  }
}
