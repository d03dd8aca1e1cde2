package io.peernode.actors.userapi;

import akka.actor.Address;
import akka.cluster.ClusterEvent.CurrentClusterState;
import akka.cluster.Member;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.protocol.NodeId;
import java.util.Optional;

/** How a (node id, ip, port) triple of the user API resolves to a cluster member. */
final class Members {

  private Members() {}

  /**
   * The address of the serving member that has {@code id}, when the triple is acceptable: the
   * member at ip:port (if any member is there) must be that same node. A stale address (no
   * member there) still reaches the node id, as the spec allows; an address that belongs to a
   * different node is a wrong id for that address and resolves to nothing.
   */
  static Optional<Address> resolve(CurrentClusterState state, NodeId id, String ip, int port) {
    Optional<Member> byId = NodeRoles.memberOf(state, id);
    if (byId.isEmpty()) {
      return Optional.empty();
    }
    for (Member m : state.getMembers()) {
      if (matches(m.address(), ip, port) && NodeRoles.isServing(m)) {
        return m.equals(byId.get()) ? Optional.of(m.address()) : Optional.empty();
      }
    }
    return Optional.of(byId.get().address());
  }

  static boolean matches(Address address, String ip, int port) {
    return address.host().isDefined()
        && address.host().get().equals(ip)
        && address.port().isDefined()
        && ((Integer) address.port().get()) == port;
  }
}
