package io.peernode.protocol.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamIdsTest {

  @Test
  void twentyTwoUrlSafeCharacters() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String id = StreamIds.generate();
      assertEquals(22, id.length());
      assertTrue(StreamIds.looksGenerated(id), id);
      assertTrue(seen.add(id));
    }
  }

  @Test
  void deterministicWithAGivenRandom() {
    assertEquals(StreamIds.generate(new Random(1)), StreamIds.generate(new Random(1)));
  }

  @Test
  void recognisesForeignIds() {
    assertFalse(StreamIds.looksGenerated("short"));
    assertFalse(StreamIds.looksGenerated("abc/defghijklmnopqrstu"));
  }
}
