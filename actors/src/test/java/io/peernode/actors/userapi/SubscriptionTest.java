package io.peernode.actors.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SubscriptionTest {

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
  void keepsEventsOldestFirstAndRefusesTheNewestWhenFull() {
    CollectorRegistry registry = new CollectorRegistry();
    Counter refused = Counter.build("refused_total", "x").labelNames("queue").register(registry);
    ActorRef<Subscription.Command> sub = testKit.spawn(Subscription.create("{}", 2, refused.labels("subscription")));
    sub.tell(new Subscription.Offer("{\"n\":1}"));
    sub.tell(new Subscription.Offer("{\"n\":2}"));
    sub.tell(new Subscription.Offer("{\"n\":3}"));
    TestProbe<Subscription.Events> probe = testKit.createTestProbe();
    sub.tell(new Subscription.Drain(probe.getRef()));
    Subscription.Events events = probe.receiveMessage();
    assertTrue(events.subscribed);
    assertEquals(List.of(CanonicalJson.parse("{\"n\":1}"), CanonicalJson.parse("{\"n\":2}")), events.events);
    assertEquals(1.0, registry.getSampleValue("refused_total", new String[] {"queue"}, new String[] {"subscription"}));

    sub.tell(new Subscription.Drain(probe.getRef()));
    assertEquals(List.of(), probe.receiveMessage().events);
    sub.tell(new Subscription.Offer("{\"n\":4}"));
    sub.tell(new Subscription.Drain(probe.getRef()));
    assertEquals(List.of(CanonicalJson.parse("{\"n\":4}")), probe.receiveMessage().events);
  }
}
