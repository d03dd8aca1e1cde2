package io.peernode.node.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.actors.streams.EventRange;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stored form of an append: known answer, round trips, splitting, ranges, corrupt bytes. */
class EventBatchTest {

  private static final String S = "stream-1";

  private static StreamMessage event(long offset, Long prev, long ts, int ttl, String content) {
    return new StreamMessage(S, 3, ts, ttl, offset, prev, content);
  }

  private static byte[] encodeAll(List<StreamMessage> events) {
    EventBatch.Encoder e = new EventBatch.Encoder();
    assertEquals(events.size(), e.encode(events, 0, Long.MAX_VALUE));
    return e.bytes();
  }

  @Test
  void knownAnswer() {
    byte[] bytes = encodeAll(List.of(event(5, 4L, 1000, 60, "{}")));
    // version 1, count 1, offset delta 0, previous zigzag(1)+1 = 3, ts zigzag(1000) = 2000 as
    // varint D0 0F, ttl zigzag(60) = 120, content length 2, "{}"
    assertArrayEquals(new byte[] {1, 1, 0, 3, (byte) 0xD0, 0x0F, 120, 2, '{', '}'}, bytes);
  }

  @Test
  void everyFieldRoundTrips() {
    List<StreamMessage> events = List.of(
        event(0, null, 1_700_000_000_000L, 0, ""),
        event(1, 0L, 1_699_999_999_000L, Integer.MAX_VALUE, "{\"a\":1}"),
        event(2, 1L, -5, Integer.MIN_VALUE, "caf\u00e9 \ud83d\ude00 \u4e2d"),
        event(9, 2L, Long.MAX_VALUE / 2, 7, "x".repeat(100_000)),
        event(10, 100L, 0, 60, "{}"));
    byte[] bytes = encodeAll(events);
    assertEquals(events, EventBatch.decodeAll(S, 3, 0, bytes));
  }

  @Test
  void aLoneSurrogateIsStoredAsTheReplacementItAlwaysWas() {
    byte[] bytes = encodeAll(List.of(event(0, null, 1, 1, "a\ud800b")));
    assertEquals("a?b", EventBatch.decodeAll(S, 3, 0, bytes).get(0).content());
  }

  @Test
  void randomEventsRoundTrip() {
    Random random = new Random(42);
    for (int round = 0; round < 200; round++) {
      List<StreamMessage> events = new ArrayList<>();
      long offset = random.nextInt(1000);
      long ts = random.nextLong() >> 2;
      for (int i = 0, n = 1 + random.nextInt(50); i < n; i++) {
        StringBuilder content = new StringBuilder();
        for (int c = random.nextInt(300); c > 0; c--) {
          content.append((char) (random.nextBoolean() ? 32 + random.nextInt(95)
              : 0x80 + random.nextInt(0xD000)));
        }
        Long prev = random.nextInt(10) == 0 ? null : offset - 1 - random.nextInt(3);
        events.add(event(offset, prev, ts, random.nextInt(), content.toString()));
        offset += 1 + random.nextInt(3);
        ts += random.nextInt(2000) - 1000;
      }
      assertEquals(events,
          EventBatch.decodeAll(S, 3, events.get(0).offset(), encodeAll(events)));
    }
  }

  @Test
  void anAppendSplitsIntoBatchesOfAtMostMaxBytesAndAtLeastOneEvent() {
    List<StreamMessage> events = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      events.add(event(i, i == 0 ? null : i - 1L, 1000 + i, 60, "y".repeat(190)));
    }
    events.add(event(100, 99L, 2000, 60, "z".repeat(5000))); // larger than a batch on its own
    EventBatch.Encoder e = new EventBatch.Encoder();
    List<StreamMessage> back = new ArrayList<>();
    int from = 0;
    int batches = 0;
    while (from < events.size()) {
      int to = e.encode(events, from, 1000);
      assertTrue(to > from);
      if (to - from > 1) assertTrue(e.bytes().length <= 1000 + 11, "batch of " + e.bytes().length);
      back.addAll(EventBatch.decodeAll(S, 3, events.get(from).offset(), e.bytes()));
      from = to;
      batches++;
    }
    assertEquals(events, back);
    assertEquals(21, batches, "100 events of ~200 bytes by 1000 bytes: 5 a batch, then the big one");
  }

  @Test
  void decodeTakesOnlyTheRangeAndStopsAtTheLimit() {
    List<StreamMessage> events = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      events.add(event(100 + i, 99L + i, 5000 + (i % 2 == 0 ? i : -i), 60, "{\"i\":" + i + "}"));
    }
    byte[] bytes = encodeAll(events);
    List<StreamMessage> out = new ArrayList<>();
    assertTrue(EventBatch.decode(S, 3, 100, bytes, EventRange.offsets(103, 106), 100, out),
        "the batch goes past the range's end");
    assertEquals(events.subList(3, 7), out);
    out.clear();
    assertFalse(EventBatch.decode(S, 3, 100, bytes, EventRange.all(), 5, out));
    assertEquals(events.subList(0, 5), out);
    out.clear();
    EventBatch.decode(S, 3, 100, bytes, EventRange.timestamps(5000, 5010), 100, out);
    // even i: ts 5000 + i, taken for i 0..10; odd i: ts 5000 - i, never
    assertEquals(List.of(0L, 2L, 4L, 6L, 8L, 10L),
        out.stream().map(m -> m.offset() - 100).collect(java.util.stream.Collectors.toList()));
  }

  @Test
  void corruptBytesFailClearlyAtEveryTruncation() {
    byte[] bytes = encodeAll(List.of(event(0, null, 10, 60, "{\"a\":\"caf\u00e9\"}"),
        event(1, 0L, 11, 60, "{}")));
    for (int n = 0; n < bytes.length; n++) {
      byte[] cut = Arrays.copyOf(bytes, n);
      assertThrows(EventBatch.CorruptBatch.class, () -> EventBatch.decodeAll(S, 3, 0, cut),
          "cut at " + n);
    }
    byte[] trailing = Arrays.copyOf(bytes, bytes.length + 1);
    assertThrows(EventBatch.CorruptBatch.class, () -> EventBatch.decodeAll(S, 3, 0, trailing));
    byte[] version = bytes.clone();
    version[0] = 9;
    assertThrows(EventBatch.CorruptBatch.class, () -> EventBatch.decodeAll(S, 3, 0, version));
    byte[] endless = {1, 1, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
        (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0};
    assertThrows(EventBatch.CorruptBatch.class, () -> EventBatch.decodeAll(S, 3, 0, endless));
  }

  @Test
  void offsetsMustAscend() {
    assertThrows(IllegalArgumentException.class,
        () -> encodeAll(List.of(event(3, null, 1, 1, "{}"), event(3, null, 1, 1, "{}"))));
  }
}
