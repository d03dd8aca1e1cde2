package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The data API over real HTTP and WebSocket, on one node with the embedded store. */
class StreamrApiTest {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String ADMIN = "admin-secret";
  static DataApiServer server;
  static String base;
  static HttpClient http;

  @BeforeAll
  static void start() throws Exception {
    server = DataApiServer.start("StreamrApiTest", ADMIN,
        "peer.streams.max-message-bytes = 4096\n");
    base = "http://127.0.0.1:" + server.port + "/api/v1";
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  record Reply(int status, JsonNode body) {}

  static Reply call(String method, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
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
    final java.util.concurrent.CompletableFuture<Integer> closed =
        new java.util.concurrent.CompletableFuture<>();
    WebSocket socket;

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.complete(-1);
    }

    static Ws connect() throws Exception {
      Ws ws = new Ws();
      ws.socket = http.newWebSocketBuilder()
          .buildAsync(URI.create(base.replace("http:", "ws:") + "/ws"), ws)
          .get(10, TimeUnit.SECONDS);
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
      socket.sendText(text, true).get(10, TimeUnit.SECONDS);
    }

    JsonNode next(int type) throws Exception {
      // Generous: the machine running the suite may be busy.
      JsonNode m = received.poll(30, TimeUnit.SECONDS);
      assertNotNull(m, "no message of type " + type + " within 30 s");
      assertEquals(type, m.get(1).asInt(), () -> "unexpected " + m);
      return m;
    }
  }

  @Test
  void streamLifecycleOverRestAndWebSocket() throws Exception {
    Reply key = call("POST", "/keys", ADMIN, "{\"name\":\"alice\"}");
    assertEquals(200, key.status());
    String alice = key.body().get("id").asText();

    Reply created = call("POST", "/streams", alice,
        "{\"name\":\"temps\",\"description\":\"d\",\"config\":{}}");
    assertEquals(200, created.status(), () -> created.body().toString());
    String id = created.body().get("id").asText();
    assertEquals(22, id.length());
    assertEquals(1, created.body().get("partitions").asInt());

    Reply byName = call("GET", "/streams?name=temps&public=false", alice, null);
    assertEquals(id, byName.body().get(0).get("id").asText());
    Reply updated = call("PUT", "/streams/" + id, alice, "{\"name\":\"temps2\",\"extra\":1}");
    assertEquals("temps2", updated.body().get("name").asText());
    assertEquals("temps2", call("GET", "/streams/" + id, alice, null).body().get("name").asText());

    Reply perms = call("GET", "/streams/" + id + "/permissions", alice, null);
    assertEquals(3, perms.body().size());
    for (JsonNode p : perms.body()) assertEquals(alice, p.get("user").asText());

    Ws sub = Ws.connect();
    sub.send("{\"type\":\"subscribe\",\"stream\":\"" + id + "\",\"authKey\":\"" + alice + "\"}");
    sub.next(2);
    Ws pub = Ws.connect();
    for (int i = 0; i < 3; i++) {
      pub.send("{\"type\":\"publish\",\"stream\":\"" + id + "\",\"authKey\":\"" + alice
          + "\",\"msg\":\"{\\\"x\\\":" + i + "}\"}");
    }
    for (int i = 0; i < 3; i++) {
      JsonNode e = sub.next(0).get(3);
      assertEquals(i, e.get(5).asLong());
      assertEquals("{\"x\":" + i + "}", e.get(8).asText());
    }
    Reply posted = call("POST", "/streams/" + id + "/data", alice, "{\"x\":3,\"ok\":true}");
    assertEquals(3, posted.body().get("offset").asLong());
    assertEquals(3, sub.next(0).get(3).get(5).asLong());

    Reply last = call("GET", "/streams/" + id + "/data/partitions/0/last?count=2", alice, null);
    assertEquals(2, last.body().size());
    assertEquals(2, last.body().get(0).get(5).asLong());
    Reply range = call("GET", "/streams/" + id
        + "/data/partitions/0/range?fromOffset=1&toOffset=2&wrapper=object", alice, null);
    assertEquals(2, range.body().size());
    assertEquals(1, range.body().get(0).get("offset").asLong());
    assertEquals(1, range.body().get(0).get("content").get("x").asInt());
    assertEquals(0, call("GET", "/streams/" + id + "/data/partitions/0/range?fromOffset=9",
        alice, null).body().size());

    sub.send("{\"type\":\"resend\",\"stream\":\"" + id + "\",\"sub\":\"s1\",\"authKey\":\""
        + alice + "\",\"resend_last\":2}");
    assertEquals("s1", sub.next(4).get(3).get("sub").asText());
    assertEquals(2, sub.next(1).get(3).get(5).asLong());
    assertEquals(3, sub.next(1).get(3).get(5).asLong());
    sub.next(5);

    JsonNode fields = call("GET", "/streams/" + id + "/detectFields", alice, null)
        .body().get("config").get("fields");
    assertEquals("x", fields.get(0).get("name").asText());
    assertEquals("number", fields.get(0).get("type").asText());
    assertEquals("boolean", fields.get(1).get("type").asText());

    Reply streamKey = call("POST", "/streams/" + id + "/keys", alice,
        "{\"name\":\"reader\",\"permission\":\"read\"}");
    String reader = streamKey.body().get("id").asText();
    assertEquals(200, call("GET", "/streams/" + id, reader, null).status());
    assertEquals(403, call("POST", "/streams/" + id + "/data", reader, "{}").status());

    // anonymous reads only once the stream is public
    assertEquals(401, call("GET", "/streams/" + id, null, null).status());
    assertEquals(200, call("POST", "/streams/" + id + "/permissions", alice,
        "{\"operation\":\"read\",\"anonymous\":true}").status());
    assertEquals(200, call("GET", "/streams/" + id, null, null).status());

    assertEquals(200, call("DELETE", "/streams/" + id, alice, null).status());
    assertEquals(404, call("GET", "/streams/" + id, alice, null).status());
    sub.socket.abort();
    pub.socket.abort();
  }

  @Test
  void badRequestsAreClearFourHundreds() throws Exception {
    String bob = call("POST", "/keys", ADMIN, "{\"name\":\"bob\"}").body().get("id").asText();
    String eve = call("POST", "/keys", ADMIN, "{\"name\":\"eve\"}").body().get("id").asText();
    String id = call("POST", "/streams", bob, "{\"name\":\"b\"}").body().get("id").asText();

    Reply noKey = call("POST", "/streams", null, "{\"name\":\"x\"}");
    assertEquals(401, noKey.status());
    assertTrue(noKey.body().has("code") && noKey.body().has("message"));
    assertEquals(401, call("GET", "/streams/" + id, "wrong", null).status());
    assertEquals(403, call("GET", "/streams/" + id, eve, null).status());
    assertEquals(403, call("GET", "/keys", bob, null).status());
    assertEquals(404, call("GET", "/streams/nope", bob, null).status());
    Reply notJson = call("POST", "/streams", bob, "{nope");
    assertEquals(400, notJson.status());
    assertTrue(notJson.body().get("message").asText().contains("not valid JSON"));
    assertEquals(400, call("POST", "/streams", bob, "{\"partitions\":1}").status());
    assertEquals(400, call("POST", "/streams", bob, "{\"name\":\"x\",\"partitions\":0}").status());
    assertEquals(400, call("POST", "/streams/" + id + "/data", bob, "not json").status());
    Reply tooBig = call("POST", "/streams/" + id + "/data", bob,
        "{\"v\":\"" + "x".repeat(5000) + "\"}");
    assertEquals(413, tooBig.status());
    assertEquals(400, call("GET", "/streams/" + id + "/data/partitions/5/last", bob, null)
        .status());
    assertEquals(400, call("GET", "/streams/" + id + "/data/partitions/0/range", bob, null)
        .status());
    assertEquals(400, call("GET", "/streams/" + id + "/data/partitions/0/last?count=x", bob,
        null).status());

    Ws ws = Ws.connect();
    ws.send("not json");
    JsonNode err = ws.next(7);
    assertTrue(err.get(3).get("error").asText().contains("not valid JSON"));
    ws.send("{\"type\":\"publish\",\"stream\":\"" + id + "\",\"authKey\":\"" + eve
        + "\",\"msg\":\"{}\"}");
    assertTrue(ws.next(7).get(3).get("error").asText().contains("no write permission"));
    ws.send("{\"type\":\"subscribe\",\"stream\":\"" + id + "\",\"authKey\":\"" + bob + "\"}");
    ws.next(2);
    ws.socket.abort();

    // A frame over the frame limit (2 x max-message-bytes + 64 KiB) closes that connection
    // with 1009 (message too big), after the type 7 error.
    Ws big = Ws.connect();
    big.send("{\"type\":\"publish\",\"stream\":\"" + id + "\",\"msg\":\""
        + "x".repeat(200_000) + "\"}");
    assertTrue(big.next(7).get(3).get("error").asText().contains("larger than the limit"));
    assertEquals(1009, big.closed.get(30, TimeUnit.SECONDS));
  }
}
