package io.peernode.node.http;

import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.Set;

/**
 * The server's side of RFC 6455's opening handshake (section 4.2), read from a request head,
 * for the WebSocket paths that {@link HttpServer} takes on the connection itself.
 *
 * <p>Strict on purpose: only a plain upgrade is taken, {@code GET} of one of the paths (with
 * or without a query) over HTTP/1.1, one Host, {@code Upgrade: websocket}, {@code Connection:
 * upgrade}, version 13 and a key of 16 bytes. Anything else (another method or path,
 * HTTP/1.0, a body, a subprotocol offered, a folded or malformed header line, a second key)
 * is not this class's to judge: {@link #parse} answers null and the connection goes to Akka
 * HTTP as it came, which serves it or gives the HTTP error. Extensions a client offers
 * ({@code permessage-deflate}) are declined by not naming them, as Akka HTTP does.
 */
final class WebSocketHandshake {

  private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private WebSocketHandshake() {}

  /** A request head that asks to upgrade to one of the paths. */
  static final class Upgrade {
    final String path;
    final String key;

    Upgrade(String path, String key) {
      this.path = path;
      this.key = key;
    }
  }

  /**
   * The length of the head (request line, headers and the blank line after them) at the start
   * of {@code bytes}, or -1 while its end has not arrived. {@code from}: where the search may
   * start (bytes before it were searched already).
   */
  static int headLength(ByteString bytes, int from) {
    for (int i = Math.max(from, 3); i < bytes.length(); i++) {
      if (bytes.apply(i) == '\n' && bytes.apply(i - 1) == '\r' && bytes.apply(i - 2) == '\n'
          && bytes.apply(i - 3) == '\r') {
        return i + 1;
      }
    }
    return -1;
  }

  /** The upgrade that {@code head} asks for, or null when it is not a plain one to a path. */
  static Upgrade parse(ByteString head, Set<String> paths) {
    String text = head.decodeString(StandardCharsets.ISO_8859_1);
    int lineEnd = text.indexOf("\r\n");
    if (lineEnd < 0) return null;
    String path = requestPath(text.substring(0, lineEnd), paths);
    if (path == null) return null;
    int hosts = 0;
    String key = null;
    boolean upgrade = false;
    boolean connectionUpgrade = false;
    boolean version13 = false;
    int at = lineEnd + 2;
    while (true) {
      int end = text.indexOf("\r\n", at);
      if (end < 0) return null;
      if (end == at) break; // the blank line
      String line = text.substring(at, end);
      at = end + 2;
      int colon = line.indexOf(':');
      if (colon <= 0 || !isToken(line, colon)) return null; // also a folded line (leading space)
      String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip();
      switch (name) {
        case "host":
          hosts++;
          break;
        case "upgrade":
          upgrade |= hasToken(value, "websocket");
          break;
        case "connection":
          connectionUpgrade |= hasToken(value, "upgrade");
          break;
        case "sec-websocket-version":
          if (!value.equals("13")) return null;
          version13 = true;
          break;
        case "sec-websocket-key":
          if (key != null || !isKey(value)) return null;
          key = value;
          break;
        case "sec-websocket-protocol":
        case "transfer-encoding":
          return null;
        case "content-length":
          if (!value.equals("0")) return null;
          break;
        default:
          break;
      }
    }
    if (hosts != 1 || !upgrade || !connectionUpgrade || !version13 || key == null) return null;
    return new Upgrade(path, key);
  }

  /** The 101 answer to an upgrade with {@code key}. */
  static ByteString response(String key) {
    return ByteString.fromString("HTTP/1.1 101 Switching Protocols\r\n"
        + "Upgrade: websocket\r\n"
        + "Connection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: " + accept(key) + "\r\n"
        + "\r\n", StandardCharsets.US_ASCII);
  }

  /** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455, section 4.2.2). */
  static String accept(String key) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest = sha1.digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }

  /** The path of {@code GET PATH[?QUERY] HTTP/1.1} when it is one of {@code paths}. */
  private static String requestPath(String line, Set<String> paths) {
    if (!line.startsWith("GET /") || !line.endsWith(" HTTP/1.1")) return null;
    String target = line.substring(4, line.length() - " HTTP/1.1".length());
    if (target.indexOf(' ') >= 0 || target.indexOf('#') >= 0) return null;
    int query = target.indexOf('?');
    String path = query < 0 ? target : target.substring(0, query);
    return paths.contains(path) ? path : null;
  }

  /** Whether the first {@code length} chars of {@code s} are an RFC 9110 token. */
  private static boolean isToken(String s, int length) {
    for (int i = 0; i < length; i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) return false;
    }
    return true;
  }

  /** Whether a comma-separated header value lists {@code token} (case-insensitively). */
  private static boolean hasToken(String value, String token) {
    for (String part : value.split(",")) {
      if (part.strip().equalsIgnoreCase(token)) return true;
    }
    return false;
  }

  private static boolean isKey(String value) {
    try {
      return Base64.getDecoder().decode(value).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
