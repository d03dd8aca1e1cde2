package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Akka HTTP's periodic keep-alive (off by default) on the data API's WebSocket, taken by the
 * node's HTTP port: an idle connection is pinged, and it stays usable after the pings.
 */
class WebSocketKeepAliveTest {

  static DataApiServer server;

  @BeforeAll
  static void start() throws Exception {
    server = DataApiServer.start("WebSocketKeepAliveTest", "admin",
        "akka.http.server.websocket.periodic-keep-alive-max-idle = 300 ms\n");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void anIdleWebSocketIsPingedAndStaysUsable() throws Exception {
    CompletableFuture<Integer> pinged = new CompletableFuture<>();
    CompletableFuture<String> answered = new CompletableFuture<>();
    int[] pings = {0};
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + server.port + "/api/v1/ws"),
            new WebSocket.Listener() {
              @Override
              public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
                if (++pings[0] == 3) pinged.complete(pings[0]);
                webSocket.request(1);
                return null;
              }

              @Override
              public CompletionStage<?> onText(WebSocket webSocket, CharSequence data,
                  boolean last) {
                answered.complete(data.toString());
                webSocket.request(1);
                return null;
              }
            })
        .get(10, TimeUnit.SECONDS);
    // the Java client answers each ping with a pong itself
    assertEquals(3, pinged.get(20, TimeUnit.SECONDS));
    ws.sendText("{\"type\":\"no-such-type\"}", true).get(10, TimeUnit.SECONDS);
    JsonNode error = new ObjectMapper().readTree(answered.get(20, TimeUnit.SECONDS));
    assertEquals(7, error.get(1).asInt(), error::toString);
    assertTrue(error.toString().contains("unknown request type"), error::toString);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
  }
}
