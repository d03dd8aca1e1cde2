package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.failure;
import static io.peernode.actors.userapi.Nodes.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.peernode.actors.cluster.TestCluster;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input fails the call with a UserApiException naming the parameter; nothing queued is lost. */
class UserApiBadInputTest {

  static TestCluster cluster;
  static TestCluster.Node node;
  static UserApi api;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1);
    node = cluster.node(0);
    api = Nodes.userApi(node);
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  static void assertBadParam(String param, String messagePart, UserApiException e) {
    assertEquals(UserApiException.Kind.BAD_PARAMS, e.kind());
    assertEquals(-32602, e.jsonRpcCode());
    assertEquals(param, e.param());
    assertTrue(e.getMessage().contains(messagePart), e.getMessage());
  }

  @Test
  void badInputIsRefusedAndQueuedDataSurvives() {
    var schema = json("{\"type\":\"object\",\"required\":[\"k\"]}");
    await(api.subscribe(schema));
    await(api.publish(json("{\"k\":1}")));
    assertTrue(await(api.messageSend(node.id.hex(), node.host(), node.port(), json("\"kept\""))));

    assertBadParam("schema", "not a valid JSON Schema", failure(api.subscribe(json("{\"type\":\"objekt\"}"))));
    assertBadParam("schema", "object or a boolean", failure(api.subscribe(json("[1]"))));
    assertBadParam("event", "must be a JSON object, got array", failure(api.publish(json("[1]"))));
    assertBadParam("event", "must be a JSON object, got string", failure(api.publish(json("\"x\""))));
    String big = "x".repeat(api.settings().maxMessageBytes);
    var oversized = JsonNodeFactory.instance.objectNode().put("k", big);
    assertBadParam("event", "over the limit", failure(api.publish(oversized)));
    assertBadParam("message", "over the limit",
        failure(api.messageSend(node.id.hex(), node.host(), node.port(), JsonNodeFactory.instance.textNode(big))));
    assertBadParam("nodeid", "40 hex", failure(api.messageSend("xyz", node.host(), node.port(), json("1"))));
    assertBadParam("nodeid", "40 hex", failure(api.streamOpen("g".repeat(40), node.host(), node.port())));
    assertBadParam("port", "1..65535", failure(api.streamOpen(node.id.hex(), node.host(), 70000)));
    assertBadParam("data", "over the limit",
        failure(api.streamWriteHex("0".repeat(32), "00".repeat(api.settings().maxMessageBytes + 1))));

    // Nothing already queued was lost.
    assertEquals(List.of(json("{\"k\":1}")), await(api.events(schema)));
    assertEquals(List.of(json("\"kept\"")), await(api.messageList()).get(node.id.hex()));
  }
}
