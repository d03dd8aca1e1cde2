package io.peernode.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import akka.util.ByteString;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WebSocketHandshakeTest {

  static final Set<String> PATHS = Set.of("/api/v1/ws");
  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

  static String upgrade(String requestLine, String... extra) {
    StringBuilder b = new StringBuilder(requestLine).append("\r\n")
        .append("Host: 127.0.0.1:8890\r\n")
        .append("Upgrade: websocket\r\n")
        .append("Connection: Upgrade\r\n")
        .append("Sec-WebSocket-Key: ").append(KEY).append("\r\n")
        .append("Sec-WebSocket-Version: 13\r\n");
    for (String h : extra) b.append(h).append("\r\n");
    return b.append("\r\n").toString();
  }

  static WebSocketHandshake.Upgrade parse(String head) {
    return WebSocketHandshake.parse(ByteString.fromString(head), PATHS);
  }

  @Test
  void acceptKeyIsRfc6455sExample() {
    // RFC 6455, section 1.3
    assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.accept(KEY));
    assertEquals("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        WebSocketHandshake.response(KEY).utf8String());
  }

  @Test
  void takesPlainUpgradesToItsPaths() {
    WebSocketHandshake.Upgrade u = parse(upgrade("GET /api/v1/ws HTTP/1.1"));
    assertNotNull(u);
    assertEquals("/api/v1/ws", u.path);
    assertEquals(KEY, u.key);
    // a query, what browsers and the ws package send beside, names in any case
    assertNotNull(parse(upgrade("GET /api/v1/ws?controlLayerVersion=1&messageLayerVersion=31 HTTP/1.1",
        "Origin: http://example.com", "Sec-WebSocket-Extensions: permessage-deflate; "
            + "client_max_window_bits", "Pragma: no-cache")));
    assertNotNull(parse("GET /api/v1/ws HTTP/1.1\r\nhost: x\r\nupgrade: WebSocket\r\n"
        + "connection: keep-alive, Upgrade\r\nsec-websocket-key: " + KEY + "\r\n"
        + "sec-websocket-version: 13\r\ncontent-length: 0\r\n\r\n"));
  }

  @Test
  void leavesEverythingElseToAkkaHttp() {
    assertNull(parse(upgrade("GET /api/v1/other HTTP/1.1")), "another path");
    assertNull(parse(upgrade("GET /api/v1/ws/ HTTP/1.1")), "another path");
    assertNull(parse(upgrade("POST /api/v1/ws HTTP/1.1")), "another method");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.0")), "HTTP/1.0");
    assertNull(parse(upgrade("GET /api/v1/ws  HTTP/1.1")), "a malformed request line");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Sec-WebSocket-Protocol: chat")),
        "a subprotocol offered (the route decides)");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Content-Length: 5")), "a body");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Transfer-Encoding: chunked")), "a body");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Sec-WebSocket-Key: " + KEY)),
        "two keys");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Host: second")), "two hosts");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", " folded: line")), "a folded line");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "Bad Name: x")), "not a token");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1", "no colon")), "no colon");
    String plain = "GET /api/v1/ws HTTP/1.1\r\nHost: x\r\n\r\n";
    assertNull(parse(plain), "no upgrade asked");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1").replace("Version: 13", "Version: 8")),
        "another version");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1").replace(KEY, "c2hvcnQ=")),
        "a key that is not 16 bytes");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1").replace(KEY, "not base64!")),
        "a key that is not base64");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1").replace("Upgrade: websocket", "Upgrade: h2c")),
        "another protocol");
    assertNull(parse(upgrade("GET /api/v1/ws HTTP/1.1").replace("Connection: Upgrade",
        "Connection: keep-alive")), "no Connection: upgrade");
  }

  @Test
  void findsTheEndOfTheHeadWhereverTheBytesAreSplit() {
    String head = upgrade("GET /api/v1/ws HTTP/1.1");
    ByteString all = ByteString.fromString(head + "frame bytes");
    assertEquals(head.length(), WebSocketHandshake.headLength(all, 0));
    for (int cut = 0; cut < head.length(); cut++) {
      ByteString part = all.take(cut);
      assertEquals(-1, WebSocketHandshake.headLength(part, 0), "cut at " + cut);
      // searching again from a few bytes before the previous end finds it
      assertEquals(head.length(),
          WebSocketHandshake.headLength(all, Math.max(0, cut - 3)), "resumed at " + cut);
    }
  }
}
