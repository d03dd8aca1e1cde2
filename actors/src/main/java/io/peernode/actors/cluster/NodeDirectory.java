package io.peernode.actors.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.NodeId;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * This node's entry in the cluster-wide directory of nodes.
 *
 * <p>Owns this node's {@link NodeInfo} (its id and the ports it serves on), registers itself
 * with the receptionist under {@link #KEY}, and answers {@link GetInfo}. Cluster membership
 * already says which address has which node id (see {@link NodeRoles}); the directory adds
 * what membership cannot carry, the ports bound after the node joined.
 */
public final class NodeDirectory {

  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "peer-node-directory");

  public interface Command extends JsonSerializable {}

  public static final class GetInfo implements Command {
    public final ActorRef<NodeInfo> replyTo;

    @JsonCreator
    public GetInfo(@JsonProperty("replyTo") ActorRef<NodeInfo> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** What a node serves and where. */
  public static final class NodeInfo implements JsonSerializable {
    public final String nodeId;
    public final String host;
    public final int clusterPort;
    public final int httpPort;
    public final int syncPort;

    @JsonCreator
    public NodeInfo(
        @JsonProperty("nodeId") String nodeId,
        @JsonProperty("host") String host,
        @JsonProperty("clusterPort") int clusterPort,
        @JsonProperty("httpPort") int httpPort,
        @JsonProperty("syncPort") int syncPort) {
      this.nodeId = nodeId;
      this.host = host;
      this.clusterPort = clusterPort;
      this.httpPort = httpPort;
      this.syncPort = syncPort;
    }

    @Override
    public String toString() {
      return "NodeInfo(" + nodeId + " " + host + " cluster=" + clusterPort + " http=" + httpPort + " sync=" + syncPort + ")";
    }
  }

  private NodeDirectory() {}

  public static Behavior<Command> create(NodeInfo self) {
    return Behaviors.setup(context -> {
      context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf()));
      return Behaviors.receive(Command.class)
          .onMessage(GetInfo.class, get -> {
            get.replyTo.tell(self);
            return Behaviors.same();
          })
          .build();
    });
  }

  /**
   * Finds the serving cluster member with this node id and asks its directory entry.
   * Completes empty when no such member is up or it does not answer within {@code timeout}.
   */
  public static CompletionStage<Optional<NodeInfo>> lookup(ActorSystem<?> system, NodeId id, Duration timeout) {
    Optional<Member> member = NodeRoles.memberOf(Cluster.get(system).state(), id);
    if (member.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    akka.actor.Address target = member.get().address();
    akka.actor.Address self = Cluster.get(system).selfMember().address();
    CompletionStage<Receptionist.Listing> listing =
        AskPattern.ask(system.receptionist(), replyTo -> Receptionist.find(KEY, replyTo), timeout, system.scheduler());
    return listing.thenCompose(l -> {
      for (ActorRef<Command> ref : l.getServiceInstances(KEY)) {
        akka.actor.Address address = ref.path().address();
        boolean matches = address.hasLocalScope() ? target.equals(self) : address.equals(target);
        if (matches) {
          CompletionStage<NodeInfo> info = AskPattern.ask(ref, GetInfo::new, timeout, system.scheduler());
          return info.thenApply(Optional::of).exceptionally(e -> Optional.empty());
        }
      }
      return CompletableFuture.completedFuture(Optional.<NodeInfo>empty());
    }).exceptionally(e -> Optional.empty());
  }
}
