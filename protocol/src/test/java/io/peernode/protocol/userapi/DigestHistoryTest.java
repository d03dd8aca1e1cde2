package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DigestHistoryTest {

  static byte[] digest(int n) {
    return EventDigest.sha256(("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aDigestIsNewOnceAndForgottenWhenTheHistoryIsFull() {
    DigestHistory h = new DigestHistory(3);
    assertTrue(h.add(digest(1)));
    assertFalse(h.add(digest(1)));
    assertTrue(h.add(digest(2)));
    assertTrue(h.add(digest(3)));
    assertEquals(3, h.size());
    assertTrue(h.add(digest(4)), "evicts 1, the oldest");
    assertFalse(h.add(digest(2)));
    assertFalse(h.add(digest(3)));
    assertFalse(h.add(digest(4)));
    assertTrue(h.add(digest(1)), "1 was forgotten");
    assertEquals(3, h.size());
  }

  @Test
  void hexTextAndBytesAreTheSameDigestAndOtherTextIsKeyedByItself() {
    DigestHistory h = new DigestHistory(10);
    assertTrue(h.add(EventDigest.ofUtf8("{}".getBytes(StandardCharsets.UTF_8))));
    assertFalse(h.add(EventDigest.sha256("{}".getBytes(StandardCharsets.UTF_8))));
    assertTrue(h.add("not a digest"));
    assertFalse(h.add("not a digest"));
    assertTrue(h.add("NOT A DIGEST"));
  }

  /** Against a LinkedHashSet-style model, with keys crowded into a few slots (same low bits). */
  @Test
  @org.junit.jupiter.api.Timeout(60) // a broken deletion can leave a probe chain that never ends
  void behavesLikeABoundedInsertionOrderedSetUnderCollisions() {
    for (int capacity : new int[] {1, 2, 7, 64, 1000}) {
      for (boolean atTheEnd : new boolean[] {false, true}) {
        modelCheck(capacity, atTheEnd);
      }
    }
  }

  /** With atTheEnd, the keys' home slots are the table's last two and first two: chains wrap around. */
  private static void modelCheck(int capacity, boolean atTheEnd) {
    {
      Random r = new Random(capacity);
      DigestHistory h = new DigestHistory(capacity);
      ArrayDeque<Long> order = new ArrayDeque<>();
      Set<Long> model = new HashSet<>();
      for (int i = 0; i < 20_000; i++) {
        // Few distinct values, all with low bits in 0..3: long probe chains and many re-adds.
        long v = (long) r.nextInt(3 * capacity + 5) << 2 | r.nextInt(4);
        // The home slot is lo & mask (mask < 2^16): low bits 0..3, or 0xFFFE..0x10001 at the end.
        long lo = atTheEnd ? (v >>> 2) << 17 | ((0xFFFE + (v & 3)) & 0x1FFFF) : v;
        // (hi never 0: the one key the history stores differently, (0, 0), is not tested here)
        byte[] d = ByteBuffer.allocate(32).putLong(0, (v >>> 2) + 1).putLong(8, lo).array();
        boolean expected = !model.contains(v);
        if (expected) {
          model.add(v);
          order.addLast(v);
          if (order.size() > capacity) {
            model.remove(order.removeFirst());
          }
        }
        assertEquals(expected, h.add(d), "capacity " + capacity + (atTheEnd ? " (wrapping)" : "") + ", step " + i);
        assertEquals(model.size(), h.size());
      }
    }
  }
}
