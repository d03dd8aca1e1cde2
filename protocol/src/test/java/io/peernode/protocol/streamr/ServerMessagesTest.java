package io.peernode.protocol.streamr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ServerMessagesTest {

  private final StreamMessage first = new StreamMessage("s1", 0, 1000L, 604800, 0, null, "{\"a\":1}");
  private final StreamMessage second = new StreamMessage("s1", 2, 1001L, 60, 1, 0L, "{}");

  @Test
  void broadcastIsTheSeedsArray() {
    assertEquals("[0,0,\"\",[28,\"s1\",0,1000,604800,0,null,27,\"{\\\"a\\\":1}\"]]",
        ServerMessages.broadcast(first));
    assertEquals("[0,0,\"\",[28,\"s1\",2,1001,60,1,0,27,\"{}\"]]",
        ServerMessages.broadcast(second));
  }

  @Test
  void unicastCarriesTheSubscriptionId() {
    assertEquals("[0,1,\"sub-7\",[28,\"s1\",2,1001,60,1,0,27,\"{}\"]]",
        ServerMessages.unicast("sub-7", second));
  }

  @Test
  void controlMessages() {
    assertEquals("[0,2,\"\",{\"stream\":\"s\",\"partition\":1}]", ServerMessages.subscribed("s", 1));
    assertEquals("[0,2,\"\",{\"stream\":\"s\",\"partition\":1,\"error\":\"no\"}]",
        ServerMessages.subscribedWithError("s", 1, "no"));
    assertEquals("[0,3,\"\",{\"stream\":\"s\",\"partition\":0}]",
        ServerMessages.unsubscribed("s", 0));
    assertEquals("[0,4,\"\",{\"stream\":\"s\",\"partition\":0,\"sub\":\"a\"}]",
        ServerMessages.resending("s", 0, "a"));
    assertEquals("[0,5,\"\",{\"stream\":\"s\",\"partition\":0,\"sub\":\"a\"}]",
        ServerMessages.resent("s", 0, "a"));
    assertEquals("[0,6,\"\",{\"stream\":\"s\",\"partition\":0,\"sub\":\"a\"}]",
        ServerMessages.noResend("s", 0, "a"));
  }

  @Test
  void errorsHaveOneShape() {
    assertEquals("[0,7,\"\",{\"error\":\"missing field 'stream'\",\"request\":\"publish\"}]",
        ServerMessages.error("missing field 'stream'", "publish"));
    assertEquals("[0,7,\"\",{\"error\":\"bad \\\"x\\\"\",\"request\":null}]",
        ServerMessages.error("bad \"x\"", null));
  }

  @Test
  void broadcastIsWhatAGeneratorWrites() {
    String[] contents = {"", "{}", "{\"a\":\"b\\\\c\"}", "\u0000\u001f\u007f\t\r\n\b\f",
        "\u00e9\u4e2d\ud83d\ude00", "\ud800 lone", "</script>\u2028\u2029", "\"".repeat(50)};
    String[] streams = {"s1", "0xabc/sensors", "we\"ird\\\u0001"};
    Random random = new Random(7);
    for (String content : contents) {
      for (String stream : streams) {
        long offset = random.nextInt(3) == 0 ? 0 : Math.abs(random.nextLong());
        StreamMessage m = new StreamMessage(stream, random.nextInt(100), Math.abs(random.nextLong()),
            random.nextInt(Integer.MAX_VALUE), offset, offset == 0 ? null : offset - 1, content);
        assertEquals(ServerMessages.broadcastByGenerator(m), ServerMessages.broadcast(m));
      }
    }
  }

  @Test
  void broadcastEmbedsThePublishersLiteral() throws Exception {
    String literal = "\"{\\\"a\\\":\\u0041\\/ \u00e9\"";
    String content = new ObjectMapper().readValue(literal, String.class);
    StreamMessage m = new StreamMessage("s1", 0, 5L, 60, 3, 2L, content, literal);
    assertEquals("[0,0,\"\",[28,\"s1\",0,5,60,3,2,27," + literal + "]]", ServerMessages.broadcast(m));
    ObjectMapper json = new ObjectMapper();
    assertEquals(json.readTree(ServerMessages.broadcastByGenerator(m)),
        json.readTree(ServerMessages.broadcast(m)), "the same JSON as with the content escaped");
  }

  @Test
  void broadcastUtf8IsEncodedOncePerEvent() {
    StreamMessage m = new StreamMessage("s1", 0, 5L, 60, 3, 2L, "{\"k\":\"\u00e9\ud83d\ude00\"}");
    byte[] utf8 = ServerMessages.broadcastUtf8(m);
    assertArrayEquals(ServerMessages.broadcast(m).getBytes(StandardCharsets.UTF_8), utf8);
    assertSame(utf8, ServerMessages.broadcastUtf8(m), "every subscriber gets the same bytes");
  }

  @Test
  void theBroadcastsBytesAreItsTextsUtf8() {
    // Written straight into bytes for the usual event, built as text for any other: the same.
    String[] literals = {"\"\"", "\"{}\"", "\"{\\\"a\\\":\\u0041 \u00e9\u4e2d\ud83d\ude00\"", "\"x\"".repeat(1)};
    String[] streams = {"s1", "0xabc/sensors", "", "we\"ird\\", "\u00e9t\u00e9", "tab\there", "~ !"};
    long[] numbers = {0, 1, 9, 10, 99, 100, 999_999_999_999L, Long.MAX_VALUE, -1, Long.MIN_VALUE};
    Random random = new Random(11);
    for (String literal : literals) {
      for (String stream : streams) {
        for (int t = 0; t < 40; t++) {
          long ts = numbers[random.nextInt(numbers.length)];
          long offset = numbers[random.nextInt(numbers.length)];
          Long previous = random.nextInt(4) == 0 ? null : numbers[random.nextInt(numbers.length)];
          int partition = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, numbers[random.nextInt(numbers.length)]));
          int ttl = random.nextBoolean() ? Integer.MAX_VALUE : random.nextInt(100) - 1;
          for (boolean withLiteral : new boolean[] {true, false}) {
            StreamMessage m = new StreamMessage(stream, partition, ts, ttl, offset, previous,
                "c\u00e9", withLiteral ? literal : null);
            String text = ServerMessages.broadcast(m);
            assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), ServerMessages.broadcastUtf8(m), text);
          }
        }
      }
    }
  }

  @Test
  void theUsualBroadcastIsWrittenStraightIntoBytes() {
    StreamMessage usual = new StreamMessage("s1", 3, 1700000000000L, 60, 12, 11L, "v", "\"v\"");
    assertArrayEquals("[0,0,\"\",[28,\"s1\",3,1700000000000,60,12,11,27,\"v\"]]".getBytes(StandardCharsets.UTF_8),
        ServerMessages.renderBroadcastUtf8(usual));
    StreamMessage first = new StreamMessage("s1", 0, 5L, 60, 0, null, "v", "\"v\"");
    assertArrayEquals("[0,0,\"\",[28,\"s1\",0,5,60,0,null,27,\"v\"]]".getBytes(StandardCharsets.UTF_8),
        ServerMessages.renderBroadcastUtf8(first));
    assertEquals(null, ServerMessages.renderBroadcastUtf8(
        new StreamMessage("s\"1", 0, 5L, 60, 0, null, "v", "\"v\"")), "a stream id to escape: built as text");
    assertEquals(null, ServerMessages.renderBroadcastUtf8(
        new StreamMessage("s1", 0, 5L, 60, 0, null, "v")), "no literal: the content is escaped as text");
  }
}
