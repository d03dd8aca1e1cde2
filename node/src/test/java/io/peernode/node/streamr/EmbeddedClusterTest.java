package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.node.PeerNode;
import io.peernode.node.testkit.Eventually;
import io.peernode.node.testkit.InJvmCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three nodes, each with its own embedded store (no --db-url): streams, keys and permissions
 * hold on every node; a partition lives on its stream's home node (the node that created it),
 * answers "unavailable" while that node is down, and continues its offsets when it is back.
 *
 * <p>Node A (the home) is the cluster's youngest node, {@code node(2)}; B is {@code node(0)},
 * C {@code node(1)}.
 */
class EmbeddedClusterTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration CONVERGE = Duration.ofSeconds(60);
  static final int A = 2;
  static final int B = 0;
  static final int C = 1;
  static InJvmCluster cluster;
  static HttpClient http;

  @BeforeAll
  static void start() {
    cluster = InJvmCluster.start(3);
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  record Reply(int status, JsonNode body) {}

  static String base(int node) {
    PeerNode n = cluster.node(node);
    return "http://" + n.host() + ":" + n.httpPort() + "/api/v1";
  }

  static Reply call(int node, String method, String path, String key, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base(node) + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (key != null) b.header("Authorization", "token " + key);
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()));
  }

  /** A WebSocket client collecting whole text messages. */
  static final class Ws implements WebSocket.Listener {
    final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
    final StringBuilder partial = new StringBuilder();
    WebSocket socket;

    static Ws connect(int node) throws Exception {
      Ws ws = new Ws();
      ws.socket = http.newWebSocketBuilder()
          .buildAsync(URI.create(base(node).replace("http:", "ws:") + "/ws"), ws)
          .get(30, TimeUnit.SECONDS);
      return ws;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          received.add(JSON.readTree(partial.toString()));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    void send(String text) throws Exception {
      socket.sendText(text, true).get(30, TimeUnit.SECONDS);
    }

    JsonNode next(int type) throws Exception {
      JsonNode m = received.poll(60, TimeUnit.SECONDS);
      assertNotNull(m, "no message of type " + type + " within 60 s");
      assertEquals(type, m.get(1).asInt(), () -> "unexpected " + m);
      return m;
    }

    void close() {
      socket.abort();
    }
  }

  static String publish(String stream, String key, String msg) {
    return "{\"type\":\"publish\",\"stream\":\"" + stream + "\",\"authKey\":\"" + key
        + "\",\"msg\":" + JSON.valueToTree(msg) + "}";
  }

  @Test
  void metadataOnEveryNodeAndPartitionsAtHome() throws Exception {
    // A key made by A's admin, then a stream made with it on A: both reach B and C.
    Reply k = call(A, "POST", "/keys", cluster.node(A).adminKey(), "{\"name\":\"alice\"}");
    assertEquals(200, k.status(), () -> "create key: " + k.body());
    String key = k.body().get("id").asText();
    Reply created = call(A, "POST", "/streams", key, "{\"name\":\"replicated\"}");
    assertEquals(200, created.status(), () -> "create stream: " + created.body());
    String id = created.body().get("id").asText();
    for (int node : new int[] {B, C}) {
      Eventually.await(CONVERGE, () -> {
        Reply r = call(node, "GET", "/streams/" + id, key, null);
        assertEquals(200, r.status(), () -> "on node " + node + ": " + r.body());
        assertEquals("replicated", r.body().get("name").asText());
        // The owner's three permissions are entries of their own: they may arrive a little
        // apart from the stream (reading the permissions needs the share one).
        Reply perms = call(node, "GET", "/streams/" + id + "/permissions", key, null);
        assertEquals(200, perms.status(), () -> "permissions on node " + node + ": " + perms.body());
        assertEquals(3, perms.body().size(), () -> "permissions on node " + node + ": " + perms.body());
      });
    }

    // An update on C and a grant on B are seen everywhere.
    Reply updated = call(C, "PUT", "/streams/" + id, key, "{\"description\":\"from C\"}");
    assertEquals(200, updated.status(), () -> "update: " + updated.body());
    Reply granted = call(B, "POST", "/streams/" + id + "/permissions", key,
        "{\"operation\":\"read\",\"anonymous\":true}");
    assertEquals(200, granted.status(), () -> "grant: " + granted.body());
    Eventually.await(CONVERGE, () -> {
      Reply perms = call(C, "GET", "/streams/" + id + "/permissions", key, null);
      assertEquals(200, perms.status());
      assertEquals(4, perms.body().size(), () -> "permissions on C: " + perms.body());
      Reply s = call(A, "GET", "/streams/" + id, null, null); // anonymous read, granted on B
      assertEquals(200, s.status(), () -> "anonymous read on A: " + s.body());
      assertEquals("from C", s.body().get("description").asText());
    });

    // Subscribers on A and C; publishers on B and C.
    Ws subA = Ws.connect(A);
    Ws subC = Ws.connect(C);
    String subscribe = "{\"type\":\"subscribe\",\"stream\":\"" + id + "\",\"authKey\":\"" + key
        + "\"}";
    subA.send(subscribe);
    subC.send(subscribe);
    subA.next(2);
    subC.next(2);
    Ws pubB = Ws.connect(B);
    Ws pubC = Ws.connect(C);
    List<String> seenA = new ArrayList<>();
    List<String> seenC = new ArrayList<>();
    // Pub/sub reaches C's subscriber only once the partition's node has learnt of C's topic
    // (receptionist gossip); until then the subscription catches up by itself only after
    // connection.subscription-catch-up. Warm up until C has seen an event; everything is still
    // checked below.
    int warmups = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode firstC = null;
    while (firstC == null) {
      assertTrue(System.nanoTime() < deadline, "C's subscriber saw no event within 60 s");
      pubB.send(publish(id, key, "{\"warmup\":" + warmups + "}"));
      warmups++;
      firstC = subC.received.poll(2, TimeUnit.SECONDS);
    }
    assertEquals(0, firstC.get(1).asInt(), "a broadcast on C: " + firstC);
    int events = warmups + 20;
    for (int i = warmups; i < events; i++) {
      (i % 2 == 0 ? pubB : pubC).send(publish(id, key, "{\"i\":" + i + "}"));
    }
    for (int i = 0; i < events; i++) {
      JsonNode a = subA.next(0).get(3);
      JsonNode c = (i == 0 ? firstC : subC.next(0)).get(3);
      assertEquals(i, a.get(5).asLong(), () -> "offset on A: " + a);
      assertEquals(i, c.get(5).asLong(), () -> "offset on C: " + c);
      seenA.add(a.get(8).asText());
      seenC.add(c.get(8).asText());
    }
    assertEquals(seenA, seenC, "same events at the same offsets on A and C");
    assertEquals(events, seenA.stream().distinct().count(), "each event exactly once");
    assertTrue(subA.received.poll(1, TimeUnit.SECONDS) == null, "nothing more on A");
    subA.close();

    // A stream that A knows, deleted while A is down: A's stale copy must not bring it back.
    Reply doomed = call(B, "POST", "/streams", key, "{\"name\":\"doomed\"}");
    assertEquals(200, doomed.status(), () -> "create doomed: " + doomed.body());
    String doomedId = doomed.body().get("id").asText();
    Eventually.await(CONVERGE, () -> assertEquals(200,
        call(A, "GET", "/streams/" + doomedId, key, null).status()));
    // C deletes it below: it needs the stream and the owner's share permission there.
    Eventually.await(CONVERGE, () -> assertEquals(200,
        call(C, "GET", "/streams/" + doomedId + "/permissions", key, null).status()));

    // The home node goes away: the partition is unavailable through B (REST) and C (WS).
    String home = cluster.node(A).nodeId().hex();
    cluster.stopNode(A);
    cluster.awaitMembersUp(2, CONVERGE);
    Reply gone = call(C, "DELETE", "/streams/" + doomedId, key, null);
    assertEquals(200, gone.status(), () -> "delete doomed: " + gone.body());
    Eventually.await(CONVERGE, () -> {
      Reply r = call(B, "POST", "/streams/" + id + "/data", key, "{\"late\":1}");
      assertEquals(503, r.status(), () -> "publish while the home is down: " + r.body());
      assertTrue(r.body().get("message").asText().contains("is unavailable: its home node "
          + home + " is not in the cluster"), () -> "message: " + r.body());
    });
    pubC.send(publish(id, key, "{\"late\":2}"));
    JsonNode error = pubC.next(7).get(3);
    assertTrue(error.get("error").asText().contains("unavailable"), () -> "error: " + error);
    assertEquals("publish", error.get("request").asText());
    Reply last = call(C, "GET", "/streams/" + id + "/data/partitions/0/last?count=1", key, null);
    assertEquals(503, last.status(), () -> "history while the home is down: " + last.body());

    // Back with the same data dir: history intact, offsets continue without gap or reuse.
    cluster.restartNode(A);
    cluster.awaitMembersUp(3, CONVERGE);
    long[] offset = {-1};
    Eventually.await(Duration.ofSeconds(90), () -> {
      Reply r = call(B, "POST", "/streams/" + id + "/data", key, "{\"back\":1}");
      assertEquals(200, r.status(), () -> "publish after the home is back: " + r.body());
      offset[0] = r.body().get("offset").asLong();
    });
    assertEquals(events, offset[0], "the next offset after the stored ones, none skipped");
    Reply range = call(C, "GET", "/streams/" + id + "/data/partitions/0/range?fromOffset=0",
        key, null);
    assertEquals(200, range.status(), () -> "range: " + range.body());
    assertEquals(events + 1, range.body().size(), () -> "stored: " + range.body());
    for (int i = 0; i < events; i++) {
      assertEquals(i, range.body().get(i).get(5).asLong());
      assertEquals(seenC.get(i), range.body().get(i).get(8).asText());
    }
    assertEquals("{\"back\":1}", range.body().get(events).get(8).asText());

    // The delete made while A was down reached A, and A's old copy revived it nowhere.
    Eventually.await(CONVERGE, () -> assertEquals(404,
        call(A, "GET", "/streams/" + doomedId, key, null).status(), "doomed on A"));
    for (int node : new int[] {A, B, C}) {
      assertEquals(404, call(node, "GET", "/streams/" + doomedId, key, null).status(),
          "doomed on node " + node);
      Reply named = call(node, "GET", "/streams?name=doomed", key, null);
      assertEquals(0, named.body().size(), () -> "doomed listed: " + named.body());
    }
    subC.close();
    pubB.close();
    pubC.close();
  }

  @Test
  void deleteWinsOverStaleCopies() throws Exception {
    Reply k = call(B, "POST", "/keys", cluster.node(B).adminKey(), "{\"name\":\"bob\"}");
    assertEquals(200, k.status());
    String key = k.body().get("id").asText();
    Eventually.await(CONVERGE, () -> assertEquals(200,
        call(C, "POST", "/streams", key, "{\"name\":\"short-lived\"}").status()));
    String id = call(C, "GET", "/streams?name=short-lived", key, null).body().get(0).get("id")
        .asText();
    // Deleting needs the share permission, an entry of its own that may reach B after the stream.
    Eventually.await(CONVERGE, () -> {
      Reply perms = call(B, "GET", "/streams/" + id + "/permissions", key, null);
      assertEquals(200, perms.status(), () -> "permissions on B: " + perms.body());
      assertEquals(3, perms.body().size(), () -> "permissions on B: " + perms.body());
    });
    Reply deleted = call(B, "DELETE", "/streams/" + id, key, null);
    assertEquals(200, deleted.status(), () -> "delete: " + deleted.body());
    for (int node = 0; node < cluster.size(); node++) {
      if (cluster.node(node).system().whenTerminated().isCompleted()) {
        continue; // stopped by the other test, which failed before restarting it
      }
      int n = node;
      Eventually.await(CONVERGE, () -> assertEquals(404,
          call(n, "GET", "/streams/" + id, key, null).status(), "deleted on node " + n));
    }
  }
}
