package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.userapi.CanonicalJson;
import io.peernode.protocol.userapi.EventDigest;
import io.peernode.protocol.userapi.EventSchema;
import io.prometheus.client.CollectorRegistry;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One node's PubSubNode: local matching, remote Deliver, dedup by digest. */
class PubSubNodeTest {

  static ActorTestKit testKit;
  static CollectorRegistry registry = new CollectorRegistry();
  static ActorRef<PubSubNode.Command> pubsub;

  @BeforeAll
  static void start() {
    testKit = Nodes.localTestKit();
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    UserApiSettings settings = UserApiSettings.from(testKit.system().settings().config().getConfig("peer.userapi"));
    pubsub = testKit.spawn(PubSubNode.create(io.peernode.actors.cluster.TestCluster.randomId(), settings, UserApiMetrics.register(registry)));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static EventSchema schema(String json) {
    return EventSchema.compile(CanonicalJson.parse(json));
  }

  static void publish(String event) {
    TestProbe<Done> done = testKit.createTestProbe();
    String canonical = CanonicalJson.of(CanonicalJson.parse(event));
    pubsub.tell(new PubSubNode.Publish(canonical, EventDigest.ofCanonical(canonical), done.getRef()));
    done.expectMessage(Done.getInstance());
  }

  static Subscription.Events drain(EventSchema s) {
    TestProbe<Subscription.Events> probe = testKit.createTestProbe();
    pubsub.tell(new PubSubNode.DrainEvents(s.canonical(), probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void routesLocallyAndFromOtherNodesAndDropsDuplicates() {
    EventSchema evens = schema("{\"properties\":{\"n\":{\"multipleOf\":2}},\"required\":[\"n\"]}");
    EventSchema all = schema("{\"type\":\"object\"}");
    TestProbe<Done> done = testKit.createTestProbe();
    pubsub.tell(new PubSubNode.Subscribe(evens, done.getRef()));
    pubsub.tell(new PubSubNode.Subscribe(all, done.getRef()));
    done.receiveSeveralMessages(2);

    publish("{\"n\":1}");
    publish("{\"n\":2}");
    publish("{\"n\":2}"); // same digest: dropped
    // From another node: only the schemas the publisher matched, once per digest.
    String e4 = "{\"n\":4}";
    pubsub.tell(new PubSubNode.Deliver(EventDigest.ofCanonical(e4), e4, List.of(all.canonical())));
    pubsub.tell(new PubSubNode.DeliverBatch(List.of(
        new PubSubNode.Deliver(EventDigest.ofCanonical(e4), e4, List.of(all.canonical())))));

    List<JsonNode> evenEvents = drain(evens).events;
    List<JsonNode> allEvents = drain(all).events;
    assertEquals(List.of(CanonicalJson.parse("{\"n\":2}")), evenEvents);
    assertEquals(List.of(CanonicalJson.parse("{\"n\":1}"), CanonicalJson.parse("{\"n\":2}"), CanonicalJson.parse("{\"n\":4}")), allEvents);
    assertEquals(2.0, registry.getSampleValue("peer_userapi_events_duplicate_total"));

    TestProbe<List<JsonNode>> list = testKit.createTestProbe();
    pubsub.tell(new PubSubNode.ListSubscriptions(list.getRef()));
    assertEquals(2, list.receiveMessage().size());
    pubsub.tell(new PubSubNode.Unsubscribe(evens.canonical(), done.getRef()));
    done.receiveMessage();
    assertFalse(drain(evens).subscribed);
  }
}
