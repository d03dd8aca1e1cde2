package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class InboxTest {

  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = Nodes.localTestKit();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void groupsBySenderInArrivalOrderAndRefusesTheNewestWhenFull() {
    CollectorRegistry registry = new CollectorRegistry();
    Counter refused = Counter.build("refused_total", "x").labelNames("queue").register(registry);
    ActorRef<Inbox.Command> inbox = testKit.spawn(Inbox.create(3, refused.labels("inbox")));
    TestProbe<Inbox.Accepted> acks = testKit.createTestProbe();
    inbox.tell(new Inbox.Deliver("b", "1", acks.getRef()));
    inbox.tell(new Inbox.Deliver("a", "2", acks.getRef()));
    inbox.tell(new Inbox.Deliver("b", "3", acks.getRef()));
    inbox.tell(new Inbox.Deliver("a", "4", acks.getRef()));
    assertTrue(acks.receiveMessage().accepted);
    assertTrue(acks.receiveMessage().accepted);
    assertTrue(acks.receiveMessage().accepted);
    assertFalse(acks.receiveMessage().accepted);
    assertEquals(1.0, registry.getSampleValue("refused_total", new String[] {"queue"}, new String[] {"inbox"}));

    TestProbe<Map<String, List<JsonNode>>> lists = testKit.createTestProbe();
    inbox.tell(new Inbox.Drain(lists.getRef()));
    Map<String, List<JsonNode>> got = lists.receiveMessage();
    assertEquals(List.of(CanonicalJson.parse("1"), CanonicalJson.parse("3")), got.get("b"));
    assertEquals(List.of(CanonicalJson.parse("2")), got.get("a"));
    assertEquals(List.of("b", "a"), List.copyOf(got.keySet()));

    // Room again after the drain.
    inbox.tell(new Inbox.Deliver("a", "5", acks.getRef()));
    assertTrue(acks.receiveMessage().accepted);
  }
}
