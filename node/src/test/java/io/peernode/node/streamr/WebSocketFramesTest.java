package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The data API's WebSocket frame by frame, as a client without a WebSocket library sees it on
 * the socket: bursts of server messages (written several to an element) as well-formed final
 * text frames in offset order, and the frame layers' own answers: pong, the close handshake
 * with its codes (1000 answered, 1009 after an oversized message, 1002 for a protocol error).
 */
class WebSocketFramesTest {

  static final String ADMIN = "frames-admin";
  static final ObjectMapper JSON = new ObjectMapper();
  static DataApiServer server;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    server = DataApiServer.start("WebSocketFramesTest", ADMIN,
        "peer.streams.max-message-bytes = 4096\n"
            // small batches, so that a burst is several of them
            + "peer.streams.connection.write-batch = 2 KiB\n");
    port = server.port;
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void aBurstOfBroadcastsArrivesAsWellFormedTextFramesInOrder() throws Exception {
    String stream = createStream("burst");
    int events = 400;
    try (RawWebSocket sub = RawWebSocket.connect(port); RawWebSocket pub =
        RawWebSocket.connect(port)) {
      sub.sendText("{\"type\":\"subscribe\",\"stream\":\"" + stream + "\",\"authKey\":\""
          + ADMIN + "\"}");
      assertEquals(2, JSON.readTree(sub.readTextFrame()).get(1).asInt()); // subscribed
      // All publishes in one write: the node stores them in groups, and the subscriber's
      // connection has many broadcasts waiting at once.
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      for (int i = 0; i < events; i++) {
        // sizes across the 7-bit / 16-bit length boundary of a frame header
        String pad = "p".repeat(i % 3 == 0 ? 1 : i % 3 == 1 ? 60 : 300);
        burst.write(RawWebSocket.frame(0x1, ("{\"type\":\"publish\",\"stream\":\"" + stream
            + "\",\"authKey\":\"" + ADMIN + "\",\"msg\":\"{\\\"i\\\":" + i + ",\\\"p\\\":\\\""
            + pad + "\\\"}\"}").getBytes(StandardCharsets.UTF_8), true));
      }
      pub.out.write(burst.toByteArray());
      pub.out.flush();
      for (int i = 0; i < events; i++) {
        JsonNode m = JSON.readTree(sub.readTextFrame());
        assertEquals(0, m.get(1).asInt(), m::toString); // broadcast
        JsonNode e = m.get(3);
        assertEquals(i, e.get(5).asLong(), "offset");
        JsonNode content = JSON.readTree(e.get(8).asText());
        assertEquals(i, content.get("i").asInt());
      }
    }
  }

  @Test
  void aPingIsAnsweredWithItsPayload() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect(port)) {
      byte[] payload = "are you there".getBytes(StandardCharsets.UTF_8);
      ws.send(0x9, payload);
      RawWebSocket.Frame pong = ws.read();
      assertEquals(0xA, pong.opcode);
      assertArrayEquals(payload, pong.payload);
    }
  }

  @Test
  void aCloseIsAnsweredWithItsCodeAndTheConnectionEnds() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect(port)) {
      ws.send(0x8, new byte[] {0x03, (byte) 0xE8}); // 1000
      RawWebSocket.Frame close = ws.read();
      assertEquals(0x8, close.opcode);
      assertEquals(1000, close.closeCode());
      assertTrue(ws.endsWithoutMoreFrames());
    }
  }

  @Test
  void anOversizedMessageGetsAnErrorThenAClose1009() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect(port)) {
      // over the frame limit of 2 x max-message-bytes + 64 KiB characters
      ws.sendText("x".repeat(2 * 4096 + 64 * 1024 + 1));
      JsonNode error = JSON.readTree(ws.readTextFrame());
      assertEquals(7, error.get(1).asInt(), error::toString);
      RawWebSocket.Frame close = ws.read();
      assertEquals(0x8, close.opcode);
      assertEquals(1009, close.closeCode());
      ws.send(0x8, new byte[] {0x03, (byte) 0xF1}); // the client's close answers it
      assertTrue(ws.endsWithoutMoreFrames());
    }
  }

  @Test
  void anUnmaskedClientFrameIsAProtocolErrorClosedWith1002() throws Exception {
    try (RawWebSocket ws = RawWebSocket.connect(port)) {
      ws.out.write(RawWebSocket.frame(0x1, "{}".getBytes(StandardCharsets.UTF_8), false));
      ws.out.flush();
      RawWebSocket.Frame close = ws.read();
      assertEquals(0x8, close.opcode);
      assertEquals(1002, close.closeCode());
      assertTrue(ws.endsWithoutMoreFrames());
    }
  }

  static String createStream(String name) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/api/v1/streams"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\"}"))
        .header("Content-Type", "application/json")
        .header("Authorization", "token " + ADMIN).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r::body);
    return JSON.readTree(r.body()).get("id").asText();
  }

  /** A WebSocket client on a plain socket: RFC 6455 frames written and read by hand. */
  static final class RawWebSocket implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    record Frame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload) {
      int closeCode() {
        return payload.length < 2 ? -1 : (payload[0] & 0xFF) << 8 | (payload[1] & 0xFF);
      }
    }

    private RawWebSocket(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
    }

    static RawWebSocket connect(int port) throws IOException {
      Socket s = new Socket("127.0.0.1", port);
      s.setSoTimeout(30_000);
      RawWebSocket ws = new RawWebSocket(s);
      byte[] key = new byte[16];
      ThreadLocalRandom.current().nextBytes(key);
      ws.out.write(("GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          + "Sec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key) + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      ws.out.flush();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) head.append((char) ws.in.readUnsignedByte());
      assertTrue(head.toString().startsWith("HTTP/1.1 101"), head::toString);
      return ws;
    }

    /** A final frame; a client's is masked (RFC 6455, section 5.3). */
    static byte[] frame(int opcode, byte[] payload, boolean masked) {
      int n = payload.length;
      ByteBuffer b = ByteBuffer.allocate(14 + n);
      b.put((byte) (0x80 | opcode));
      int maskBit = masked ? 0x80 : 0;
      if (n < 126) {
        b.put((byte) (maskBit | n));
      } else if (n <= 0xFFFF) {
        b.put((byte) (maskBit | 126)).putShort((short) n);
      } else {
        b.put((byte) (maskBit | 127)).putLong(n);
      }
      byte[] mask = new byte[4];
      if (masked) {
        ThreadLocalRandom.current().nextBytes(mask);
        b.put(mask);
      }
      for (int i = 0; i < n; i++) b.put((byte) (payload[i] ^ mask[i & 3]));
      return java.util.Arrays.copyOf(b.array(), b.position());
    }

    void send(int opcode, byte[] payload) throws IOException {
      out.write(frame(opcode, payload, true));
      out.flush();
    }

    void sendText(String text) throws IOException {
      send(0x1, text.getBytes(StandardCharsets.UTF_8));
    }

    Frame read() throws IOException {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      long n = b1 & 0x7F;
      if (n == 126) {
        n = in.readUnsignedShort();
      } else if (n == 127) {
        n = in.readLong();
      }
      boolean masked = (b1 & 0x80) != 0;
      if (masked) in.readInt();
      byte[] payload = new byte[Math.toIntExact(n)];
      in.readFully(payload);
      return new Frame((b0 & 0x80) != 0, (b0 >> 4) & 0x7, b0 & 0xF, masked, payload);
    }

    /** The next frame, which must be a final, unmasked text frame of a server. */
    String readTextFrame() throws IOException {
      Frame f = read();
      assertEquals(0x1, f.opcode, "opcode");
      assertTrue(f.fin, "FIN");
      assertEquals(0, f.rsv, "RSV bits");
      assertFalse(f.masked, "a server's frames are not masked");
      return new String(f.payload, StandardCharsets.UTF_8);
    }

    /** The server closes the TCP connection with nothing more sent. */
    boolean endsWithoutMoreFrames() throws IOException {
      try {
        return in.read() < 0;
      } catch (EOFException | java.net.SocketException e) {
        return true; // reset after the close
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
