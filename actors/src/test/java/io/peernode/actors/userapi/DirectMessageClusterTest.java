package io.peernode.actors.userapi;

import static io.peernode.actors.userapi.Nodes.await;
import static io.peernode.actors.userapi.Nodes.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.cluster.TestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** message_send / message_list between nodes of a three-node cluster. */
class DirectMessageClusterTest {

  static TestCluster cluster;
  static TestCluster.Node nodeA;
  static TestCluster.Node nodeB;
  static TestCluster.Node nodeC;
  static UserApi a;
  static UserApi b;
  static UserApi c;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(3);
    nodeA = cluster.node(0);
    nodeB = cluster.node(1);
    nodeC = cluster.node(2);
    a = Nodes.userApi(nodeA);
    b = Nodes.userApi(nodeB);
    c = Nodes.userApi(nodeC);
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  @Test
  void aMessageIsAcceptedAndListedOnceUnderTheSenderInOrder() {
    for (int i = 0; i < 5; i++) {
      assertTrue(await(a.messageSend(nodeB.id.hex(), nodeB.host(), nodeB.port(), json("{\"n\":" + i + "}"))));
    }
    assertTrue(await(c.messageSend(nodeB.id.hex(), nodeB.host(), nodeB.port(), json("\"from c\""))));
    Map<String, List<JsonNode>> got = await(b.messageList());
    List<JsonNode> fromA = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      fromA.add(json("{\"n\":" + i + "}"));
    }
    assertEquals(fromA, got.get(nodeA.id.hex()));
    assertEquals(List.of(json("\"from c\"")), got.get(nodeC.id.hex()));
    assertEquals(2, got.size());
    // Drained: listed once.
    assertEquals(Map.of(), await(b.messageList()));
  }

  @Test
  void aMessageNearTheSizeLimitCrossesTheCluster() {
    String big = "y".repeat(a.settings().maxMessageBytes - 10);
    assertTrue(await(a.messageSend(nodeC.id.hex(), nodeC.host(), nodeC.port(),
        com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.textNode(big))));
    assertEquals(big, await(c.messageList()).get(nodeA.id.hex()).get(0).textValue());
  }

  @Test
  void aNodeCanMessageItself() {
    assertTrue(await(a.messageSend(nodeA.id.hex(), nodeA.host(), nodeA.port(), json("[1,2]"))));
    assertEquals(Map.of(nodeA.id.hex(), List.of(json("[1,2]"))), await(a.messageList()));
  }

  @Test
  void aStaleAddressStillReachesAMemberById() {
    assertTrue(await(a.messageSend(nodeC.id.hex(), "127.0.0.1", 1, json("{\"stale\":true}"))));
    assertEquals(List.of(json("{\"stale\":true}")), await(c.messageList()).get(nodeA.id.hex()));
  }

  @Test
  void wrongIdForAnAddressUnknownIdAndALeftNodeGiveFalseWithinTheBound() {
    long t0 = System.nanoTime();
    // B's address with C's id: the node at that address is not C.
    assertFalse(await(a.messageSend(nodeC.id.hex(), nodeB.host(), nodeB.port(), json("1"))));
    // An id no member has.
    assertFalse(await(a.messageSend(TestCluster.randomId().hex(), nodeB.host(), nodeB.port(), json("1"))));
    assertFalse(await(a.messageSend(TestCluster.randomId().hex(), "10.255.255.1", 25520, json("1"))));
    assertTrue(System.nanoTime() - t0 < a.settings().sendTimeout.toNanos(), "answered within send-timeout");

    TestCluster.Node d = cluster.addNode();
    UserApi onD = Nodes.userApi(d);
    assertTrue(await(a.messageSend(d.id.hex(), d.host(), d.port(), json("\"hello d\""))));
    assertEquals(1, await(onD.messageList()).size());
    cluster.leave(d);
    long t1 = System.nanoTime();
    assertFalse(await(a.messageSend(d.id.hex(), d.host(), d.port(), json("\"are you there\""))));
    assertTrue(System.nanoTime() - t1 <= a.settings().sendTimeout.toNanos() + 1_000_000_000L, "answered within send-timeout");
    assertEquals(Map.of(), await(b.messageList()));
    assertEquals(Map.of(), await(c.messageList()));
  }
}
