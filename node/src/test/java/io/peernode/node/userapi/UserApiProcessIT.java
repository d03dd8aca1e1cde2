package io.peernode.node.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.Eventually;
import io.peernode.node.testkit.NodeProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The user API end to end: three node processes from the built jar, driven only over JSON-RPC and the CLI. */
class UserApiProcessIT {

  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private final List<NodeProcess> nodes = new ArrayList<>();

  @AfterEach
  void stopAll() {
    nodes.forEach(NodeProcess::close);
  }

  private NodeProcess start(String name, String... args) {
    NodeProcess node = NodeProcess.start(dir.resolve(name), args);
    nodes.add(node);
    return node;
  }

  static JsonNode call(NodeProcess node, String method, String params) throws Exception {
    return RpcClient.forPort(node.httpPort()).call(method, JSON.readTree(params));
  }

  static String target(NodeProcess node) {
    return "\"" + node.nodeId() + "\",\"127.0.0.1\"," + node.clusterPort();
  }

  @Test
  void pubsubMessagesAndStreamsAcrossThreeProcesses() throws Exception {
    NodeProcess a = start("a");
    NodeProcess b = start("b", "--seed", a.seed());
    NodeProcess c = start("c", "--seed", a.seed());
    Eventually.await(Duration.ofSeconds(30), () -> assertEquals(2, call(a, "node_peers", "[]").size()));

    // pubsub: B and C subscribe, A publishes; each gets the matching event once.
    String schema = "{\"type\":\"object\",\"properties\":{\"price\":{\"type\":\"number\",\"minimum\":10}},\"required\":[\"price\"]}";
    call(b, "pubsub_subscribe", "[" + schema + "]");
    call(c, "pubsub_subscribe", "[" + schema + "]");
    call(a, "pubsub_publish", "[{\"price\":5}]");
    call(a, "pubsub_publish", "[{\"price\":12}]");
    for (NodeProcess subscriber : List.of(b, c)) {
      List<JsonNode> got = new ArrayList<>();
      Eventually.await(Duration.ofSeconds(10), () -> {
        call(subscriber, "pubsub_events", "[" + schema + "]").forEach(got::add);
        assertEquals(1, got.size());
      });
      assertEquals(JSON.readTree("{\"price\":12}"), got.get(0));
    }

    // An event and a message over Artery's ordinary frame (256 KiB) cross on the large-message
    // channel (in the shaded jar too, whose merged reference.conf once reset that setting).
    String blob = "x".repeat(600 * 1024);
    call(a, "pubsub_publish", "[{\"price\":99,\"blob\":\"" + blob + "\"}]");
    List<JsonNode> big = new ArrayList<>();
    Eventually.await(Duration.ofSeconds(10), () -> {
      call(c, "pubsub_events", "[" + schema + "]").forEach(big::add);
      assertEquals(1, big.size());
    });
    assertEquals(blob, big.get(0).get("blob").textValue());
    assertEquals(JSON.readTree("true"), call(a, "message_send", "[" + target(b) + ",\"" + blob + "\"]"));
    assertEquals(blob, call(b, "message_list", "[]").get(a.nodeId()).get(0).textValue());
    call(b, "pubsub_events", "[" + schema + "]"); // B's copy of the big event: not needed below

    // direct message A -> B
    assertEquals(JSON.readTree("true"), call(a, "message_send", "[" + target(b) + ",{\"hello\":\"b\"}]"));
    assertEquals(JSON.readTree("{\"" + a.nodeId() + "\":[{\"hello\":\"b\"}]}"), call(b, "message_list", "[]"));

    // the CLI client: a result prints as JSON, an error exits 1 with its message
    String url = "http://127.0.0.1:" + a.httpPort();
    NodeProcess.Result subs = NodeProcess.run(Duration.ofSeconds(30), "call", "--url", url, "pubsub_subscriptions");
    assertEquals(0, subs.exitCode, subs.toString());
    assertEquals(JSON.readTree("[]"), JSON.readTree(subs.stdout));
    NodeProcess.Result badHex = NodeProcess.run(Duration.ofSeconds(30), "call", "--url", url, "stream_write", "0123456789abcdef0123456789abcdef", "zz");
    assertEquals(1, badHex.exitCode, badHex.toString());
    assertTrue(badHex.stderr.contains("data"), badHex.toString());

    // a stream A <-> B; then B crashes (kill -9): A's side closes, keeps its unread bytes, then null
    String sid = call(a, "stream_open", "[" + target(b) + "]").textValue();
    assertEquals(JSON.readTree("4"), call(a, "stream_write", "[\"" + sid + "\",\"01020304\"]"));
    assertEquals(JSON.readTree("2"), call(b, "stream_write", "[\"" + sid + "\",\"abcd\"]"));
    Eventually.await(Duration.ofSeconds(10), () -> assertEquals(JSON.readTree("{\"" + sid + "\":4}"), call(b, "stream_list", "[]")));
    Eventually.await(Duration.ofSeconds(10), () -> assertEquals(JSON.readTree("{\"" + sid + "\":2}"), call(a, "stream_list", "[]")));
    b.kill9();
    Eventually.await(Duration.ofSeconds(40), () -> assertTrue(call(a, "stream_write", "[\"" + sid + "\",\"\"]").isNull(), "closed on A"));
    assertEquals(JSON.readTree("\"abcd\""), call(a, "stream_read", "[\"" + sid + "\"]"));
    assertTrue(call(a, "stream_read", "[\"" + sid + "\"]").isNull());

    // the dead node: message_send answers false, within the bound
    long t0 = System.nanoTime();
    assertEquals(JSON.readTree("false"), call(a, "message_send", "[" + target(b) + ",1]"));
    assertTrue(System.nanoTime() - t0 < 6_000_000_000L, "false within send-timeout");
    assertFalse(call(c, "node_peers", "[]").toString().contains(b.nodeId()));
  }
}
