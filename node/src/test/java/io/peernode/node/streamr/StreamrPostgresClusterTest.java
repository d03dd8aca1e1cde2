package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.http.HttpServer;
import io.peernode.node.storage.TestPostgres;
import io.prometheus.client.CollectorRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two clustered nodes sharing one PostgreSQL server (started by the test): a stream created over
 * REST on one node holds on the other; a WebSocket client on node B sees what a client on node
 * A publishes, with the same offsets, and can resend it there.
 */
class StreamrPostgresClusterTest {

  static final String ADMIN = "admin-secret";
  static TestPostgres pg;
  static final List<ActorSystem<Void>> systems = new ArrayList<>();
  static final List<String> bases = new ArrayList<>();
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    pg = TestPostgres.start();
    if (pg == null) {
      System.err.println("SKIPPING StreamrPostgresClusterTest: " + TestPostgres.unavailableReason);
    }
    Assumptions.assumeTrue(pg != null, () -> "SKIPPED LOUDLY: " + TestPostgres.unavailableReason);
    for (int i = 0; i < 2; i++) {
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "StreamrPg",
          ConfigFactory.parseString("akka.actor.provider = cluster\n"
                  + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
                  + "akka.remote.artery.canonical.port = 0\n"
                  + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n")
              .withFallback(ConfigFactory.load()));
      systems.add(system);
    }
    for (ActorSystem<Void> s : systems) {
      Cluster.get(s).manager().tell(Join.create(Cluster.get(systems.get(0)).selfMember().address()));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ActorSystem<Void> s : systems) {
      akka.actor.testkit.typed.javadsl.TestProbe<Object> probe =
          akka.actor.testkit.typed.javadsl.TestProbe.create(s);
      probe.awaitAssert(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())),
          Duration.ofMillis(100), () -> {
            long up = StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(),
                false).filter(m -> m.status() == MemberStatus.up()).count();
            assertEquals(2, up);
            return null;
          });
    }
    for (ActorSystem<Void> s : systems) {
      StreamrApi api = StreamrApi.start(s, s.settings().config(),
          Files.createTempDirectory("pg-node"), Optional.of(pg.jdbcUrl()), ADMIN,
          new CollectorRegistry());
      HttpServer b = HttpServer.bind(s, "127.0.0.1", 0, api.routes(), api.webSockets())
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
      bases.add("http://127.0.0.1:" + b.localAddress().getPort() + "/api/v1");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (ActorSystem<Void> s : systems) s.terminate();
    for (ActorSystem<Void> s : systems) {
      s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (pg != null) pg.close();
  }

  static JsonNode post(String base, String path, String key, String body) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "token " + key)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return StreamrApiTest.JSON.readTree(r.body());
  }

  static int get(String base, String path, String key) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Authorization", "token " + key).GET().build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** A WebSocket client on one node. */
  static final class Client implements WebSocket.Listener {
    final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    final StringBuilder partial = new StringBuilder();
    WebSocket socket;

    static Client to(String base) throws Exception {
      Client c = new Client();
      c.socket = http.newWebSocketBuilder()
          .buildAsync(URI.create(base.replace("http:", "ws:") + "/ws"), c)
          .get(20, TimeUnit.SECONDS);
      return c;
    }

    @Override
    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          received.add(StreamrApiTest.JSON.readTree(partial.toString()));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        partial.setLength(0);
      }
      w.request(1);
      return null;
    }

    JsonNode next(int type) throws Exception {
      JsonNode m = received.poll(30, TimeUnit.SECONDS);
      assertNotNull(m, "nothing of type " + type + " within 30 s");
      assertEquals(type, m.get(1).asInt(), () -> "unexpected " + m);
      return m;
    }
  }

  @Test
  void nodesShareStreamsKeysAndEvents() throws Exception {
    String a = bases.get(0);
    String b = bases.get(1);
    String key = post(a, "/keys", ADMIN, "{\"name\":\"k\"}").get("id").asText();
    String id = post(a, "/streams", key, "{\"name\":\"shared\"}").get("id").asText();
    assertEquals(200, get(b, "/streams/" + id, key), "the stream and key hold on node B");

    Client onB = Client.to(b);
    onB.socket.sendText("{\"type\":\"subscribe\",\"stream\":\"" + id + "\",\"authKey\":\"" + key
        + "\"}", true).get();
    onB.next(2);
    Client onA = Client.to(a);
    for (int i = 0; i < 5; i++) {
      onA.socket.sendText("{\"type\":\"publish\",\"stream\":\"" + id + "\",\"authKey\":\""
          + key + "\",\"msg\":\"{\\\"i\\\":" + i + "}\"}", true).get();
    }
    for (int i = 0; i < 5; i++) {
      JsonNode e = onB.next(0).get(3);
      assertEquals(i, e.get(5).asLong());
      assertEquals("{\"i\":" + i + "}", e.get(8).asText());
    }
    onB.socket.sendText("{\"type\":\"resend\",\"stream\":\"" + id + "\",\"sub\":\"x\","
        + "\"authKey\":\"" + key + "\",\"resend_from\":3}", true).get();
    onB.next(4);
    assertEquals(3, onB.next(1).get(3).get(5).asLong());
    assertEquals(4, onB.next(1).get(3).get(5).asLong());
    onB.next(5);
    onA.socket.abort();
    onB.socket.abort();
  }
}
