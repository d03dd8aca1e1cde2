package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.cluster.TestCluster;
import io.peernode.protocol.userapi.CanonicalJson;
import io.peernode.protocol.userapi.EventDigest;
import io.peernode.protocol.userapi.EventSchema;
import io.prometheus.client.CollectorRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** EventBatch on a receiving node, and the publisher's bound on bytes in flight. */
class PubSubBatchTest {

  static Subscription.Events drain(ActorTestKit testKit, ActorRef<PubSubNode.Command> pubsub, EventSchema s) {
    TestProbe<Subscription.Events> probe = testKit.createTestProbe();
    pubsub.tell(new PubSubNode.DrainEvents(s.canonical(), probe.getRef()));
    return probe.receiveMessage();
  }

  static PubSubNode.Deliver deliver(String event, String... schemas) {
    return new PubSubNode.Deliver(EventDigest.ofCanonical(event), event, List.of(schemas));
  }

  @Test
  void anEventBatchReachesExactlyTheNamedSubscriptionsOncePerDigest() {
    ActorTestKit testKit = Nodes.localTestKit();
    try {
      Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
      CollectorRegistry registry = new CollectorRegistry();
      UserApiSettings settings = UserApiSettings.from(testKit.system().settings().config().getConfig("peer.userapi"));
      ActorRef<PubSubNode.Command> pubsub = testKit.spawn(PubSubNode.create(TestCluster.randomId(), settings, UserApiMetrics.register(registry)));
      EventSchema all = EventSchema.compile(json("{\"type\":\"object\"}"));
      EventSchema evens = EventSchema.compile(json("{\"properties\":{\"n\":{\"multipleOf\":2}},\"required\":[\"n\"]}"));
      TestProbe<Done> done = testKit.createTestProbe();
      pubsub.tell(new PubSubNode.Subscribe(all, done.getRef()));
      pubsub.tell(new PubSubNode.Subscribe(evens, done.getRef()));
      done.receiveSeveralMessages(2);

      String notHere = "{\"required\":[\"elsewhere\"]}";
      pubsub.tell(PubSubNode.EventBatch.of(List.of(
          deliver("{\"n\":1}", all.canonical()),
          deliver("{\"n\":2}", all.canonical(), evens.canonical()),
          deliver("{\"n\":3}", notHere), // a schema unsubscribed meanwhile: nobody here gets it
          deliver("{\"n\":2}", all.canonical(), evens.canonical()), // same digest in the batch: dropped
          deliver("{\"n\":4}", evens.canonical()))));
      // The same event again, by the old message and in a later batch: dropped by digest.
      pubsub.tell(deliver("{\"n\":4}", evens.canonical()));
      pubsub.tell(PubSubNode.EventBatch.of(List.of(deliver("{\"n\":1}", all.canonical()), deliver("{\"n\":6}", evens.canonical()))));

      assertEquals(List.of(json("{\"n\":1}"), json("{\"n\":2}")), drain(testKit, pubsub, all).events);
      assertEquals(List.of(json("{\"n\":2}"), json("{\"n\":4}"), json("{\"n\":6}")), drain(testKit, pubsub, evens).events);
      assertEquals(3.0, registry.getSampleValue("peer_userapi_events_duplicate_total"));
      assertEquals(5.0, registry.getSampleValue("peer_userapi_events_delivered_total"));
    } finally {
      testKit.shutdownTestKit();
    }
  }

  @Test
  void resultsValidatedOnTheCallersThreadCountOnlyForTheSchemasTheActorStillHas() {
    ActorTestKit testKit = Nodes.localTestKit();
    try {
      Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
      UserApiSettings settings = UserApiSettings.from(testKit.system().settings().config().getConfig("peer.userapi"));
      PubSubNode.Shared shared = new PubSubNode.Shared();
      java.util.concurrent.atomic.AtomicReference<PubSubNode.Prematch> current = shared.prematch;
      ActorRef<PubSubNode.Command> pubsub = testKit.spawn(
          PubSubNode.create(TestCluster.randomId(), settings, UserApiMetrics.register(new CollectorRegistry()), shared));
      EventSchema evens = EventSchema.compile(json("{\"properties\":{\"n\":{\"multipleOf\":2}},\"required\":[\"n\"]}"));
      TestProbe<Done> done = testKit.createTestProbe();
      pubsub.tell(new PubSubNode.Subscribe(evens, done.getRef()));
      done.receiveMessage();
      PubSubNode.Prematch now = current.get();
      assertEquals(1, now.local.length, "the actor published its local schemas");

      // A caller that validated against other arrays (say, before a subscription changed):
      // the actor validates again; its (here: wrong) results are not used.
      PubSubNode.Prematch stale = new LyingPrematch(new PubSubNode.Prematch(now.remote, new EventSchema[] {evens}));
      publishWith(pubsub, "{\"n\":1}", stale);
      assertEquals(List.of(), drain(testKit, pubsub, evens).events);
      // Against the very arrays the actor routes with, the caller's results stand.
      publishWith(pubsub, "{\"n\":3}", new LyingPrematch(now));
      assertEquals(List.of(json("{\"n\":3}")), drain(testKit, pubsub, evens).events);
      publishWith(pubsub, "{\"n\":4}", now);
      publishWith(pubsub, "{\"n\":5}", now);
      publishWith(pubsub, "{\"n\":6}", null);
      assertEquals(List.of(json("{\"n\":4}"), json("{\"n\":6}")), drain(testKit, pubsub, evens).events);
    } finally {
      testKit.shutdownTestKit();
    }
  }

  /** Claims that every event matches every schema: only to show whose results the actor uses. */
  static final class LyingPrematch extends PubSubNode.Prematch {
    LyingPrematch(PubSubNode.Prematch of) {
      super(of.remote, of.local);
    }

    @Override
    boolean[] match(EventSchema[] schemas, EventSchema.Event event) {
      boolean[] all = new boolean[schemas.length];
      java.util.Arrays.fill(all, true);
      return all;
    }
  }

  static void publishWith(ActorRef<PubSubNode.Command> pubsub, String event, PubSubNode.Prematch prematch) {
    String canonical = CanonicalJson.of(json(event));
    byte[] utf8 = canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    CompletableFuture<Void> done = new CompletableFuture<>();
    pubsub.tell(new PubSubNode.Publish(canonical, utf8, EventDigest.ofUtf8(utf8), EventDigest.sha256(utf8),
        EventSchema.Event.of(json(event)), prematch, done));
    await(done);
  }

  @Test
  void anIdleSubscriptionIsDrainedWithoutAskingAndNothingOfferedIsMissed() {
    TestCluster cluster = TestCluster.start(1, Nodes.config("peer.userapi.max-events-per-subscription = 2"));
    try {
      CollectorRegistry registry = new CollectorRegistry();
      UserApi api = Nodes.userApi(cluster.node(0), registry);
      JsonNode schema = json("{\"type\":\"object\",\"required\":[\"k\"]}");
      await(api.subscribe(schema));
      PubSubNode.Shared shared = api.pubsubShared();
      java.util.concurrent.atomic.AtomicInteger unread = shared.unread.get(CanonicalJson.of(schema));
      assertEquals(0, unread.get());
      assertEquals(List.of(), await(api.events(schema)));
      // Read your own publish: once publish completed, the offer is counted, so the drain asks.
      await(api.publish(json("{\"k\":1}")));
      assertEquals(List.of(json("{\"k\":1}")), await(api.events(schema)));
      assertEquals(0, unread.get());
      // Refused events (queue of 2) are taken off the count: it returns to 0, not to 1.
      for (int i = 2; i <= 4; i++) {
        await(api.publish(json("{\"k\":" + i + "}")));
      }
      assertEquals(List.of(json("{\"k\":2}"), json("{\"k\":3}")), await(api.events(schema)));
      assertEquals(0, unread.get());
      assertEquals(1.0, Nodes.metric(registry, "peer_userapi_refused_total", new String[] {"queue"}, new String[] {"subscription"}));
      assertEquals(List.of(), await(api.events(schema)));
      // Unsubscribed: not found, as before.
      await(api.unsubscribe(schema));
      assertEquals(null, shared.unread.get(CanonicalJson.of(schema)));
      assertEquals(UserApiException.Kind.NOT_FOUND, Nodes.failure(api.events(schema)).kind());
    } finally {
      cluster.shutdown();
    }
  }

  @Test
  void batchesAreSizedToTheArteryChannelTheyUse() {
    long mib = 1 << 20;
    com.typesafe.config.Config reference = com.typesafe.config.ConfigFactory.load();
    // peer-userapi.conf: a large-message destination, 3 MiB frames: batches of max-message-bytes.
    assertEquals(mib, PubSubNode.batchBytes(reference, mib));
    // Not a large-message destination: under the 256 KiB ordinary frame, with room for the envelope.
    com.typesafe.config.Config ordinary = Nodes.config("akka.remote.artery.large-message-destinations = []").withFallback(reference);
    assertEquals(256 * 1024 - 64 * 1024, PubSubNode.batchBytes(ordinary, mib));
    assertTrue(PubSubNode.pathMatches("/system/*", "/system/userapi-pubsub"));
    assertTrue(PubSubNode.pathMatches("/system/userapi-pubsub", "/system/userapi-pubsub"));
    assertTrue(!PubSubNode.pathMatches("/user/*", "/system/userapi-pubsub"));
    assertTrue(!PubSubNode.pathMatches("/system/userapi-pubsub/*", "/system/userapi-pubsub"));
  }

  @Test
  void batchesFitTheOrdinaryFrameWhenPubSubIsNotALargeMessageDestination() {
    // Misconfigured (no large-message channel): a burst of publishes still arrives, batched
    // under the 256 KiB frame, instead of as one oversized message that Artery would drop.
    // (Byte stream chunks must then fit the ordinary frame too: UserApi refuses to start otherwise.)
    TestCluster cluster = TestCluster.start(2, Nodes.config(
        "akka.remote.artery.large-message-destinations = []\npeer.userapi.stream-chunk = 64 KiB"));
    try {
      UserApi a = Nodes.userApi(cluster.node(0));
      UserApi b = Nodes.userApi(cluster.node(1));
      JsonNode schema = json("{\"type\":\"object\",\"required\":[\"i\"]}");
      await(b.subscribe(schema));
      // Right after the cluster formed, B's replicator may not count A yet when subscribe's
      // WriteAll runs: wait until A routes to B (probes: i < 0).
      int[] probe = {0};
      TestCluster.awaitCondition(java.time.Duration.ofSeconds(20), () -> {
        await(a.publish(json("{\"i\":" + (-1 - probe[0]++) + "}")));
        return !await(b.events(schema)).isEmpty();
      }, "A routes to B");
      String pad = "p".repeat(1000);
      int n = 2000;
      List<CompletableFuture<Void>> published = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        published.add(a.publish(json("{\"i\":" + i + ",\"pad\":\"" + pad + "\"}")).toCompletableFuture());
      }
      published.forEach(Nodes::await);
      Set<Long> got = new HashSet<>();
      TestCluster.awaitCondition(java.time.Duration.ofSeconds(20), () -> {
        await(b.events(schema)).forEach(e -> {
          if (e.get("i").asLong() >= 0) {
            got.add(e.get("i").asLong());
          }
        });
        return got.size() == n;
      }, n + " events on B (got " + got.size() + ")");
    } finally {
      cluster.shutdown();
    }
  }

  @Test
  void publishesOverTheBytesInFlightAreRefusedAtOnceAndNeverHalfDone() throws Exception {
    // Room for one event at a time: a flood must see refusals, each counted, and every accepted
    // event delivered once.
    TestCluster cluster = TestCluster.start(1, Nodes.config("peer.userapi.max-publish-bytes-in-flight = 1"));
    try {
      CollectorRegistry registry = new CollectorRegistry();
      UserApi api = Nodes.userApi(cluster.node(0), registry);
      JsonNode schema = json("{\"type\":\"object\",\"required\":[\"i\"]}");
      await(api.subscribe(schema));
      int n = 2000;
      List<CompletableFuture<Void>> results = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        results.add(api.publish(json("{\"i\":" + i + "}")).toCompletableFuture());
      }
      Set<Long> accepted = new HashSet<>();
      int refused = 0;
      for (int i = 0; i < n; i++) {
        try {
          results.get(i).get(15, java.util.concurrent.TimeUnit.SECONDS);
          accepted.add((long) i);
        } catch (ExecutionException e) {
          Throwable cause = e.getCause() instanceof CompletionException ? e.getCause().getCause() : e.getCause();
          assertTrue(cause instanceof UserApiException, String.valueOf(cause));
          assertEquals(UserApiException.Kind.UNAVAILABLE, ((UserApiException) cause).kind());
          assertTrue(cause.getMessage().contains("max-publish-bytes-in-flight"), cause.getMessage());
          refused++;
        }
      }
      assertTrue(refused > 0, "a flood of " + n + " with room for one event saw no refusal");
      assertTrue(!accepted.isEmpty());
      assertEquals((double) refused, Nodes.metric(registry, "peer_userapi_refused_total", new String[] {"queue"}, new String[] {"publish"}));
      Set<Long> got = new HashSet<>();
      for (JsonNode e : await(api.events(schema))) {
        assertTrue(got.add(e.get("i").asLong()), "delivered twice: " + e);
      }
      assertEquals(accepted, got);
      // Once everything is routed there is room again.
      await(api.publish(json("{\"i\":-1}")));
      assertEquals(List.of(json("{\"i\":-1}")), await(api.events(schema)));
    } finally {
      cluster.shutdown();
    }
  }
  @Test
  void aCallerThatPublishesAgainFromItsCallbackFindsTheRoom() throws Exception {
    // Room for one event: each publish is made from the callback of the one before, which runs
    // when that one completes; its bytes must have left the in-flight count by then.
    TestCluster cluster = TestCluster.start(1, Nodes.config("peer.userapi.max-publish-bytes-in-flight = 1"));
    try {
      UserApi api = Nodes.userApi(cluster.node(0), new CollectorRegistry());
      JsonNode schema = json("{\"type\":\"object\",\"required\":[\"i\"]}");
      await(api.subscribe(schema));
      int n = 50;
      CompletableFuture<Integer> chain = new CompletableFuture<>();
      publishChained(api, 0, n, chain);
      assertEquals(n, chain.get(15, java.util.concurrent.TimeUnit.SECONDS));
      Set<Long> got = new HashSet<>();
      for (JsonNode e : await(api.events(schema))) {
        got.add(e.get("i").asLong());
      }
      assertEquals(n, got.size());
    } finally {
      cluster.shutdown();
    }
  }

  private static void publishChained(UserApi api, int i, int n, CompletableFuture<Integer> done) {
    if (i == n) {
      done.complete(n);
      return;
    }
    api.publish(json("{\"i\":" + i + "}")).whenComplete((v, failure) -> {
      if (failure != null) {
        done.completeExceptionally(new AssertionError("publish " + i + " from the callback of the one before failed", failure));
      } else {
        publishChained(api, i + 1, n, done);
      }
    });
  }
}
