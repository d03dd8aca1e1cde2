package io.peernode.node.storage;

import io.peernode.actors.streams.EventRange;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The stored form of one append: the events of one partition, in offset order, as one value,
 * so that storing an append costs one row (one B-tree insert) however many events it carries.
 * The row keeps the partition, the offset and timestamp bounds and the expiry bounds in columns
 * of its own (see {@link JdbcEventStore}); this is the value's encoding:
 *
 * <pre>
 * batch := version (1 byte, {@value #VERSION}) count (varint) event{count}
 * event := offset - firstOffset (varint)
 *          previous (varint: 0 = none, else zigzag(offset - previousOffset) + 1)
 *          timestamp - previous event's timestamp, the first against 0 (zigzag varint)
 *          ttl (zigzag varint)
 *          content length (varint) content (UTF-8)
 * </pre>
 *
 * Offsets ascend within a batch. Decoding checks every length and count against the bytes it
 * has and fails with {@link CorruptBatch} rather than read past them.
 */
final class EventBatch {

  static final int VERSION = 1;

  /** Every offset and every timestamp, negative ones too ({@link EventRange#all} starts at 0). */
  private static final EventRange EVERYTHING =
      new EventRange(Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE);

  private EventBatch() {}

  /** A stored batch whose bytes do not decode. */
  static final class CorruptBatch extends RuntimeException {
    CorruptBatch(String message) {
      super(message);
    }
  }

  /**
   * Builds batches into a buffer it keeps: one per writer thread, so encoding an append
   * allocates only the returned array once the buffer has grown to the appends' size.
   */
  static final class Encoder {
    private byte[] buf = new byte[64 * 1024];
    private int pos;

    private byte[] out;

    /**
     * Encodes events from index {@code from} of one partition's events (ascending offsets) as
     * one batch: as many as fit in {@code maxBytes} of content, and at least one. Returns the
     * index after the last event taken; {@link #bytes()} is the batch.
     */
    int encode(List<StreamMessage> events, int from, long maxBytes) {
      pos = 0;
      long first = events.get(from).offset();
      long lastOffset = Long.MIN_VALUE;
      long lastTs = 0;
      int i = from;
      while (i < events.size() && (i == from || pos < maxBytes)) {
        StreamMessage m = events.get(i);
        if (m.offset() <= lastOffset) {
          throw new IllegalArgumentException(
              "offsets of a batch must ascend: " + m.offset() + " after " + lastOffset);
        }
        int before = pos;
        lastOffset = m.offset();
        putVarint(m.offset() - first);
        Long prev = m.previousOffset();
        putVarint(prev == null ? 0 : zigzag(m.offset() - prev) + 1);
        putVarint(zigzag(m.timestamp() - lastTs));
        lastTs = m.timestamp();
        putVarint(zigzag(m.ttl()));
        putUtf8(m.content());
        if (i > from && pos > maxBytes) {
          pos = before; // this one starts the next batch
          break;
        }
        i++;
      }
      int count = i - from;
      byte[] header = new byte[11];
      header[0] = VERSION;
      int h = writeVarint(count, header, 1);
      out = new byte[h + pos];
      System.arraycopy(header, 0, out, 0, h);
      System.arraycopy(buf, 0, out, h, pos);
      return i;
    }

    /** The batch of the last {@link #encode}. */
    byte[] bytes() {
      return out;
    }

    private void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }

    private void putVarint(long v) {
      ensure(10);
      pos = writeVarint(v, buf, pos);
    }

    private void putUtf8(String s) {
      int n = s.length();
      // One pass for the common case of ASCII content, straight into the buffer; anything else
      // goes through the JDK's encoder (which also replaces lone surrogates as it always has).
      ensure(10 + n);
      int start = pos;
      putVarint(n);
      int body = pos;
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          pos = start;
          byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
          putVarint(utf8.length);
          ensure(utf8.length);
          System.arraycopy(utf8, 0, buf, pos, utf8.length);
          pos += utf8.length;
          return;
        }
        buf[body + i] = (byte) c;
      }
      pos = body + n;
    }
  }

  /**
   * Appends to {@code out} the batch's events that fall in the range, in offset order, until
   * {@code out} holds {@code limit}; returns whether the batch held events past the range's end
   * offset (a reader need not look at later batches then). Content is decoded only for the
   * events taken.
   */
  static boolean decode(String streamId, int partition, long firstOffset, byte[] bytes,
      EventRange range, int limit, List<StreamMessage> out) {
    Reader r = new Reader(bytes);
    int version = r.u8();
    if (version != VERSION) {
      throw new CorruptBatch("unknown batch version " + version);
    }
    long count = r.varint();
    if (count <= 0 || count > bytes.length) {
      throw new CorruptBatch("bad event count " + count + " in " + bytes.length + " bytes");
    }
    long ts = 0;
    for (long i = 0; i < count; i++) {
      long offset = firstOffset + r.varint();
      long prev = r.varint();
      ts += unzigzag(r.varint());
      long ttl = unzigzag(r.varint());
      int length = r.length();
      if (offset > range.toOffset) {
        return true;
      }
      if (offset >= range.fromOffset && ts >= range.fromTimestamp && ts <= range.toTimestamp) {
        if (out.size() >= limit) {
          return false;
        }
        if (ttl < Integer.MIN_VALUE || ttl > Integer.MAX_VALUE) {
          throw new CorruptBatch("ttl " + ttl + " out of range");
        }
        String content = new String(bytes, r.pos, length, StandardCharsets.UTF_8);
        out.add(new StreamMessage(streamId, partition, ts, (int) ttl, offset,
            prev == 0 ? null : offset - unzigzag(prev - 1), content));
      }
      r.pos += length;
    }
    if (r.pos != bytes.length) {
      throw new CorruptBatch((bytes.length - r.pos) + " bytes after the last event");
    }
    return false;
  }

  /** All events of the batch. */
  static List<StreamMessage> decodeAll(String streamId, int partition, long firstOffset,
      byte[] bytes) {
    List<StreamMessage> out = new ArrayList<>();
    decode(streamId, partition, firstOffset, bytes, EVERYTHING, Integer.MAX_VALUE, out);
    return out;
  }

  /** Writes {@code v} as an unsigned LEB128 varint (at most 10 bytes) at {@code i}; returns the index after it. */
  private static int writeVarint(long v, byte[] b, int i) {
    while ((v & ~0x7FL) != 0) {
      b[i++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    b[i++] = (byte) v;
    return i;
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }

  private static long unzigzag(long v) {
    return (v >>> 1) ^ -(v & 1);
  }

  private static final class Reader {
    final byte[] bytes;
    int pos;

    Reader(byte[] bytes) {
      this.bytes = bytes;
    }

    int u8() {
      if (pos >= bytes.length) throw truncated();
      return bytes[pos++] & 0xFF;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = u8();
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) return v;
      }
      throw new CorruptBatch("varint longer than 10 bytes at " + pos);
    }

    /** A content length, checked against what is left. */
    int length() {
      long n = varint();
      if (n > bytes.length - pos) {
        throw new CorruptBatch("content of " + n + " bytes at " + pos + ", only "
            + (bytes.length - pos) + " left");
      }
      return (int) n;
    }

    CorruptBatch truncated() {
      return new CorruptBatch("batch truncated at byte " + pos);
    }
  }
}
