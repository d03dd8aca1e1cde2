package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.serialization.jackson.JacksonCborSerializer;
import akka.stream.SourceRef;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.StreamRefs;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every message that crosses the cluster survives Jackson CBOR, as configured. */
class StreamsSerializationTest {

  static ActorTestKit testKit;
  static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("StreamsSerializationTest", TestCluster.config(""));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T message) {
    Serializer serializer = serialization.findSerializerFor(message);
    assertInstanceOf(JacksonCborSerializer.class, serializer,
        () -> message.getClass() + " must be bound to jackson-cbor");
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    return (T) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  @Test
  void streamMessage() {
    StreamMessage first = new StreamMessage("s", 3, 1000L, 60, 0, null, "{\"a\":\"\\u00e9\"}");
    StreamMessage later = new StreamMessage("s", 3, 1001L, 60, 7, 6L, "{}");
    assertEquals(first, roundTrip(first));
    assertEquals(later, roundTrip(later));
  }

  @Test
  void eventBatch() {
    StreamMessage first = new StreamMessage("s", 3, 1000L, 60, 0, null, "{\"a\":\"\\u00e9\"}");
    StreamMessage later = new StreamMessage("s", 3, 1001L, 60, 1, 0L, "{}");
    EventBatch back = roundTrip(EventBatch.of(first, later));
    assertEquals(List.of(first, later), back.events);
    assertEquals(List.of(), roundTrip(new EventBatch(List.of())).events);
  }

  @Test
  void eventRange() {
    EventRange r = new EventRange(1, Long.MAX_VALUE, 5, 6);
    assertEquals(r, roundTrip(r));
  }

  @Test
  void publishAndItsReplies() {
    TestProbe<StreamPartition.PublishReply> probe = testKit.createTestProbe();
    StreamPartition.Publish p = roundTrip(new StreamPartition.Publish("{}", 12L, 60, probe.ref()));
    assertEquals("{}", p.content);
    assertEquals(12L, p.timestamp);
    assertEquals(60, p.ttl);
    assertEquals(probe.ref(), p.replyTo);
    assertEquals(false, p.rejectionsOnly);
    assertEquals(true,
        roundTrip(new StreamPartition.Publish("{}", 12L, 60, probe.ref(), true)).rejectionsOnly);
    StreamPartition.Publish withLiteral =
        roundTrip(new StreamPartition.Publish("{}", 12L, 60, probe.ref(), true, "\"{}\""));
    assertEquals("{}", withLiteral.content);
    assertEquals(null, withLiteral.contentJson, "the literal stays on the node that read it");
    StreamPartition.PublishBatch batch = roundTrip(new StreamPartition.PublishBatch(List.of(
        new StreamPartition.Publish("{\"a\":1}", 12L, 60, probe.ref(), true, "\"{}\""),
        new StreamPartition.Publish("{\"a\":2}", 13L, 61, probe.ref()))));
    assertEquals(2, batch.publishes.size());
    assertEquals("{\"a\":1}", batch.publishes.get(0).content);
    assertEquals(true, batch.publishes.get(0).rejectionsOnly);
    assertEquals(null, batch.publishes.get(0).contentJson);
    assertEquals(13L, batch.publishes.get(1).timestamp);
    assertEquals(61, batch.publishes.get(1).ttl);
    assertEquals(probe.ref(), batch.publishes.get(1).replyTo);
    assertEquals(42L, roundTrip(new StreamPartition.Published(42)).offset);
    assertEquals("busy", roundTrip(new StreamPartition.PublishRejected("busy")).error);
  }

  @Test
  void resendAndItsReplies() {
    TestProbe<StreamPartition.ResendReply> probe = testKit.createTestProbe();
    StreamPartition.Resend r =
        roundTrip(new StreamPartition.Resend(EventRange.offsets(2, 9), -1, probe.ref()));
    assertEquals(EventRange.offsets(2, 9), r.range);
    assertEquals(-1, r.last);
    assertEquals(probe.ref(), r.replyTo);
    assertEquals("no", roundTrip(new StreamPartition.ResendRejected("no")).error);

    StreamMessage m = new StreamMessage("s", 0, 1L, 60, 0, null, "{}");
    SourceRef<StreamMessage> ref =
        Source.single(m).runWith(StreamRefs.sourceRef(), testKit.system());
    StreamPartition.ResendStream back = roundTrip(new StreamPartition.ResendStream(ref));
    List<StreamMessage> got = back.events.getSource().runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().join();
    assertEquals(List.of(m), got);
  }

  @Test
  void nextOffset() {
    TestProbe<StreamPartition.NextOffset> probe = testKit.createTestProbe();
    assertEquals(probe.ref(), roundTrip(new StreamPartition.GetNextOffset(probe.ref())).replyTo);
    assertEquals(7L, roundTrip(new StreamPartition.NextOffset(7)).offset);
    StreamPartition.NextOffset unavailable = roundTrip(new StreamPartition.NextOffset(-1,
        "partition 0 of stream s is unavailable: its home node ab is not in the cluster"));
    assertEquals(-1L, unavailable.offset);
    assertEquals("partition 0 of stream s is unavailable: its home node ab is not in the cluster",
        unavailable.error);
    assertEquals(null, roundTrip(new StreamPartition.NextOffset(3)).error);
  }

  @Test
  void stopMessage() {
    assertTrue(roundTrip(new StreamPartition.Stop()) instanceof StreamPartition.Stop);
  }
}
