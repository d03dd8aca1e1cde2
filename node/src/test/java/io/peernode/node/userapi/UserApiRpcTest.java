package io.peernode.node.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.node.PeerNode;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.Eventually;
import io.peernode.node.testkit.InJvmCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The user API over JSON-RPC on a three-node cluster: only POST /rpc, as a user's shell would. */
class UserApiRpcTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static InJvmCluster cluster;
  static PeerNode nodeA;
  static PeerNode nodeB;
  static PeerNode nodeC;
  static RpcClient a;
  static RpcClient b;
  static RpcClient c;

  @BeforeAll
  static void start() {
    cluster = InJvmCluster.start(3);
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    nodeC = cluster.node(2);
    a = RpcClient.forPort(nodeA.httpPort());
    b = RpcClient.forPort(nodeB.httpPort());
    c = RpcClient.forPort(nodeC.httpPort());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  static JsonNode call(RpcClient client, String method, String params) throws Exception {
    return client.call(method, json(params));
  }

  static RpcClient.RpcError error(RpcClient client, String method, String params) {
    return assertThrows(RpcClient.RpcError.class, () -> call(client, method, params));
  }

  @Test
  void pubsubAcrossNodes() throws Exception {
    String schema = "{\"type\":\"object\",\"properties\":{\"kind\":{\"enum\":[\"ping\"]}},\"required\":[\"kind\"]}";
    assertTrue(call(b, "pubsub_subscribe", "[" + schema + "]").isNull());
    assertTrue(call(c, "pubsub_subscribe", "{\"schema\":" + schema + "}").isNull());
    assertEquals(json("[" + schema + "]"), call(b, "pubsub_subscriptions", "[]"));

    assertTrue(call(a, "pubsub_publish", "[{\"kind\":\"ping\",\"n\":1}]").isNull());
    assertTrue(call(a, "pubsub_publish", "[{\"kind\":\"pong\",\"n\":2}]").isNull());
    for (RpcClient subscriber : List.of(b, c)) {
      List<JsonNode> got = new ArrayList<>();
      Eventually.await(Duration.ofSeconds(10), () -> {
        call(subscriber, "pubsub_events", "[" + schema + "]").forEach(got::add);
        assertEquals(1, got.size());
      });
      assertEquals(json("{\"kind\":\"ping\",\"n\":1}"), got.get(0));
    }
    assertTrue(call(b, "pubsub_unsubscribe", "[" + schema + "]").isNull());
    assertTrue(call(c, "pubsub_unsubscribe", "[" + schema + "]").isNull());
    assertEquals(json("[]"), call(b, "pubsub_subscriptions", "[]"));
  }

  @Test
  void directMessages() throws Exception {
    String bId = nodeB.nodeId().hex();
    assertEquals(json("true"), call(a, "message_send", "[\"" + bId + "\",\"" + nodeB.host() + "\"," + nodeB.clusterPort() + ",{\"hi\":1}]"));
    assertEquals(json("true"), call(a, "message_send", "[\"" + bId + "\",\"" + nodeB.host() + "\"," + nodeB.clusterPort() + ",\"two\"]"));
    assertEquals(json("{\"" + nodeA.nodeId().hex() + "\":[{\"hi\":1},\"two\"]}"), call(b, "message_list", "[]"));
    // Wrong id for the address: false.
    assertEquals(json("false"), call(a, "message_send", "[\"" + nodeC.nodeId().hex() + "\",\"" + nodeB.host() + "\"," + nodeB.clusterPort() + ",1]"));
  }

  @Test
  void streams() throws Exception {
    JsonNode id = call(a, "stream_open", "[\"" + nodeB.nodeId().hex() + "\",\"" + nodeB.host() + "\"," + nodeB.clusterPort() + "]");
    assertTrue(id.isTextual(), id.toString());
    String sid = id.textValue();
    assertEquals(json("3"), call(a, "stream_write", "[\"" + sid + "\",\"0a0b0c\"]"));
    // Digits-only hex as the CLI passes it (a JSON number): the digits are the hex.
    assertEquals(json("2"), call(a, "stream_write", "[\"" + sid + "\",1234]"));
    Eventually.await(Duration.ofSeconds(10), () -> assertEquals(json("{\"" + sid + "\":5}"), call(b, "stream_list", "[]")));
    assertEquals(json("\"0a0b\""), call(b, "stream_read", "[\"" + sid + "\",2]"));
    assertEquals(json("\"0c1234\""), call(b, "stream_read", "{\"streamid\":\"" + sid + "\"}"));
    assertEquals(json("true"), call(b, "stream_close", "[\"" + sid + "\"]"));
    Eventually.await(Duration.ofSeconds(10), () -> assertTrue(call(a, "stream_write", "[\"" + sid + "\",\"\"]").isNull()));
    assertTrue(call(a, "stream_read", "[\"" + sid + "\"]").isNull());
  }

  @Test
  void aFullSubscriptionRefusesTheNewestEventAndMetricsCountIt() throws Exception {
    var api = nodeA.userApi();
    JsonNode schema = json("{\"type\":\"object\",\"required\":[\"flood\"]}");
    api.subscribe(schema).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    int capacity = api.settings().maxEventsPerSubscription;
    List<java.util.concurrent.CompletableFuture<Void>> publishes = new ArrayList<>();
    for (int i = 0; i <= capacity; i++) {
      publishes.add(api.publish(json("{\"flood\":" + i + "}")).toCompletableFuture());
    }
    java.util.concurrent.CompletableFuture.allOf(publishes.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
        .get(30, java.util.concurrent.TimeUnit.SECONDS);
    Eventually.await(Duration.ofSeconds(10), () ->
        assertTrue(metricsText(nodeA).contains("peer_userapi_refused_total{queue=\"subscription\",} 1.0"), "refusal counted in /metrics"));
    // The queued events are all there, oldest first; the refused one (the newest) is not.
    JsonNode events = call(a, "pubsub_events", "[" + schema + "]");
    assertEquals(capacity, events.size());
    assertEquals(json("{\"flood\":0}"), events.get(0));
    assertEquals(json("{\"flood\":" + (capacity - 1) + "}"), events.get(capacity - 1));
    call(a, "pubsub_unsubscribe", "[" + schema + "]");
  }

  static String metricsText(PeerNode node) throws Exception {
    var response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    return response.body();
  }

  @Test
  void badInputGetsTheSpecsErrors() throws Exception {
    assertEquals(-32602, error(a, "pubsub_subscribe", "[{\"type\":\"objekt\"}]").code);
    assertTrue(error(a, "pubsub_subscribe", "[{\"type\":\"objekt\"}]").getMessage().contains("'schema'"));
    RpcClient.RpcError notObject = error(a, "pubsub_publish", "[[1,2]]");
    assertEquals(-32602, notObject.code);
    assertTrue(notObject.getMessage().contains("'event'"), notObject.getMessage());
    assertEquals(-32602, error(a, "pubsub_publish", "[{},{}]").code); // too many params
    assertEquals(-32602, error(a, "message_send", "[\"" + nodeB.nodeId().hex() + "\",\"127.0.0.1\",\"x\",1]").code);
    RpcClient.RpcError badId = error(a, "message_send", "[\"zz\",\"127.0.0.1\",1,1]");
    assertTrue(badId.getMessage().contains("'nodeid'"), badId.getMessage());
    JsonNode id = call(a, "stream_open", "[\"" + nodeB.nodeId().hex() + "\",\"" + nodeB.host() + "\"," + nodeB.clusterPort() + "]");
    RpcClient.RpcError badHex = error(a, "stream_write", "[" + id + ",\"xyz\"]");
    assertEquals(-32602, badHex.code);
    assertTrue(badHex.getMessage().contains("'data'"), badHex.getMessage());
    RpcClient.RpcError unknown = error(a, "stream_read", "[\"0123456789abcdef0123456789abcdef\"]");
    assertTrue(unknown.code <= -32000 && unknown.code > -32100, "node error range: " + unknown.code);
    assertTrue(unknown.getMessage().contains("unknown stream"), unknown.getMessage());
    assertEquals(json("true"), call(a, "stream_close", "[" + id + "]"));
    assertEquals(-32601, error(a, "pubsub_nothing", "[]").code);
  }
}
