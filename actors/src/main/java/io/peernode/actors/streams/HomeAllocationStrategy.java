package io.peernode.actors.streams;

import akka.actor.ActorRef;
import akka.actor.Address;
import akka.actor.typed.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.Member;
import akka.cluster.sharding.ShardCoordinator;
import akka.dispatch.Futures;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.protocol.NodeId;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Places each partition shard (one shard per partition, shard id = entity id) on the region
 * of its stream's home node when that node is Up, since only its embedded store holds the
 * partition's history. When the home is not Up the shard goes to the requesting region, where
 * the partition answers "unavailable" without touching that node's store. Rebalancing returns
 * shards that are away from their home while the home is Up.
 *
 * <p>Runs in the shard coordinator (on the oldest node): it reads homes from that node's
 * replicated metadata, asking a majority for streams it does not know yet.
 */
public final class HomeAllocationStrategy extends ShardCoordinator.AbstractShardAllocationStrategy {

  private final ActorSystem<?> system;
  private final PartitionHomes homes;

  public HomeAllocationStrategy(ActorSystem<?> system, PartitionHomes homes) {
    this.system = system;
    this.homes = homes;
  }

  @Override
  public Future<ActorRef> allocateShard(ActorRef requester, String shardId,
      Map<ActorRef, IndexedSeq<String>> current) {
    String streamId = PartitionHomes.streamOf(shardId);
    Optional<NodeId> known = homes.homeOf(streamId);
    CompletionStage<Optional<NodeId>> home = known.isPresent()
        ? CompletableFuture.completedFuture(known) : homes.lookup(streamId);
    return FutureConverters.asScala(home
        .thenApply(h -> h.flatMap(id -> regionOn(id, current.keySet())).orElse(requester))
        .exceptionally(t -> requester)
        .toCompletableFuture());
  }

  @Override
  public Future<Set<String>> rebalance(Map<ActorRef, IndexedSeq<String>> current,
      Set<String> rebalanceInProgress) {
    Set<String> away = new HashSet<>();
    for (Map.Entry<ActorRef, IndexedSeq<String>> region : current.entrySet()) {
      scala.collection.Iterator<String> shards = region.getValue().iterator();
      while (shards.hasNext()) {
        String shard = shards.next();
        if (rebalanceInProgress.contains(shard)) {
          continue;
        }
        Optional<ActorRef> homeRegion = homes.homeOf(PartitionHomes.streamOf(shard))
            .flatMap(id -> regionOn(id, current.keySet()));
        if (homeRegion.isPresent() && !homeRegion.get().equals(region.getKey())) {
          away.add(shard);
        }
      }
    }
    return Futures.successful(away);
  }

  /** The region on the node with this id, when that node is Up and its region registered. */
  private Optional<ActorRef> regionOn(NodeId id, Set<ActorRef> regions) {
    Cluster cluster = Cluster.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
    Optional<Member> member = NodeRoles.memberOf(cluster.state(), id);
    if (member.isEmpty()) {
      return Optional.empty();
    }
    Address address = member.get().address();
    for (ActorRef region : regions) {
      Address a = region.path().address();
      Address full = a.hasGlobalScope() ? a : cluster.selfAddress();
      if (full.equals(address)) {
        return Optional.of(region);
      }
    }
    return Optional.empty();
  }
}
