package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.cluster.TestCluster;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Schema pub/sub across three nodes A, B, C, through the Java API only. */
class PubSubClusterTest {

  static TestCluster cluster;
  static UserApi a;
  static UserApi b;
  static UserApi c;
  static final CollectorRegistry bRegistry = new CollectorRegistry();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(3);
    a = Nodes.userApi(cluster.node(0));
    b = Nodes.userApi(cluster.node(1), bRegistry);
    c = Nodes.userApi(cluster.node(2));
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  /** Drains {@code schema} on {@code api} until {@code expected} events arrived or 10 s passed, then once more. */
  private static List<JsonNode> collect(UserApi api, JsonNode schema, int expected) {
    List<JsonNode> got = new ArrayList<>();
    TestCluster.awaitCondition(Duration.ofSeconds(10), () -> {
      got.addAll(await(api.events(schema)));
      return got.size() >= expected;
    }, expected + " events");
    return got;
  }

  @Test
  void subscribersOnTwoNodesGetAnEventPublishedOnAThirdExactlyOnce() {
    JsonNode weather = json("{\"type\":\"object\",\"properties\":{\"topic\":{\"const\":\"weather\"},"
        + "\"temp\":{\"type\":\"number\",\"minimum\":-50,\"exclusiveMaximum\":60}},\"required\":[\"topic\",\"temp\"]}");
    JsonNode sports = json("{\"type\":\"object\",\"properties\":{\"topic\":{\"const\":\"sports\"}},\"required\":[\"topic\"]}");
    await(b.subscribe(weather));
    await(c.subscribe(weather));
    await(c.subscribe(sports));

    await(a.publish(json("{\"topic\":\"weather\",\"temp\":21.5,\"seq\":1}")));
    await(a.publish(json("{\"topic\":\"weather\",\"temp\":99,\"seq\":2}"))); // out of range: matches nothing
    await(a.publish(json("{\"topic\":\"weather\",\"temp\":-3,\"seq\":3}")));

    List<JsonNode> onB = collect(b, weather, 2);
    List<JsonNode> onC = collect(c, weather, 2);
    assertEquals(List.of(json("{\"seq\":1,\"temp\":21.5,\"topic\":\"weather\"}"), json("{\"seq\":3,\"temp\":-3,\"topic\":\"weather\"}")), onB);
    assertEquals(onB, onC);
    // The non-matching subscription on C got nothing.
    assertEquals(List.of(), await(c.events(sports)));

    // The same event again is a duplicate by digest: dropped everywhere.
    await(a.publish(json("{\"seq\":1,\"topic\":\"weather\",\"temp\":21.5}")));
    await(a.publish(json("{\"topic\":\"weather\",\"temp\":0,\"seq\":4}")));
    List<JsonNode> more = collect(b, weather, 1);
    assertEquals(List.of(json("{\"topic\":\"weather\",\"temp\":0,\"seq\":4}")), more);

    await(b.unsubscribe(weather));
    await(c.unsubscribe(weather));
    await(c.unsubscribe(sports));
  }

  @Test
  void nodesWithTheSameSubscriptionsGetTheSameEventsAndANodeWithMoreAlsoItsOwn() {
    JsonNode s1 = json("{\"type\":\"object\",\"required\":[\"s1\"]}");
    JsonNode s2 = json("{\"type\":\"object\",\"required\":[\"s2\"]}");
    // B and C subscribe alike: both get what matches.
    await(b.subscribe(s1));
    await(c.subscribe(s1));
    await(a.publish(json("{\"s1\":1}")));
    await(a.publish(json("{\"s2\":1}"))); // nobody's
    assertEquals(List.of(json("{\"s1\":1}")), collect(b, s1, 1));
    assertEquals(List.of(json("{\"s1\":1}")), collect(c, s1, 1));
    // C subscribes to more: the event only s2 matches goes to C alone, and the one both match
    // to B under s1 and to C under both.
    await(c.subscribe(s2));
    await(a.publish(json("{\"s1\":2,\"s2\":2}")));
    await(a.publish(json("{\"s2\":3}")));
    await(a.publish(json("{\"s1\":4}")));
    assertEquals(List.of(json("{\"s1\":2,\"s2\":2}"), json("{\"s1\":4}")), collect(b, s1, 2));
    assertEquals(List.of(json("{\"s1\":2,\"s2\":2}"), json("{\"s1\":4}")), collect(c, s1, 2));
    assertEquals(List.of(json("{\"s1\":2,\"s2\":2}"), json("{\"s2\":3}")), collect(c, s2, 2));
    await(b.unsubscribe(s1));
    await(c.unsubscribe(s1));
    await(c.unsubscribe(s2));
  }

  @Test
  void anEventNearTheSizeLimitCrossesTheCluster() {
    JsonNode schema = json("{\"type\":\"object\",\"required\":[\"blob\"]}");
    await(c.subscribe(schema));
    String blob = "x".repeat(a.settings().maxMessageBytes - 100);
    await(a.publish(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("blob", blob)));
    List<JsonNode> got = collect(c, schema, 1);
    assertEquals(1, got.size());
    assertEquals(blob, got.get(0).get("blob").textValue());
    await(c.unsubscribe(schema));
  }

  @Test
  void thePublishingNodesOwnSubscriptionGetsTheEventOnce() {
    JsonNode schema = json("{\"type\":\"object\",\"required\":[\"local\"]}");
    await(a.subscribe(schema));
    await(b.subscribe(schema));
    await(a.publish(json("{\"local\":true}")));
    assertEquals(List.of(json("{\"local\":true}")), collect(a, schema, 1));
    assertEquals(List.of(json("{\"local\":true}")), collect(b, schema, 1));
    await(a.unsubscribe(schema));
    await(b.unsubscribe(schema));
  }

  @Test
  void subscriptionsListsWhatIsThereAndUnsubscribeDropsUnreadEvents() {
    JsonNode s1 = json("{\"type\":\"object\",\"required\":[\"x\"]}");
    JsonNode s2 = json("{\"required\":[\"y\"],\"type\":\"object\"}");
    await(b.subscribe(s1));
    await(b.subscribe(s2));
    await(b.subscribe(json("{ \"required\":[\"x\"], \"type\":\"object\" }"))); // same identity: no second subscription
    List<JsonNode> listed = await(b.subscriptions());
    assertEquals(2, listed.size());
    assertTrue(listed.contains(s1) && listed.contains(s2), listed.toString());

    double before = delivered(bRegistry);
    await(a.publish(json("{\"x\":\"unread\"}")));
    // Wait until B queued it (without reading it), then unsubscribe: the unread event goes too.
    TestCluster.awaitCondition(Duration.ofSeconds(10), () -> delivered(bRegistry) >= before + 1, "event queued on B");
    await(b.unsubscribe(s1));
    assertEquals(List.of(s2), await(b.subscriptions()));
    await(b.subscribe(s1));
    assertEquals(List.of(), await(b.events(s1)));

    await(b.unsubscribe(s1));
    await(b.unsubscribe(s2));
    assertEquals(List.of(), await(b.subscriptions()));
    UserApiException e = Nodes.failure(b.events(s1));
    assertEquals(UserApiException.Kind.NOT_FOUND, e.kind());
  }

  private static double delivered(CollectorRegistry registry) {
    return Nodes.metric(registry, "peer_userapi_events_delivered_total", new String[0], new String[0]);
  }
}
