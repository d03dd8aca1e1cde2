package io.peernode.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import akka.util.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's HTTP port over real sockets: which connections it takes as WebSockets itself,
 * which it gives to Akka HTTP, and how it ends them. The WebSocket path's flow here echoes the
 * bytes after the handshake (the data API's real one is tested through this port by
 * StreamrApiTest and the npm clients of StreamrJsClientTest).
 */
class HttpServerTest {

  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  static final Map<String, Flow<ByteString, ByteString, ?>> ECHO =
      Map.of("/ws", Flow.of(ByteString.class));

  static ActorTestKit testKit;
  static HttpServer server;
  /** What GET /slow answers with, once completed. */
  static volatile CompletableFuture<String> slow = new CompletableFuture<>();

  static final class Routes extends AllDirectives {
    Route route() {
      return concat(
          path("hello", () -> get(() -> complete("hello"))),
          path("slow", () -> get(() -> onSuccess(slow, this::complete))),
          // what reaches Akka HTTP at /ws: upgrades offering the "chat" subprotocol
          path("ws", () -> handleWebSocketMessagesForProtocol(Flow.<Message>create(), "chat")));
    }
  }

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("HttpServerTest");
    server = bind(new HttpServer.Settings(100, true, 4096, 65536));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static HttpServer bind(HttpServer.Settings settings) throws Exception {
    return HttpServer.bind(testKit.system(), "127.0.0.1", 0, settings, new Routes().route(), ECHO)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static Socket connect(HttpServer s) throws IOException {
    Socket socket = new Socket("127.0.0.1", s.localAddress().getPort());
    socket.setSoTimeout(10_000);
    return socket;
  }

  static String upgrade(String path, String... extra) {
    StringBuilder b = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\n"
        + "Sec-WebSocket-Version: 13\r\n");
    for (String h : extra) b.append(h).append("\r\n");
    return b.append("\r\n").toString();
  }

  static void write(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** Reads up to and including the blank line after a response's head. */
  static String readHead(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) throw new IOException("closed after " + b);
      b.write(c);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  static String readExactly(Socket s, int n) throws IOException {
    byte[] bytes = s.getInputStream().readNBytes(n);
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  @Test
  void answersAnUpgradeItselfAndPassesTheBytesThatFollow() throws Exception {
    try (Socket s = connect(server)) {
      // frames sent right behind the head, in the same write, belong to the WebSocket
      write(s, upgrade("/ws?client=1") + "first");
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head);
      assertTrue(head.contains("Sec-WebSocket-Accept: " + ACCEPT + "\r\n"), head);
      assertTrue(!head.contains("Server:"), "answered here, not by Akka HTTP: " + head);
      assertEquals("first", readExactly(s, 5));
      write(s, "second");
      assertEquals("second", readExactly(s, 6));
    }
  }

  @Test
  void readsAHeadThatArrivesByteByByte() throws Exception {
    try (Socket s = connect(server)) {
      s.setTcpNoDelay(true);
      for (char c : upgrade("/ws").toCharArray()) write(s, String.valueOf(c));
      assertTrue(readHead(s).startsWith("HTTP/1.1 101 "));
      write(s, "x");
      assertEquals("x", readExactly(s, 1));
    }
  }

  @Test
  void givesRequestsToAkkaHttpPipelinedOrNot() throws Exception {
    try (Socket s = connect(server)) {
      String get = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
      write(s, get + get);
      for (int i = 0; i < 2; i++) {
        String head = readHead(s);
        assertTrue(head.startsWith("HTTP/1.1 200 OK"), head);
        assertTrue(head.contains("Server: akka-http"), head);
        assertEquals("hello", readExactly(s, 5));
      }
      write(s, "GET /nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(readHead(s).startsWith("HTTP/1.1 404 "));
    }
  }

  @Test
  void leavesOtherUpgradesAndPlainRequestsOnTheWebSocketPathToTheRoute() throws Exception {
    try (Socket s = connect(server)) {
      write(s, upgrade("/ws", "Sec-WebSocket-Protocol: chat"));
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 101 "), head);
      assertTrue(head.contains("Sec-WebSocket-Protocol: chat"), "upgraded by the route: " + head);
    }
    try (Socket s = connect(server)) {
      write(s, "GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n");
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 400 "), "not an upgrade: the route's answer: " + head);
    }
  }

  @Test
  void aHeadPastItsLimitIsAkkaHttpsToAnswer() throws Exception {
    try (Socket s = connect(server)) {
      // longer than max-request-head (4 KiB) and than Akka HTTP's header value limit
      write(s, upgrade("/ws", "X-Big: " + "a".repeat(10_000)));
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 4"), head);
    }
    try (Socket s = connect(server)) {
      write(s, "GET /ws HTTP/1.1\r\nthis is no header\r\n\r\n");
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 400 "), head);
    }
    // the port still serves
    try (Socket s = connect(server)) {
      write(s, upgrade("/ws"));
      assertTrue(readHead(s).startsWith("HTTP/1.1 101 "));
    }
  }

  @Test
  void holdsConnectionsPastTheLimitUntilOneCloses() throws Exception {
    HttpServer limited = bind(new HttpServer.Settings(1, true, 4096, 65536));
    Socket first = connect(limited);
    try (Socket second = connect(limited)) {
      try (first) {
        write(first, upgrade("/ws"));
        assertTrue(readHead(first).startsWith("HTTP/1.1 101 "));
        write(second, upgrade("/ws"));
        second.setSoTimeout(500);
        assertThrows(SocketTimeoutException.class, () -> second.getInputStream().read(),
            "a second connection is not served while the first is open");
        second.setSoTimeout(10_000);
      }
      assertTrue(readHead(second).startsWith("HTTP/1.1 101 "),
          "served once the first closed");
    } finally {
      limited.terminate(Duration.ofSeconds(1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      limited.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void terminateEndsWebSocketsAndIdleConnectionsAndUnbindStopsAccepting() throws Exception {
    HttpServer own = bind(new HttpServer.Settings(100, true, 4096, 65536));
    int port = own.localAddress().getPort();
    try (Socket ws = connect(own); Socket idle = connect(own)) {
      write(ws, upgrade("/ws"));
      assertTrue(readHead(ws).startsWith("HTTP/1.1 101 "));
      write(idle, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(readHead(idle).startsWith("HTTP/1.1 200 "));
      assertEquals("hello", readExactly(idle, 5));
      own.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
      long started = System.nanoTime();
      own.terminate(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(4),
          "nothing was in flight: no wait for the deadline");
      assertEquals(-1, ws.getInputStream().read());
      assertEquals(-1, idle.getInputStream().read());
    }
  }

  @Test
  void terminateLetsAResponseInFlightGoOutWithConnectionClose() throws Exception {
    HttpServer own = bind(new HttpServer.Settings(100, true, 4096, 65536));
    slow = new CompletableFuture<>();
    try (Socket s = connect(own)) {
      write(s, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertTrue(readHead(s).startsWith("HTTP/1.1 200 "));
      assertEquals("hello", readExactly(s, 5));
      write(s, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
      // the request is in flight once the route waits on it
      CompletionStage<?> terminated = awaitInFlightThenTerminate(own);
      slow.complete("late");
      String head = readHead(s);
      assertTrue(head.startsWith("HTTP/1.1 200 "), head);
      assertTrue(head.contains("Connection: close"), head);
      assertEquals("late", readExactly(s, 4));
      assertEquals(-1, s.getInputStream().read());
      terminated.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      own.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Terminates once the server counts a request in flight (polled: it is not observable else). */
  static CompletionStage<?> awaitInFlightThenTerminate(HttpServer s) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (s.requestsInFlight() == 0) {
      assertTrue(System.nanoTime() < deadline, "the request never reached the route");
      Thread.sleep(10);
    }
    return s.terminate(Duration.ofSeconds(10));
  }
}
