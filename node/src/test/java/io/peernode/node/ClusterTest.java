package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.cluster.NodeDirectory;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.Eventually;
import io.peernode.node.testkit.InJvmCluster;
import io.peernode.protocol.NodeId;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Three clustered nodes in one JVM, each its own ActorSystem. */
class ClusterTest {

  private static InJvmCluster cluster;

  @BeforeAll
  static void start() {
    cluster = InJvmCluster.start(3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void everyNodeListsTheOtherTwoWithTheirClusterAddress() throws Exception {
    for (PeerNode node : cluster.nodes()) {
      JsonNode peers = RpcClient.forPort(node.httpPort()).call("node_peers");
      Set<String> seen = new HashSet<>();
      for (JsonNode peer : peers) {
        seen.add(peer.get(0).textValue() + "@" + peer.get(1).textValue() + ":" + peer.get(2).intValue());
      }
      Set<String> expected = new HashSet<>();
      for (PeerNode other : cluster.nodes()) {
        if (other != node) {
          expected.add(other.nodeId().hex() + "@" + other.host() + ":" + other.clusterPort());
        }
      }
      assertEquals(expected, seen, "node_peers of " + node.nodeId());
    }
  }

  @Test
  void theDirectoryFindsEveryNodesPortsByNodeId() {
    PeerNode asking = cluster.node(0);
    for (PeerNode target : cluster.nodes()) {
      Eventually.await(Duration.ofSeconds(10), () -> {
        Optional<NodeDirectory.NodeInfo> info = NodeDirectory
            .lookup(asking.system(), target.nodeId(), Duration.ofSeconds(3)).toCompletableFuture().get();
        assertTrue(info.isPresent(), "no directory entry yet for " + target.nodeId());
        assertEquals(target.httpPort(), info.get().httpPort);
        assertEquals(target.syncPort(), info.get().syncPort);
      });
    }
    NodeId stranger = NodeId.parse("00".repeat(20));
    assertTrue(NodeDirectory.lookup(asking.system(), stranger, Duration.ofSeconds(1)).toCompletableFuture().join().isEmpty());
  }

  @Test
  void aNodeThatLeavesDisappearsFromTheOthersPeers() throws Exception {
    PeerNode extra = cluster.addNode();
    cluster.awaitMembersUp(4, Duration.ofSeconds(30));
    String leaving = extra.nodeId().hex();
    RpcClient first = RpcClient.forPort(cluster.node(0).httpPort());
    assertTrue(first.call("node_peers").toString().contains(leaving));
    extra.stop();
    Eventually.await(Duration.ofSeconds(20), () ->
        assertTrue(!first.call("node_peers").toString().contains(leaving), "still listed: " + leaving));
  }
}
