package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every user API message that crosses the cluster survives Akka serialization (Jackson CBOR). */
class UserApiSerializationTest extends SerializationTestKit {

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T message) {
    Serializer serializer = serialization.findSerializerFor(message);
    assertEquals("akka.serialization.jackson.JacksonCborSerializer", serializer.getClass().getName(),
        message.getClass() + " must use the Jackson CBOR binding");
    byte[] bytes = serialization.serialize(message).get(); // sets the transport information ActorRefs need
    String manifest = Serializers.manifestFor(serializer, message);
    return (T) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  @Test
  void pubsubDeliver() {
    PubSubNode.Deliver d = roundTrip(new PubSubNode.Deliver("ab12", "{\"a\":1}", List.of("{}", "{\"type\":\"object\"}")));
    assertEquals("ab12", d.digest);
    assertEquals("{\"a\":1}", d.event);
    assertEquals(List.of("{}", "{\"type\":\"object\"}"), d.schemas);
  }

  @Test
  void pubsubDeliverBatch() {
    PubSubNode.DeliverBatch b = roundTrip(new PubSubNode.DeliverBatch(List.of(
        new PubSubNode.Deliver("01", "{\"a\":1}", List.of("{}")),
        new PubSubNode.Deliver("02", "{\"a\":2}", List.of("{}", "true")))));
    assertEquals(2, b.events.size());
    assertEquals("02", b.events.get(1).digest);
    assertEquals("{\"a\":2}", b.events.get(1).event);
    assertEquals(List.of("{}", "true"), b.events.get(1).schemas);
  }

  @Test
  void inboxDeliverAndAccepted() {
    TestProbe<Inbox.Accepted> probe = testKit.createTestProbe();
    Inbox.Deliver d = roundTrip(new Inbox.Deliver("f".repeat(40), "[1,\"x\"]", probe.getRef()));
    assertEquals("f".repeat(40), d.from);
    assertEquals("[1,\"x\"]", d.message);
    assertEquals(probe.getRef(), d.replyTo);
    assertEquals(true, roundTrip(new Inbox.Accepted(true)).accepted);
    assertEquals(false, roundTrip(new Inbox.Accepted(false)).accepted);
  }

  @Test
  void streamOpenMessages() {
    TestProbe<ByteStreamEndpoint.Command> endpoint = testKit.createTestProbe();
    ByteStreams.OpenRequest open = roundTrip(new ByteStreams.OpenRequest("0".repeat(32), "e".repeat(40), endpoint.getRef(), 1 << 20));
    assertEquals("0".repeat(32), open.streamId);
    assertEquals("e".repeat(40), open.from);
    assertEquals(endpoint.getRef(), open.initiator);
    assertEquals(1 << 20, open.initiatorBuffer);

    ByteStreamEndpoint.Opened opened = roundTrip(new ByteStreamEndpoint.Opened(endpoint.getRef(), 4096, "10.0.0.7", 40123, "ab".repeat(16)));
    assertEquals(endpoint.getRef(), opened.peer);
    assertEquals(4096, opened.peerBuffer);
    assertEquals("10.0.0.7", opened.dataHost);
    assertEquals(40123, opened.dataPort);
    assertEquals("ab".repeat(16), opened.token);

    assertEquals("full", roundTrip(new ByteStreamEndpoint.Refused("full")).reason);
  }
}
