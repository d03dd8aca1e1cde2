package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.serialization.Serializer;
import akka.serialization.Serializers;
import io.peernode.protocol.userapi.EventDigest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PubSubNode.EventBatch, the events between nodes, survives its binary serializer both ways Akka uses it. */
class EventBatchSerializerTest extends SerializationTestKit {

  static final String E1 = "{\"a\":1}";
  static final String E2 = "{\"t\":\"h\u00e9 \u20ac \ud83d\ude00\"}";
  static final String E3 = "{\"b\":[true,null]}";

  static PubSubNode.EventBatch sample() {
    return PubSubNode.EventBatch.of(List.of(
        new PubSubNode.Deliver(EventDigest.ofCanonical(E1), E1, List.of("{}")),
        new PubSubNode.Deliver(EventDigest.ofCanonical(E2), E2, List.of("{}", "{\"title\":\"\u00fcber\"}")),
        new PubSubNode.Deliver("not-a-sha256-digest", E3, List.of("{\"title\":\"\u00fcber\"}"))));
  }

  static void assertSame(PubSubNode.EventBatch expected, PubSubNode.EventBatch actual) {
    List<PubSubNode.Deliver> want = expected.delivers();
    List<PubSubNode.Deliver> got = actual.delivers();
    assertEquals(want.size(), got.size());
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i).digest, got.get(i).digest);
      assertEquals(want.get(i).event, got.get(i).event);
      assertEquals(want.get(i).schemas, got.get(i).schemas);
    }
  }

  @Test
  void isBoundToItsSerializerAndRoundTripsAsBytes() {
    PubSubNode.EventBatch batch = sample();
    Serializer serializer = serialization.findSerializerFor(batch);
    assertEquals(EventBatchSerializer.class, serializer.getClass(), "bound in peer-userapi.conf");
    assertEquals(EventBatchSerializer.IDENTIFIER, serializer.identifier());
    assertEquals(2, batch.schemas.length, "schema texts once per batch");
    byte[] bytes = serialization.serialize(batch).get();
    String manifest = Serializers.manifestFor(serializer, batch);
    PubSubNode.EventBatch back = (PubSubNode.EventBatch) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
    assertSame(batch, back);
    // 64-hex digests travel as 32 bytes: the wire form is barely more than the events themselves.
    int payload = E1.length() + E2.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + E3.length();
    assertEquals(true, bytes.length < payload + 2 * 32 + "not-a-sha256-digest".length() + 100, bytes.length + " bytes");
  }

  @Test
  void roundTripsThroughAnArteryStyleDirectBuffer() throws Exception {
    EventBatchSerializer serializer = (EventBatchSerializer) serialization.serializerFor(PubSubNode.EventBatch.class);
    PubSubNode.EventBatch batch = sample();
    ByteBuffer buf = ByteBuffer.allocateDirect(4096).order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(12345); // a header before the message, as in Artery's envelope
    serializer.toBinary(batch, buf);
    assertEquals(ByteOrder.LITTLE_ENDIAN, buf.order(), "the buffer's order is left as it was");
    buf.flip();
    assertEquals(12345, buf.getInt());
    PubSubNode.EventBatch back = (PubSubNode.EventBatch) serializer.fromBinary(buf, EventBatchSerializer.MANIFEST);
    assertSame(batch, back);
    assertEquals(0, buf.remaining());
    // Both forms are the same bytes.
    buf.position(4);
    byte[] viaBuffer = new byte[buf.remaining()];
    buf.get(viaBuffer);
    assertArrayEquals(serializer.toBinary(batch), viaBuffer);
  }

  @Test
  void anEmptyBatchAndEventsWithoutMatchesRoundTrip() throws Exception {
    EventBatchSerializer serializer = (EventBatchSerializer) serialization.serializerFor(PubSubNode.EventBatch.class);
    PubSubNode.EventBatch empty = PubSubNode.EventBatch.of(List.of());
    assertEquals(0, ((PubSubNode.EventBatch) serializer.fromBinary(serializer.toBinary(empty), "B")).size());
    PubSubNode.EventBatch none = PubSubNode.EventBatch.of(List.of(new PubSubNode.Deliver("", "{}", List.of())));
    assertSame(none, (PubSubNode.EventBatch) serializer.fromBinary(serializer.toBinary(none), "B"));
  }

  @Test
  void malformedBytesAreRefusedWithAClearError() throws Exception {
    EventBatchSerializer serializer = (EventBatchSerializer) serialization.serializerFor(PubSubNode.EventBatch.class);
    byte[] good = serializer.toBinary(sample());
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> serializer.fromBinary(truncated, "B"));
    assertEquals(true, e.getMessage().startsWith("malformed EventBatchSerializer message"), e.getMessage());
    byte[] badVersion = good.clone();
    badVersion[0] = 9;
    assertThrows(IllegalArgumentException.class, () -> serializer.fromBinary(badVersion, "B"));
    // A schema index outside the table: the last event's only match (index 1 of 2) becomes 7.
    byte[] badIndex = good.clone();
    ByteBuffer.wrap(badIndex).putInt(badIndex.length - 4, 7);
    assertThrows(IllegalArgumentException.class, () -> serializer.fromBinary(badIndex, "B"));
    assertThrows(java.io.NotSerializableException.class, () -> serializer.fromBinary(good, "X"));
  }
}
