package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.ActorRef;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import io.peernode.actors.cluster.TestCluster;
import io.peernode.protocol.NodeId;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.collection.immutable.IndexedSeq;
import scala.concurrent.Await;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Two clustered nodes; the strategy runs on node 0 (as in the coordinator) and sees the
 * regions of both: a shard goes to its home's region when the home is Up, else to the
 * requester; rebalancing returns shards away from an Up home.
 */
class HomeAllocationStrategyTest {

  static TestCluster cluster;
  static ActorRef region0;
  static ActorRef region1;
  static HomeAllocationStrategy strategy;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(2);
    TestCluster.Node n0 = cluster.node(0);
    TestCluster.Node n1 = cluster.node(1);
    TestProbe<Object> p0 = n0.testKit.createTestProbe();
    TestProbe<Object> p1 = n1.testKit.createTestProbe();
    region0 = Adapter.toClassic(p0.ref());
    // node 1's region as node 0 sees it: a remote reference
    region1 = Adapter.toClassic(ActorRefResolver.get(n0.system()).resolveActorRef(
        ActorRefResolver.get(n1.system()).toSerializationFormat(p1.ref())));
    NodeId down = NodeId.parse("00112233445566778899aabbccddeeff00112233");
    Map<String, NodeId> homes = Map.of("s0", n0.id, "s1", n1.id, "sx", down);
    strategy = new HomeAllocationStrategy(n0.system(), new PartitionHomes() {
      @Override
      public NodeId self() {
        return n0.id;
      }

      @Override
      public Optional<NodeId> homeOf(String streamId) {
        return Optional.ofNullable(homes.get(streamId));
      }

      @Override
      public CompletionStage<Optional<NodeId>> lookup(String streamId) {
        // "late" is known only to a majority, not yet to this node
        return CompletableFuture.completedFuture(
            streamId.equals("late") ? Optional.of(n1.id) : homeOf(streamId));
      }
    });
  }

  @AfterAll
  static void stop() {
    cluster.shutdown();
  }

  static IndexedSeq<String> shards(String... ids) {
    return CollectionConverters.asScala(List.of(ids)).toIndexedSeq();
  }

  static <T> T await(scala.concurrent.Future<T> f) throws Exception {
    return Await.result(f, scala.concurrent.duration.Duration.fromNanos(
        Duration.ofSeconds(10).toNanos()));
  }

  static Map<ActorRef, IndexedSeq<String>> regions(IndexedSeq<String> on0,
      IndexedSeq<String> on1) {
    Map<ActorRef, IndexedSeq<String>> m = new HashMap<>();
    m.put(region0, on0);
    m.put(region1, on1);
    return m;
  }

  @Test
  void allocatesToTheHomeWhenItIsUpElseToTheRequester() throws Exception {
    Map<ActorRef, IndexedSeq<String>> current = regions(shards(), shards());
    assertEquals(region1, await(strategy.allocateShard(region0, "s1#0", current)));
    assertEquals(region0, await(strategy.allocateShard(region1, "s0#3", current)));
    assertEquals(region1, await(strategy.allocateShard(region0, "late#0", current)));
    // home not in the cluster, or not known at all: the requester (it answers "unavailable")
    assertEquals(region0, await(strategy.allocateShard(region0, "sx#0", current)));
    assertEquals(region1, await(strategy.allocateShard(region1, "unknown#0", current)));
  }

  @Test
  void rebalanceReturnsShardsAwayFromAnUpHome() throws Exception {
    Map<ActorRef, IndexedSeq<String>> current =
        regions(shards("s1#0", "s0#0", "sx#0"), shards("s0#1", "s1#1"));
    assertEquals(Set.of("s1#0", "s0#1"), await(strategy.rebalance(current, Set.of())));
    assertEquals(Set.of("s0#1"), await(strategy.rebalance(current, Set.of("s1#0"))));
  }
}
