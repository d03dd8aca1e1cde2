package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import akka.util.ByteString;
import org.junit.jupiter.api.Test;

class RecentTextsTest {

  @Test
  void encodesAStringOnceAndAnEqualOneCorrectly() {
    String broadcast = "[0,0,\"\",[28,\"s\",0,1,0,7,6,27,\"{\\\"\u00e9\\\":\\\"\ud83d\ude00\\\"}\"]]";
    ByteString first = TextWebSocket.RecentTexts.utf8(broadcast);
    assertEquals(ByteString.fromString(broadcast), first);
    assertSame(first, TextWebSocket.RecentTexts.utf8(broadcast), "the same String: the same bytes");
    String equal = new String(broadcast.toCharArray());
    assertEquals(first, TextWebSocket.RecentTexts.utf8(equal));
    // many other texts through the slots: every one still gets its own bytes
    for (int i = 0; i < 10_000; i++) {
      String t = "text " + i;
      assertEquals(ByteString.fromString(t), TextWebSocket.RecentTexts.utf8(t));
    }
    assertEquals(ByteString.fromString(broadcast), TextWebSocket.RecentTexts.utf8(broadcast));
  }
}
