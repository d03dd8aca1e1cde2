package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.ShardRegion;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.streamr.StreamMessage;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three clustered ActorSystems in one JVM sharing one store (as nodes sharing PostgreSQL do).
 * Clients on different nodes see the same events with the same offsets; when the node hosting
 * a partition leaves, the partition continues on another node without a gap.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamPartitionClusterTest {

  static final List<ActorTestKit> kits = new ArrayList<>();
  static final List<Node> nodes = new ArrayList<>();
  static InMemoryEventStore store;
  static TestAccess access;

  /** What a node wires for the data API. */
  static final class Node {
    final ActorTestKit kit;
    final PartitionTopics topics;
    final ActorRef<ShardingEnvelope<StreamPartition.Command>> region;
    final ClientConnection.Deps deps;

    Node(ActorTestKit kit) {
      this.kit = kit;
      StreamsMetrics metrics = new StreamsMetrics(new CollectorRegistry());
      StreamsSettings settings = new StreamsSettings(kit.system().settings().config());
      topics = new PartitionTopics(kit.system());
      region = StreamPartition.initSharding(kit.system(), store, topics, settings, metrics);
      deps = new ClientConnection.Deps(settings, access, region, topics, metrics);
    }
  }

  @BeforeAll
  static void start() {
    store = new InMemoryEventStore();
    access = new TestAccess();
    for (int i = 0; i < 3; i++) {
      kits.add(ActorTestKit.create("StreamsCluster", TestCluster.config(
          "akka.cluster.sharding.rebalance-interval = 1 s")));
    }
    TestCluster.join(kits, Duration.ofSeconds(30));
    for (ActorTestKit k : kits) nodes.add(new Node(k));
  }

  @AfterAll
  static void stop() {
    for (ActorTestKit k : kits) k.shutdownTestKit();
  }

  /** A WebSocket client (its text frames) connected to a node. */
  static ClientConnectionTest.Client client(Node n) {
    return new ClientConnectionTest.Client(n.kit, n.deps);
  }

  /** Waits until every node's topic instance of the partition knows {@code instances}. */
  static void awaitTopicInstances(List<Node> on, String stream, int partition, int instances) {
    for (Node n : on) {
      ActorRef<Topic.Command<EventBatch>> topic = n.topics.topic(stream, partition);
      TestProbe<Topic.TopicStats> stats = n.kit.createTestProbe();
      stats.awaitAssert(Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
        topic.tell(Topic.getTopicStats(stats.ref()));
        int seen = stats.receiveMessage().topicInstanceCount();
        assertTrue(seen >= instances, "topic instances known: " + seen);
        return null;
      });
    }
  }

  static String newStream(int partitions) {
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 22);
    access.add(id, partitions, false);
    return id;
  }

  static List<Long> broadcastOffsets(ClientConnectionTest.Client c, int n, String stream) {
    List<Long> offsets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      JsonNode m = c.expectType(0);
      assertEquals(stream, m.get(3).get(1).asText());
      offsets.add(m.get(3).get(5).asLong());
    }
    return offsets;
  }

  static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i < to; i++) out.add(i);
    return out;
  }

  @Test
  @Order(1)
  void clientsOnDifferentNodesSeeTheSameEventsWithTheSameOffsets() {
    String s = newStream(4);
    List<ClientConnectionTest.Client> subs = new ArrayList<>();
    ClientConnectionTest.Client a = client(nodes.get(0));
    ClientConnectionTest.Client b = client(nodes.get(1));
    for (ClientConnectionTest.Client c : List.of(a, b)) {
      for (int p = 0; p < 4; p++) {
        c.send(ClientConnectionTest.subscribe(s, p, "reader"));
        c.expectType(2);
      }
      subs.add(c);
    }
    for (int p = 0; p < 4; p++) awaitTopicInstances(nodes, s, p, 2);
    ClientConnectionTest.Client pub = client(nodes.get(2));
    // partition 0..3 by key; 10 events each
    String[] keys = new String[4];
    for (int k = 0, found = 0; found < 4; k++) {
      int p = io.peernode.protocol.streamr.PartitionKeys.partitionFor("k" + k, 4);
      if (keys[p] == null) {
        keys[p] = "k" + k;
        found++;
      }
    }
    for (int i = 0; i < 10; i++) {
      for (int p = 0; p < 4; p++) {
        pub.send(ClientConnectionTest.publish(s, "{\"i\":" + i + "}", ",\"pkey\":\"" + keys[p] + "\""));
      }
    }
    for (ClientConnectionTest.Client c : subs) {
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        JsonNode e = c.expectType(0).get(3);
        seen.add(e.get(2).asInt() + ":" + e.get(5).asLong());
      }
      for (int p = 0; p < 4; p++) {
        final int part = p;
        List<String> ofP = seen.stream().filter(x -> x.startsWith(part + ":"))
            .collect(Collectors.toList());
        assertEquals(range(0, 10).stream().map(o -> part + ":" + o).collect(Collectors.toList()),
            ofP, "partition " + p + " in offset order, exactly once");
      }
    }
    // Resends stream from whichever node hosts each partition (stream refs across nodes).
    for (ClientConnectionTest.Client c : subs) {
      for (int p = 0; p < 4; p++) {
        c.send("{\"type\":\"resend\",\"stream\":\"" + s + "\",\"partition\":" + p
            + ",\"sub\":\"r" + p + "\",\"authKey\":\"reader\",\"resend_from\":7}");
        assertEquals("r" + p, c.expectType(4).get(3).get("sub").asText());
        for (long o = 7; o < 10; o++) {
          JsonNode u = c.expectType(1);
          assertEquals(p, u.get(3).get(2).asInt());
          assertEquals(o, u.get(3).get(5).asLong());
        }
        c.expectType(5);
      }
    }
  }

  /** Runs last: it stops a node. */
  @Test
  @Order(2)
  void aPartitionContinuesWithoutAGapWhenItsNodeLeaves() {
    String s = newStream(1);
    String entityId = StreamPartition.entityId(s, 0);
    // Start the partition, then find the node that hosts it.
    TestProbe<StreamPartition.PublishReply> acks = nodes.get(0).kit.createTestProbe();
    nodes.get(0).region.tell(new ShardingEnvelope<>(entityId,
        new StreamPartition.Publish("{\"n\":0}", 1, 60, acks.ref())));
    assertEquals(0, acks.expectMessageClass(StreamPartition.Published.class).offset);
    int host = hostOf(entityId);
    System.out.println("partition " + entityId + " is hosted by node " + host + "; it will leave");
    List<Node> remaining = new ArrayList<>(nodes);
    remaining.remove(nodes.get(host));
    Node front = remaining.get(remaining.size() - 1);
    ClientConnectionTest.Client watcher = client(remaining.get(0));
    watcher.send(ClientConnectionTest.subscribe(s, 0, "reader"));
    watcher.expectType(2);
    awaitTopicInstances(remaining, s, 0, 1);

    TestProbe<StreamPartition.PublishReply> frontAcks = front.kit.createTestProbe();
    List<Long> acked = new ArrayList<>();
    acked.add(0L);
    for (int i = 1; i <= 10; i++) acked.add(publishUntilAcked(front, entityId, frontAcks, i));
    // The host leaves the cluster (coordinated shutdown); sharding hands the partition over.
    nodes.get(host).kit.shutdownTestKit();
    kits.remove(nodes.get(host).kit);
    for (int i = 11; i <= 20; i++) acked.add(publishUntilAcked(front, entityId, frontAcks, i));
    assertEquals(range(0, 21), acked, "acknowledged offsets are 0..20 without gaps");
    List<Long> stored = store.all(s, 0).stream().map(StreamMessage::offset)
        .collect(Collectors.toList());
    assertEquals(range(0, 21), stored, "every acknowledged event is stored, no gap");
    // The watcher saw 1..20 as broadcasts (it subscribed after offset 0), in order.
    assertEquals(range(1, 21), broadcastOffsets(watcher, 20, s));
  }

  /** Publishes through a node until a partition acknowledges (a handover may refuse once). */
  static long publishUntilAcked(Node via, String entityId,
      TestProbe<StreamPartition.PublishReply> acks, int n) {
    for (int attempt = 0; attempt < 20; attempt++) {
      via.region.tell(new ShardingEnvelope<>(entityId,
          new StreamPartition.Publish("{\"n\":" + n + "}", 1, 60, acks.ref())));
      StreamPartition.PublishReply r = acks.receiveMessage(Duration.ofSeconds(15));
      if (r instanceof StreamPartition.Published) return ((StreamPartition.Published) r).offset;
    }
    throw new AssertionError("publish " + n + " never acknowledged");
  }

  static int hostOf(String entityId) {
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      TestProbe<ShardRegion.CurrentShardRegionState> probe = n.kit.createTestProbe();
      ClusterSharding.get(n.kit.system()).shardState()
          .tell(new GetShardRegionState(StreamPartition.ENTITY_KEY, probe.ref()));
      ShardRegion.CurrentShardRegionState state = probe.receiveMessage();
      boolean here = state.getShards().stream()
          .anyMatch(sh -> sh.getEntityIds().contains(entityId));
      if (here) return i;
    }
    throw new AssertionError("no node hosts " + entityId);
  }
}
