package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.japi.Pair;
import akka.stream.BoundedSourceQueue;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.StreamRefs;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.protocol.streamr.StreamMessage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A subscription against a scripted partition: it starts at the partition's next offset,
 * drops duplicates and fills a gap from the store before later events.
 */
class ClientSubscriptionTest {

  static ActorTestKit testKit;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("ClientSubscriptionTest", TestCluster.config(""));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static StreamMessage event(long offset) {
    return new StreamMessage("s", 0, 1000 + offset, 60, offset, offset == 0 ? null : offset - 1,
        "{\"o\":" + offset + "}");
  }

  /** A connection's outgoing side that is only a queue (a test probe reads it). */
  static Outgoing toQueue(BoundedSourceQueue<String> queue) {
    return utf8 -> queue.offer(utf8.utf8String()) == akka.stream.QueueOfferResult.enqueued()
        ? Outgoing.Offer.SENT : Outgoing.Offer.FULL;
  }

  static JsonNode next(TestSubscriber.Probe<String> out) throws Exception {
    out.request(1);
    return JSON.readTree(out.expectNext());
  }

  @Test
  void startsAtTheNextOffsetDropsDuplicatesAndFillsGaps() throws Exception {
    StreamsSettings settings = new StreamsSettings(com.typesafe.config.ConfigFactory
        .parseString("peer.streams.connection.subscription-catch-up = 1 h") // not in this test
        .withFallback(testKit.system().settings().config()));
    Pair<BoundedSourceQueue<String>, TestSubscriber.Probe<String>> q = Source.<String>queue(100)
        .toMat(TestSink.probe(Adapter.toClassic(testKit.system())), Keep.both())
        .run(testKit.system());
    Outgoing outgoing = toQueue(q.first());
    TestSubscriber.Probe<String> out = q.second();
    TestProbe<ShardingEnvelope<StreamPartition.Command>> partition = testKit.createTestProbe();
    TestProbe<ClientConnection.Command> connection = testKit.createTestProbe();
    TestProbe<Topic.Command<EventBatch>> topicProbe = testKit.createTestProbe();

    ActorRef<ClientSubscription.Command> sub = testKit.spawn(ClientSubscription.create("s", 0,
        topicProbe.ref(), partition.ref(), settings, outgoing, connection.ref()));
    // It subscribes to the topic; capture its event ref from the Subscribe message.
    Topic.Command<EventBatch> subscribe = topicProbe.receiveMessage();
    @SuppressWarnings("unchecked")
    ActorRef<EventBatch> events = (ActorRef<EventBatch>)
        subscribe.getClass().getMethod("subscriber").invoke(subscribe);

    ShardingEnvelope<StreamPartition.Command> ask = partition.receiveMessage();
    assertEquals("s#0", ask.entityId());
    StreamPartition.GetNextOffset get = (StreamPartition.GetNextOffset) ask.message();
    // An event that raced ahead of the answer waits for it.
    events.tell(EventBatch.of(event(10)));
    get.replyTo.tell(new StreamPartition.NextOffset(10));
    assertEquals(2, next(out).get(1).asInt(), "subscribed first");
    assertEquals(10, next(out).get(3).get(5).asLong());

    events.tell(EventBatch.of(event(10))); // duplicate: dropped
    events.tell(EventBatch.of(event(13))); // 11 and 12 were missed
    ShardingEnvelope<StreamPartition.Command> resend = partition.receiveMessage();
    StreamPartition.Resend r = (StreamPartition.Resend) resend.message();
    assertEquals(EventRange.offsets(11, 12), r.range);
    events.tell(EventBatch.of(event(14))); // waits behind the fill
    r.replyTo.tell(new StreamPartition.ResendStream(Source.from(List.of(event(11), event(12)))
        .runWith(StreamRefs.sourceRef(), testKit.system())));
    for (long o = 11; o <= 14; o++) {
      JsonNode m = next(out);
      assertEquals(0, m.get(1).asInt());
      assertEquals(o, m.get(3).get(5).asLong());
    }
    events.tell(EventBatch.of(event(12))); // old: dropped
    events.tell(EventBatch.of(event(15)));
    assertEquals(15, next(out).get(3).get(5).asLong());
    connection.expectNoMessage(Duration.ofMillis(50));
    testKit.stop(sub);
  }

  @Test
  void aQuietStreamsMissedEventsAreFetchedByTheCatchUpCheck() throws Exception {
    StreamsSettings settings = new StreamsSettings(com.typesafe.config.ConfigFactory
        .parseString("peer.streams.connection.subscription-catch-up = 200 ms")
        .withFallback(testKit.system().settings().config()));
    Pair<BoundedSourceQueue<String>, TestSubscriber.Probe<String>> q = Source.<String>queue(100)
        .toMat(TestSink.probe(Adapter.toClassic(testKit.system())), Keep.both())
        .run(testKit.system());
    Outgoing outgoing = toQueue(q.first());
    TestSubscriber.Probe<String> out = q.second();
    TestProbe<ShardingEnvelope<StreamPartition.Command>> partition = testKit.createTestProbe();
    TestProbe<Topic.Command<EventBatch>> topicProbe = testKit.createTestProbe();
    ActorRef<ClientSubscription.Command> sub = testKit.spawn(ClientSubscription.create("s", 0,
        topicProbe.ref(), partition.ref(), settings, outgoing,
        testKit.<ClientConnection.Command>createTestProbe().ref()));
    StreamPartition.GetNextOffset start =
        (StreamPartition.GetNextOffset) partition.receiveMessage().message();
    start.replyTo.tell(new StreamPartition.NextOffset(10));
    assertEquals(2, next(out).get(1).asInt());
    // Pub/sub delivers nothing (the remote topic did not know us yet); the partition stored 10, 11.
    StreamPartition.GetNextOffset catchUp = (StreamPartition.GetNextOffset)
        partition.receiveMessage(Duration.ofSeconds(10)).message();
    catchUp.replyTo.tell(new StreamPartition.NextOffset(12));
    StreamPartition.Resend missed = (StreamPartition.Resend) partition.receiveMessage().message();
    assertEquals(EventRange.offsets(10, 11), missed.range);
    missed.replyTo.tell(new StreamPartition.ResendStream(Source.from(List.of(event(10), event(11)))
        .runWith(StreamRefs.sourceRef(), testKit.system())));
    assertEquals(10, next(out).get(3).get(5).asLong());
    assertEquals(11, next(out).get(3).get(5).asLong());
    testKit.stop(sub);
  }
}
