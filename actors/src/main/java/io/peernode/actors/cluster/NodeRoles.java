package io.peernode.actors.cluster;

import akka.actor.Address;
import akka.cluster.Member;
import io.peernode.protocol.NodeId;
import java.util.Optional;

/**
 * Every node joins the cluster with the role {@code node-<id>}, so each member's node id is
 * known cluster-wide through gossip, with no directory of our own to keep consistent.
 */
public final class NodeRoles {

  private static final String PREFIX = "node-";

  private NodeRoles() {}

  public static String roleOf(NodeId id) {
    return PREFIX + id.hex();
  }

  public static Optional<NodeId> nodeIdOf(Member member) {
    for (String role : member.getRoles()) {
      if (role.startsWith(PREFIX) && NodeId.isValid(role.substring(PREFIX.length()))) {
        return Optional.of(NodeId.parse(role.substring(PREFIX.length())));
      }
    }
    return Optional.empty();
  }

  /** The cluster member with this node id, among the members in {@code state} that are Up or WeaklyUp. */
  public static Optional<Member> memberOf(akka.cluster.ClusterEvent.CurrentClusterState state, NodeId id) {
    String role = roleOf(id);
    for (Member m : state.getMembers()) {
      if (m.hasRole(role) && isServing(m)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  public static boolean isServing(Member m) {
    return m.status() == akka.cluster.MemberStatus.up() || m.status() == akka.cluster.MemberStatus.weaklyUp();
  }

  /** host:port of a member's cluster address. */
  public static String hostPort(Address address) {
    return address.host().getOrElse(() -> "") + ":" + address.port().getOrElse(() -> 0);
  }
}
