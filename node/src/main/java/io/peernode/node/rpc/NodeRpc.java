package io.peernode.node.rpc;

import akka.actor.typed.ActorSystem;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.protocol.NodeId;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The JSON-RPC calls about the node itself: {@code node_id} and {@code node_peers}. */
public final class NodeRpc {

  private NodeRpc() {}

  public static void register(RpcMethods methods, ActorSystem<?> system, NodeId self) {
    methods.register("node_id", List.of(), params -> CompletableFuture.completedFuture(TextNode.valueOf(self.hex())));
    methods.register("node_peers", List.of(), params -> CompletableFuture.completedFuture(peers(system)));
  }

  /**
   * The other members that are up and reachable, as {@code [nodeid, ip, port]}. A member the
   * failure detector has marked unreachable is left out at once, before it is downed.
   */
  static JsonNode peers(ActorSystem<?> system) {
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    ArrayNode out = JsonNodeFactory.instance.arrayNode();
    for (Member member : state.getMembers()) {
      if (member.equals(cluster.selfMember()) || !NodeRoles.isServing(member) || state.getUnreachable().contains(member)) {
        continue;
      }
      NodeRoles.nodeIdOf(member).ifPresent(id -> {
        ArrayNode peer = out.addArray();
        peer.add(id.hex());
        peer.add(member.address().host().getOrElse(() -> ""));
        peer.add((int) member.address().port().getOrElse(() -> 0));
      });
    }
    return out;
  }
}
