package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.stream.javadsl.Sink;
import io.peernode.protocol.streamr.StreamMessage;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One clustered ActorSystem; partitions run as sharded entities on an in-memory store. */
class StreamPartitionTest {

  static ActorTestKit testKit;
  static InMemoryEventStore store;
  static PartitionTopics topics;
  static ActorRef<ShardingEnvelope<StreamPartition.Command>> region;
  static StreamsSettings settings;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("StreamPartitionTest", TestCluster.config(""));
    TestCluster.join(List.of(testKit), Duration.ofSeconds(20));
    store = new InMemoryEventStore();
    topics = new PartitionTopics(testKit.system());
    settings = new StreamsSettings(testKit.system().settings().config());
    region = StreamPartition.initSharding(testKit.system(), store, topics, settings,
        new StreamsMetrics(new CollectorRegistry()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static String stream() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 22);
  }

  /** A probe subscribed to the partition's topic on this node (waits until it is). */
  static TestProbe<StreamMessage> subscriber(String stream, int partition) {
    TestProbe<StreamMessage> probe = testKit.createTestProbe();
    ActorRef<Topic.Command<EventBatch>> topic = topics.topic(stream, partition);
    // The topic carries one batch per append: the probe sees its events one by one.
    ActorRef<EventBatch> unbatch = testKit.spawn(akka.actor.typed.javadsl.Behaviors
        .receiveMessage(b -> {
          b.events.forEach(probe.ref()::tell);
          return akka.actor.typed.javadsl.Behaviors.same();
        }));
    topic.tell(Topic.subscribe(unbatch));
    TestProbe<Topic.TopicStats> stats = testKit.createTestProbe();
    stats.awaitAssert(Duration.ofSeconds(10), Duration.ofMillis(20), () -> {
      topic.tell(Topic.getTopicStats(stats.ref()));
      assertTrue(stats.receiveMessage().localSubscriberCount() >= 1);
      return null;
    });
    return probe;
  }

  static void publish(String stream, int partition, String content,
      ActorRef<StreamPartition.PublishReply> replyTo) {
    region.tell(new ShardingEnvelope<>(StreamPartition.entityId(stream, partition),
        new StreamPartition.Publish(content, 1000, 60, replyTo)));
  }

  @Test
  void offsetsAreAssignedInOrderAndBroadcastOnceStored() {
    String s = stream();
    TestProbe<StreamMessage> sub = subscriber(s, 0);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    for (int i = 0; i < 5; i++) publish(s, 0, "{\"i\":" + i + "}", pub.ref());
    for (int i = 0; i < 5; i++) {
      assertEquals(i, pub.expectMessageClass(StreamPartition.Published.class).offset);
      StreamMessage m = sub.receiveMessage();
      assertEquals(i, m.offset());
      assertEquals(i == 0 ? null : (long) i - 1, m.previousOffset());
      assertEquals("{\"i\":" + i + "}", m.content());
      assertEquals(s, m.streamId());
      assertEquals(60, m.ttl());
    }
    assertEquals(5, store.all(s, 0).size());
  }

  @Test
  void aBatchOfPublishesIsHandledAsIfEachCameAlone() {
    String s = stream();
    TestProbe<StreamMessage> sub = subscriber(s, 0);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    publish(s, 0, "{\"i\":0}", pub.ref());
    List<StreamPartition.Publish> batch = new java.util.ArrayList<>();
    for (int i = 1; i <= 4; i++) {
      batch.add(new StreamPartition.Publish("{\"i\":" + i + "}", 1000 + i, 60, pub.ref()));
    }
    region.tell(new ShardingEnvelope<>(StreamPartition.entityId(s, 0),
        new StreamPartition.PublishBatch(batch)));
    publish(s, 0, "{\"i\":5}", pub.ref());
    for (int i = 0; i <= 5; i++) {
      assertEquals(i, pub.expectMessageClass(StreamPartition.Published.class).offset);
      StreamMessage m = sub.receiveMessage();
      assertEquals(i, m.offset());
      assertEquals("{\"i\":" + i + "}", m.content());
    }
    store.failAppends = true;
    try {
      region.tell(new ShardingEnvelope<>(StreamPartition.entityId(s, 0),
          new StreamPartition.PublishBatch(batch.subList(0, 2))));
      for (int i = 0; i < 2; i++) {
        assertTrue(pub.expectMessageClass(StreamPartition.PublishRejected.class).error
            .contains("disk on fire"));
      }
    } finally {
      store.failAppends = false;
    }
    assertEquals(6, store.all(s, 0).size());
  }

  @Test
  void recoversTheNextOffsetFromTheStore() {
    String s = stream();
    store.setNextOffset(s, 1, 41);
    TestProbe<StreamMessage> sub = subscriber(s, 1);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    publish(s, 1, "{}", pub.ref());
    assertEquals(41, pub.expectMessageClass(StreamPartition.Published.class).offset);
    StreamMessage m = sub.receiveMessage();
    assertEquals(41, m.offset());
    assertEquals(40L, m.previousOffset());
  }

  @Test
  void nothingIsBroadcastBeforeItIsStoredAndWaitingPublishesShareTheNextAppend() {
    String s = stream();
    TestProbe<StreamMessage> sub = subscriber(s, 0);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    // First append goes through to start the entity; then hold the store.
    publish(s, 0, "{}", pub.ref());
    pub.expectMessageClass(StreamPartition.Published.class);
    sub.receiveMessage();
    int before = store.appendSizes.size();
    store.hold();
    publish(s, 0, "{\"held\":0}", pub.ref());
    // The held append has been handed to the store ...
    pub.awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(before + 1, store.appendSizes.size());
      return null;
    });
    for (int i = 1; i <= 10; i++) publish(s, 0, "{\"held\":" + i + "}", pub.ref());
    // ... and while it is held, nobody sees or is told anything.
    sub.expectNoMessage(Duration.ofMillis(200));
    pub.expectNoMessage(Duration.ZERO);
    store.release();
    for (int i = 1; i <= 11; i++) {
      assertEquals(i, sub.receiveMessage().offset());
      assertEquals(i, pub.expectMessageClass(StreamPartition.Published.class).offset);
    }
    // 1 (held) + 10 that waited, written as one append
    assertEquals(List.of(1, 10), store.appendSizes.subList(before, store.appendSizes.size()));
  }

  @Test
  void aFailedWriteIsRejectedAndOffsetsContinueWithoutAGap() {
    String s = stream();
    TestProbe<StreamMessage> sub = subscriber(s, 0);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    publish(s, 0, "{\"ok\":0}", pub.ref());
    assertEquals(0, pub.expectMessageClass(StreamPartition.Published.class).offset);
    store.failAppends = true;
    try {
      publish(s, 0, "{\"lost\":1}", pub.ref());
      assertTrue(pub.expectMessageClass(StreamPartition.PublishRejected.class).error
          .contains("disk on fire"));
    } finally {
      store.failAppends = false;
    }
    publish(s, 0, "{\"ok\":1}", pub.ref());
    assertEquals(1, pub.expectMessageClass(StreamPartition.Published.class).offset);
    assertEquals(List.of(0L, 1L),
        List.of(sub.receiveMessage().offset(), sub.receiveMessage().offset()));
    assertEquals("{\"ok\":1}", store.all(s, 0).get(1).content());
  }

  @Test
  void aPublisherThatAsksForRejectionsOnlyHearsOfNothingElse() {
    String s = stream();
    TestProbe<StreamMessage> sub = subscriber(s, 0);
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      region.tell(new ShardingEnvelope<>(StreamPartition.entityId(s, 0),
          new StreamPartition.Publish("{\"q\":" + i + "}", 1000, 60, pub.ref(), true)));
    }
    for (int i = 0; i < 3; i++) assertEquals(i, sub.receiveMessage().offset());
    pub.expectNoMessage(Duration.ofMillis(100));
    store.failAppends = true;
    try {
      region.tell(new ShardingEnvelope<>(StreamPartition.entityId(s, 0),
          new StreamPartition.Publish("{}", 1000, 60, pub.ref(), true)));
      assertTrue(pub.expectMessageClass(StreamPartition.PublishRejected.class).error
          .contains("disk on fire"));
    } finally {
      store.failAppends = false;
    }
  }

  private List<Long> resend(String s, EventRange range, long last) {
    TestProbe<StreamPartition.ResendReply> probe = testKit.createTestProbe();
    region.tell(new ShardingEnvelope<>(StreamPartition.entityId(s, 0),
        new StreamPartition.Resend(range, last, probe.ref())));
    StreamPartition.ResendStream r = probe.expectMessageClass(StreamPartition.ResendStream.class);
    return r.events.getSource().runWith(Sink.seq(), testKit.system())
        .toCompletableFuture().join().stream().map(StreamMessage::offset)
        .collect(Collectors.toList());
  }

  @Test
  void resendStreamsStoredEvents() {
    String s = stream();
    TestProbe<StreamPartition.PublishReply> pub = testKit.createTestProbe();
    int n = 1200; // more than a page (500)
    for (int i = 0; i < n; i++) publish(s, 0, "{}", pub.ref());
    pub.receiveSeveralMessages(n);
    List<Long> all = resend(s, EventRange.all(), -1);
    assertEquals(n, all.size());
    for (int i = 0; i < n; i++) assertEquals(i, all.get(i));
    assertEquals(List.of(1197L, 1198L, 1199L), resend(s, EventRange.all(), 3));
    assertEquals(List.of(), resend(s, EventRange.all(), 0));
    assertEquals(List.of(10L, 11L, 12L), resend(s, EventRange.offsets(10, 12), -1));
    assertEquals(List.of(1199L), resend(s, EventRange.offsets(1199, Long.MAX_VALUE), -1));
    assertEquals(List.of(), resend(s, EventRange.offsets(5000, Long.MAX_VALUE), -1));
    assertNull(null);
  }
}
