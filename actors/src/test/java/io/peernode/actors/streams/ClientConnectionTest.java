package io.peernode.actors.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.javadsl.Adapter;
import akka.japi.Pair;
import akka.stream.javadsl.Keep;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.peernode.protocol.streamr.StreamMessage;
import io.prometheus.client.CollectorRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The WebSocket protocol of one connection, driven through its text-frame flow. */
class ClientConnectionTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static ActorTestKit testKit;
  static InMemoryEventStore store;
  static TestAccess access;
  static CollectorRegistry registry;
  static ClientConnection.Deps deps;
  static ClientConnection.Deps smallBufferDeps;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("ClientConnectionTest", TestCluster.config(
        "peer.streams.max-message-bytes = 1024"));
    TestCluster.join(List.of(testKit), Duration.ofSeconds(20));
    store = new InMemoryEventStore();
    access = new TestAccess();
    registry = new CollectorRegistry();
    StreamsMetrics metrics = new StreamsMetrics(registry);
    PartitionTopics topics = new PartitionTopics(testKit.system());
    StreamsSettings settings = new StreamsSettings(testKit.system().settings().config());
    var region = StreamPartition.initSharding(testKit.system(), store, topics, settings, metrics);
    deps = new ClientConnection.Deps(settings, access, region, topics, metrics);
    StreamsSettings small = new StreamsSettings(ConfigFactory
        .parseString("peer.streams.connection.outgoing-buffer = 8")
        .withFallback(testKit.system().settings().config()));
    smallBufferDeps = new ClientConnection.Deps(small, access, region, topics, metrics);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** A client: frames in, server messages out. */
  static final class Client {
    final TestPublisher.Probe<String> in;
    final TestSubscriber.Probe<String> out;

    Client(ClientConnection.Deps d) {
      this(testKit, d);
    }

    Client(ActorTestKit kit, ClientConnection.Deps d) {
      Pair<TestPublisher.Probe<String>, TestSubscriber.Probe<String>> p =
          TestSource.<String>probe(Adapter.toClassic(kit.system()))
              .via(ClientConnection.flow(kit.system(), d))
              .map(akka.util.ByteString::utf8String)
              .toMat(TestSink.probe(Adapter.toClassic(kit.system())), Keep.both())
              .run(kit.system());
      in = p.first();
      out = p.second();
    }

    void send(String json) {
      in.sendNext(json);
    }

    JsonNode next() {
      out.request(1);
      try {
        return JSON.readTree(out.expectNext(scala.concurrent.duration.FiniteDuration.create(10, java.util.concurrent.TimeUnit.SECONDS)));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    /** Asserts the next message is an error whose text contains {@code fragment}. */
    void expectError(String fragment, String requestType) {
      JsonNode m = next();
      assertEquals(7, m.get(1).asInt(), () -> "expected an error, got " + m);
      String error = m.get(3).get("error").asText();
      assertTrue(error.contains(fragment), () -> "error '" + error + "' lacks '" + fragment + "'");
      JsonNode req = m.get(3).get("request");
      assertEquals(requestType, req.isNull() ? null : req.asText());
    }

    JsonNode expectType(int type) {
      JsonNode m = next();
      assertEquals(type, m.get(1).asInt(), () -> "expected type " + type + ", got " + m);
      return m;
    }
  }

  static String newStream(int partitions, boolean isPublic) {
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 22);
    access.add(id, partitions, isPublic);
    return id;
  }

  static String publish(String stream, String msgJson, String extra) {
    return "{\"type\":\"publish\",\"stream\":\"" + stream + "\",\"authKey\":\"writer\",\"msg\":"
        + JSON.valueToTree(msgJson) + extra + "}";
  }

  static String subscribe(String stream, int partition, String key) {
    return "{\"type\":\"subscribe\",\"stream\":\"" + stream + "\",\"partition\":" + partition
        + (key == null ? "" : ",\"authKey\":\"" + key + "\"") + "}";
  }

  @Test
  void badInputGetsAnErrorNamingTheProblemAndTheConnectionStaysUsable() {
    String s = newStream(2, false);
    Client c = new Client(deps);
    c.send("this is not json");
    c.expectError("not valid JSON", null);
    c.send("[1,2,3]");
    c.expectError("must be a JSON object", null);
    c.send("{\"type\":\"teleport\",\"stream\":\"" + s + "\"}");
    c.expectError("unknown request type 'teleport'", "teleport");
    c.send("{\"type\":\"subscribe\"}");
    c.expectError("missing field 'stream'", "subscribe");
    c.send("{\"type\":\"subscribe\",\"stream\":\"" + s + "\",\"partition\":-1,\"authKey\":\"reader\"}");
    c.expectError("bad partition", "subscribe");
    c.send(subscribe(s, 2, "reader"));
    c.expectError("bad partition 2", "subscribe");
    c.send("{\"type\":\"publish\",\"stream\":\"" + s + "\",\"authKey\":\"writer\",\"msg\":{\"a\":1}}");
    c.expectError("must be a JSON string", "publish");
    c.send(publish(s, "{\"big\":\"" + "x".repeat(2000) + "\"}", ""));
    c.expectError("more than the limit of 1024", "publish");
    c.send(subscribe("no-such-stream", 0, "reader"));
    JsonNode failedSub = c.expectType(2);
    assertTrue(failedSub.get(3).get("error").asText().contains("not found"));
    c.expectError("stream no-such-stream not found", "subscribe");
    c.send(subscribe(s, 0, "wrong-key"));
    c.expectType(2);
    c.expectError("unknown key", "subscribe");
    c.send(subscribe(s, 0, null));
    c.expectType(2);
    c.expectError("no read permission", "subscribe");
    c.send("{\"type\":\"publish\",\"stream\":\"" + s + "\",\"authKey\":\"reader\",\"msg\":\"{}\"}");
    c.expectError("no write permission", "publish");
    c.send("{\"type\":\"unsubscribe\",\"stream\":\"" + s + "\"}");
    c.expectError("not subscribed", "unsubscribe");
    // still usable
    c.send(subscribe(s, 1, "reader"));
    JsonNode ok = c.expectType(2);
    assertEquals(s, ok.get(3).get("stream").asText());
    assertEquals(1, ok.get(3).get("partition").asInt());
    assertTrue(store.all(s, 0).isEmpty() && store.all(s, 1).isEmpty(), "nothing stored");
  }

  @Test
  void requestsReadAheadAreHandledInOrderBehindACheckThatTakesTime() {
    String s = newStream(1, false);
    Client c = new Client(deps);
    // Sent back to back: the stage reads them ahead while the first waits 300 ms for its check.
    c.send("{\"type\":\"publish\",\"stream\":\"" + s + "\",\"authKey\":\"slow-reader\",\"msg\":\"{}\"}");
    c.send("not json 1");
    c.send("{\"type\":\"unsubscribe\",\"stream\":\"" + s + "\"}");
    c.send("{\"type\":\"publish\",\"stream\":\"" + s + "\",\"authKey\":\"slow-reader\",\"msg\":\"{}\"}");
    c.send("not json 2");
    c.expectError("no write permission", "publish");
    c.expectError("not valid JSON", null);
    c.expectError("not subscribed", "unsubscribe");
    c.expectError("no write permission", "publish");
    JsonNode last = c.next();
    assertTrue(last.get(3).get("error").asText().contains("not valid JSON"), last::toString);
    // and it goes on reading
    c.send(subscribe(s, 0, "reader"));
    c.expectType(2);
    assertTrue(store.all(s, 0).isEmpty(), "nothing stored");
  }

  @Test
  void subscribersGetEachPublishedEventAsABroadcastInOffsetOrder() {
    String s = newStream(1, true);
    Client sub = new Client(deps);
    Client anon = new Client(deps);
    Client pub = new Client(deps);
    sub.send(subscribe(s, 0, "reader"));
    sub.expectType(2);
    anon.send(subscribe(s, 0, null)); // public stream: anonymous reads are allowed
    anon.expectType(2);
    for (int i = 0; i < 20; i++) pub.send(publish(s, "{\"i\":" + i + "}", ",\"ts\":" + (5000 + i)));
    for (Client c : List.of(sub, anon)) {
      for (int i = 0; i < 20; i++) {
        JsonNode m = c.expectType(0);
        assertEquals("", m.get(2).asText());
        JsonNode e = m.get(3);
        assertEquals(28, e.get(0).asInt());
        assertEquals(s, e.get(1).asText());
        assertEquals(0, e.get(2).asInt());
        assertEquals(5000 + i, e.get(3).asLong());
        assertEquals(3600, e.get(4).asInt());
        assertEquals(i, e.get(5).asLong());
        if (i == 0) assertTrue(e.get(6).isNull());
        else assertEquals(i - 1, e.get(6).asLong());
        assertEquals(27, e.get(7).asInt());
        assertEquals("{\"i\":" + i + "}", e.get(8).asText());
      }
    }
    pub.out.request(1);
    pub.out.expectNoMessage(scala.concurrent.duration.FiniteDuration.create(100, java.util.concurrent.TimeUnit.MILLISECONDS)); // a successful publish is not answered
    sub.send("{\"type\":\"unsubscribe\",\"stream\":\"" + s + "\",\"partition\":0}");
    sub.expectType(3);
  }

  @Test
  void publishesSentBackToBackAreStoredInTheOrderSentAcrossPartitions() throws Exception {
    String s = newStream(2, false);
    String[] keys = new String[2];
    for (int k = 0; keys[0] == null || keys[1] == null; k++) {
      keys[io.peernode.protocol.streamr.PartitionKeys.partitionFor("key-" + k, 2)] = "key-" + k;
    }
    Client pub = new Client(deps);
    // Runs of publishes to one partition, then the other, with no pause: the connection sends
    // each run as one message to its partition, and a run must not overtake the one before.
    int n = 0;
    java.util.Map<Integer, Integer> partitionOf = new java.util.HashMap<>();
    for (int run = 0; run < 12; run++) {
      for (int j = 0; j <= run % 5; j++, n++) {
        pub.send(publish(s, "{\"n\":" + n + "}", ",\"pkey\":\"" + keys[run % 2] + "\""));
        partitionOf.put(n, run % 2);
      }
    }
    pub.in.sendComplete(); // the client leaves at once: what it sent is still published
    int total = n;
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(total, store.all(s, 0).size() + store.all(s, 1).size());
      return null;
    });
    for (int p = 0; p < 2; p++) {
      int last = -1;
      for (StreamMessage m : store.all(s, p)) {
        int i = JSON.readTree(m.content()).get("n").asInt();
        assertEquals(partitionOf.get(i), p, "the partition of event " + i);
        assertTrue(i > last, "partition " + p + ": event " + i + " stored after " + last);
        last = i;
      }
    }
  }

  @Test
  void pkeyChoosesThePartition() {
    String s = newStream(4, false);
    Client pub = new Client(deps);
    for (int i = 0; i < 8; i++) pub.send(publish(s, "{}", ",\"pkey\":\"device-7\""));
    int p = io.peernode.protocol.streamr.PartitionKeys.partitionFor("device-7", 4);
    pub.out.request(1);
    pub.out.expectNoMessage(scala.concurrent.duration.FiniteDuration.create(50, java.util.concurrent.TimeUnit.MILLISECONDS));
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(8, store.all(s, p).size());
      return null;
    });
  }

  private void expectResend(Client c, String s, String sub, List<Long> offsets) {
    JsonNode resending = c.expectType(4);
    assertEquals(sub, resending.get(3).get("sub").asText());
    assertEquals(s, resending.get(3).get("stream").asText());
    for (long o : offsets) {
      JsonNode u = c.expectType(1);
      assertEquals(sub, u.get(2).asText());
      assertEquals(o, u.get(3).get(5).asLong());
    }
    JsonNode resent = c.expectType(5);
    assertEquals(sub, resent.get(3).get("sub").asText());
  }

  @Test
  void resendVariants() {
    String s = newStream(1, false);
    Client c = new Client(deps);
    for (int i = 0; i < 5; i++) c.send(publish(s, "{}", ",\"ts\":" + (1000 * (i + 1))));
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(5, store.all(s, 0).size());
      return null;
    });
    String base = "{\"type\":\"resend\",\"stream\":\"" + s + "\",\"authKey\":\"reader\",";
    c.send(base + "\"sub\":\"a\",\"resend_all\":true}");
    expectResend(c, s, "a", List.of(0L, 1L, 2L, 3L, 4L));
    c.send(base + "\"sub\":\"b\",\"resend_last\":2}");
    expectResend(c, s, "b", List.of(3L, 4L));
    c.send(base + "\"sub\":\"c\",\"resend_from\":1,\"resend_to\":2}");
    expectResend(c, s, "c", List.of(1L, 2L));
    c.send(base + "\"sub\":\"d\",\"resend_from\":3}");
    expectResend(c, s, "d", List.of(3L, 4L));
    c.send(base + "\"sub\":\"e\",\"resend_from_time\":4000}");
    expectResend(c, s, "e", List.of(3L, 4L));
    c.send(base + "\"sub\":\"f\",\"resend_from\":99}");
    JsonNode none = c.expectType(6);
    assertEquals("f", none.get(3).get("sub").asText());
    c.send(base + "\"sub\":\"g\",\"resend_last\":0}");
    c.expectType(6);
    c.send("{\"type\":\"resend\",\"stream\":\"" + s + "\",\"sub\":\"h\",\"resend_all\":true}");
    c.expectError("no read permission", "resend");
  }

  @Test
  void aClientThatDoesNotReadIsDisconnected() {
    String s = newStream(1, false);
    double before = value("streamr_slow_consumer_disconnects_total");
    Client slow = new Client(smallBufferDeps);
    slow.send(subscribe(s, 0, "reader"));
    slow.expectType(2); // then it stops reading
    Client pub = new Client(deps);
    for (int i = 0; i < 200; i++) pub.send(publish(s, "{}", ""));
    Throwable error = slow.out.expectError();
    assertInstanceOf(ClientConnection.SlowConsumerException.class, error);
    assertEquals(before + 1, value("streamr_slow_consumer_disconnects_total"));
    // the publisher is not affected
    Client reader = new Client(deps);
    reader.send(subscribe(s, 0, "reader"));
    reader.expectType(2);
    pub.send(publish(s, "{\"after\":1}", ""));
    assertEquals("{\"after\":1}", reader.expectType(0).get(3).get(8).asText());
  }

  static double value(String name) {
    Double v = registry.getSampleValue(name);
    return v == null ? 0 : v;
  }
}
