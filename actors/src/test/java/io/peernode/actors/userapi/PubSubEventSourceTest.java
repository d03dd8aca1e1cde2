package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.Attributes;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.SinkQueueWithCancel;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.cluster.TestCluster;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** UserApi.eventSource: the subscription pushes its events in batches, with back-pressure. */
class PubSubEventSourceTest {

  static final JsonNode SCHEMA = json("{\"type\":\"object\",\"required\":[\"i\"]}");

  static JsonNode event(String from, int i) {
    return json("{\"from\":\"" + from + "\",\"i\":" + i + "}");
  }

  /** The first {@code n} events of the stream, flattened, in the order the stream emitted them. */
  static CompletionStage<List<JsonNode>> first(UserApi api, TestCluster.Node node, int n) {
    return api.eventSource(SCHEMA).mapConcat(batch -> batch).take(n).runWith(Sink.seq(), node.system());
  }

  /**
   * Waits until {@code publisher} routes to every node of {@code others} (subscribe's WriteAll may
   * precede full membership), then drains the probes: a last one, read on every node, comes after
   * all earlier ones (one publisher's events arrive in order), so none is left to show up later.
   */
  static void routedAndDrained(UserApi publisher, List<UserApi> others) {
    int[] probe = {0};
    TestCluster.awaitCondition(Duration.ofSeconds(20), () -> {
      await(publisher.publish(json("{\"probe\":" + probe[0]++ + ",\"i\":-1}")));
      boolean all = true;
      for (UserApi api : others) {
        all &= !await(api.events(SCHEMA)).isEmpty();
      }
      return all;
    }, "the publisher routes to the others");
    JsonNode last = json("{\"probe\":\"last\",\"i\":-1}");
    await(publisher.publish(last));
    List<UserApi> all = new ArrayList<>(others);
    all.add(publisher);
    for (UserApi api : all) {
      TestCluster.awaitCondition(Duration.ofSeconds(20),
          () -> await(api.events(SCHEMA)).contains(last), "the last probe is read");
    }
  }

  @Test
  void everyStreamGetsEachMatchingEventOnceInPublishOrderIncludingThePublishersOwn() {
    TestCluster cluster = TestCluster.start(3);
    try {
      UserApi a = Nodes.userApi(cluster.node(0));
      UserApi b = Nodes.userApi(cluster.node(1));
      UserApi c = Nodes.userApi(cluster.node(2));
      for (UserApi api : List.of(a, b, c)) {
        await(api.subscribe(SCHEMA));
      }
      routedAndDrained(a, List.of(b, c));

      int n = 3000;
      CompletionStage<List<JsonNode>> onA = first(a, cluster.node(0), n + 1);
      CompletionStage<List<JsonNode>> onB = first(b, cluster.node(1), n + 1);
      CompletionStage<List<JsonNode>> onC = first(c, cluster.node(2), n + 1);
      // Attached once a lookup and an Attach went through; until then events wait in the queue,
      // so publishing right away loses nothing either.
      List<CompletableFuture<Void>> published = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        published.add(a.publish(event("a", i)).toCompletableFuture());
      }
      published.forEach(Nodes::await);
      // A last event, so that a duplicate of any earlier one would show before it.
      await(a.publish(event("a", n)));
      List<JsonNode> expected = new ArrayList<>();
      for (int i = 0; i <= n; i++) {
        expected.add(event("a", i));
      }
      Duration max = Duration.ofSeconds(30);
      assertEquals(expected, await(onA, max), "the publishing node's own stream");
      assertEquals(expected, await(onB, max));
      assertEquals(expected, await(onC, max));
    } finally {
      cluster.shutdown();
    }
  }

  @Test
  void theBytesStreamGivesEachEventAsItsCanonicalUtf8OnThePublishingNodeAndOnAnother() {
    TestCluster cluster = TestCluster.start(2);
    try {
      UserApi a = Nodes.userApi(cluster.node(0));
      UserApi b = Nodes.userApi(cluster.node(1));
      for (UserApi api : List.of(a, b)) {
        await(api.subscribe(SCHEMA));
      }
      routedAndDrained(a, List.of(b));
      int n = 500;
      // Collected as they come, so that a shortfall says how far each stream got.
      List<akka.util.ByteString> gotA = new java.util.concurrent.CopyOnWriteArrayList<>();
      List<akka.util.ByteString> gotB = new java.util.concurrent.CopyOnWriteArrayList<>();
      CompletionStage<?> onA = a.eventBytesSource(SCHEMA).mapConcat(batch -> batch).take(n)
          .runForeach(gotA::add, cluster.node(0).system());
      CompletionStage<?> onB = b.eventBytesSource(SCHEMA).mapConcat(batch -> batch).take(n)
          .runForeach(gotB::add, cluster.node(1).system());
      List<akka.util.ByteString> expected = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        // Keys out of order and an escape: the bytes are the canonical text, not the input's.
        JsonNode event = json("{\"z\":\"\\u00e9\\\"\",\"i\":" + i + ",\"a\":[1,{\"y\":2,\"x\":1}]}");
        expected.add(akka.util.ByteString.fromString(CanonicalJson.of(event), java.nio.charset.StandardCharsets.UTF_8));
        await(a.publish(event));
      }
      Duration max = Duration.ofSeconds(30);
      awaitAll(onA, max, gotA, n, "the publishing node's own stream");
      assertEquals(expected, gotA, "the publishing node's own stream");
      awaitAll(onB, max, gotB, n, "the other node's stream");
      assertEquals(expected, gotB);
    } finally {
      cluster.shutdown();
    }
  }

  @Test
  void aStreamThatDoesNotPullLeavesEventsInTheBoundedQueueWhichRefusesAndCountsTheNewest() {
    TestCluster cluster = TestCluster.start(1, Nodes.config(
        "peer.userapi.max-events-per-subscription = 4\npeer.userapi.event-source-batch = 2"));
    try {
      CollectorRegistry registry = new CollectorRegistry();
      UserApi api = Nodes.userApi(cluster.node(0), registry);
      await(api.subscribe(SCHEMA));
      SinkQueueWithCancel<List<JsonNode>> stream = api.eventSource(SCHEMA)
          .runWith(Sink.<List<JsonNode>>queue().withAttributes(Attributes.inputBuffer(1, 1)), cluster.node(0).system());
      // Attached once an event published now comes out.
      await(api.publish(event("x", -1)));
      assertEquals(Optional.of(List.of(event("x", -1))), await(stream.pull()));

      int n = 20;
      for (int i = 0; i < n; i++) {
        await(api.publish(event("x", i)));
      }
      AtomicInteger unread = api.pubsubShared().unread.get(CanonicalJson.of(SCHEMA));
      // Nobody pulls: the stream holds at most a batch or two, the queue fills up (4) and the
      // rest is refused; all 20 offers are handled once queued + in the stream + refused = 20.
      TestCluster.awaitCondition(Duration.ofSeconds(10), () -> unread.get() == 4 && refused(registry) > 0, "queue full");
      int refused = (int) refused(registry);
      int kept = n - refused;
      assertTrue(kept >= 4 && kept <= 4 + 2 * 2, "kept " + kept + ": the queue and at most two batches of 2");

      // The kept ones are the oldest, in order, each once; then the next event published.
      List<JsonNode> got = new ArrayList<>();
      while (got.size() < kept) {
        List<JsonNode> batch = await(stream.pull()).orElseThrow();
        assertTrue(batch.size() <= 2, "batches of at most event-source-batch");
        got.addAll(batch);
      }
      List<JsonNode> expected = new ArrayList<>();
      for (int i = 0; i < kept; i++) {
        expected.add(event("x", i));
      }
      assertEquals(expected, got);
      await(api.publish(event("x", 100)));
      assertEquals(Optional.of(List.of(event("x", 100))), await(stream.pull()));
      assertEquals(0, unread.get());
      assertEquals(refused, (int) refused(registry), "nothing refused once the stream pulled again");

      // Unsubscribing completes the stream.
      await(api.unsubscribe(SCHEMA));
      assertEquals(Optional.empty(), await(stream.pull()));
      // And a schema without subscription fails the stream with NOT_FOUND.
      UserApiException failure = Nodes.failure(api.eventSource(SCHEMA).runWith(Sink.ignore(), cluster.node(0).system()));
      assertEquals(UserApiException.Kind.NOT_FOUND, failure.kind());
    } finally {
      cluster.shutdown();
    }
  }

  static double refused(CollectorRegistry registry) {
    Double v = registry.getSampleValue("peer_userapi_refused_total", new String[] {"queue"}, new String[] {"subscription"});
    return v == null ? 0 : v;
  }

  /** Awaits a stream of {@code n} events, failing with how many of them came. */
  private static void awaitAll(CompletionStage<?> done, Duration max, List<?> got, int n,
      String which) {
    try {
      await(done, max);
    } catch (AssertionError e) {
      throw new AssertionError(which + ": " + got.size() + " of " + n + " events within " + max, e);
    }
  }
}
