package io.peernode.actors.userapi;

import akka.actor.ExtendedActorSystem;
import akka.serialization.ByteBufferSerializer;
import akka.serialization.SerializerWithStringManifest;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The wire form of {@link PubSubNode.EventBatch}, the one pub/sub message that carries events
 * between nodes. Binary rather than Jackson: the events are canonical JSON text already, so they
 * travel as their UTF-8 bytes, the digests as 32 bytes, the matched schemas as indexes into one
 * table of schema texts per batch. Artery writes it straight into its envelope buffer
 * ({@link ByteBufferSerializer}).
 *
 * <p>Layout (big-endian): {@code version:u8 (1)}, {@code schemas:i32}, per schema
 * {@code length:i32 utf8}; {@code events:i32}, per event {@code digestKind:u8} (0: 32 bytes,
 * the digest's hex; 1: {@code length:i32 utf8} of a digest that is not 64 lowercase hex),
 * {@code length:i32 utf8} of the event, {@code matched:i32} and that many {@code i32} schema
 * indexes. Bound to the class in {@code peer-userapi.conf}.
 */
public final class EventBatchSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {

  /** Unique among the node's serializers (Akka reserves 0 to 40). */
  public static final int IDENTIFIER = 7301;
  static final String MANIFEST = "B";
  private static final byte VERSION = 1;

  public EventBatchSerializer(ExtendedActorSystem system) {}

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof PubSubNode.EventBatch) {
      return MANIFEST;
    }
    throw new IllegalArgumentException("cannot serialize " + o.getClass());
  }

  // ---- size accounting for the sender's batching (upper bounds of the bytes below)

  static int batchOverhead() {
    return 1 + 4 + 4;
  }

  static int schemaOverhead() {
    return 4;
  }

  static int eventOverhead(int matched) {
    return 1 + 4 + 64 + 4 + 4 + 4 * matched;
  }

  // ---- writing

  @Override
  public byte[] toBinary(Object o) {
    PubSubNode.EventBatch b = batch(o);
    byte[][] schemas = utf8(b.schemas, null);
    byte[][] events = utf8(b.events, b.utf8);
    ByteBuffer buf = ByteBuffer.allocate(size(b, schemas, events));
    write(b, schemas, events, buf);
    return buf.array();
  }

  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    PubSubNode.EventBatch b = batch(o);
    ByteOrder order = buf.order();
    buf.order(ByteOrder.BIG_ENDIAN);
    try {
      write(b, utf8(b.schemas, null), utf8(b.events, b.utf8), buf);
    } finally {
      buf.order(order);
    }
  }

  private static PubSubNode.EventBatch batch(Object o) {
    if (o instanceof PubSubNode.EventBatch) {
      return (PubSubNode.EventBatch) o;
    }
    throw new IllegalArgumentException("cannot serialize " + o.getClass());
  }

  private static byte[][] utf8(String[] texts, byte[][] known) {
    byte[][] out = new byte[texts.length][];
    for (int i = 0; i < texts.length; i++) {
      out[i] = known != null && known[i] != null ? known[i] : texts[i].getBytes(StandardCharsets.UTF_8);
    }
    return out;
  }

  private static int size(PubSubNode.EventBatch b, byte[][] schemas, byte[][] events) {
    long n = batchOverhead();
    for (byte[] s : schemas) {
      n += 4 + s.length;
    }
    for (int i = 0; i < events.length; i++) {
      n += 1 + (b.rawDigests[i] != null || rawDigest(b.digests[i], new byte[32]) != null ? 32 : 4 + b.digests[i].getBytes(StandardCharsets.UTF_8).length)
          + 4 + events[i].length + 4 + 4L * b.matched[i].length;
    }
    return Math.toIntExact(n);
  }

  private static void write(PubSubNode.EventBatch b, byte[][] schemas, byte[][] events, ByteBuffer buf) {
    byte[] scratch = new byte[32];
    buf.put(VERSION);
    buf.putInt(schemas.length);
    for (byte[] s : schemas) {
      buf.putInt(s.length).put(s);
    }
    buf.putInt(events.length);
    for (int i = 0; i < events.length; i++) {
      String digest = b.digests[i];
      byte[] raw = b.rawDigests[i];
      if (raw != null || (raw = rawDigest(digest, scratch)) != null) {
        buf.put((byte) 0).put(raw); // in bulk: byte by byte into a direct buffer is slow
      } else {
        byte[] d = digest.getBytes(StandardCharsets.UTF_8);
        buf.put((byte) 1).putInt(d.length).put(d);
      }
      buf.putInt(events[i].length).put(events[i]);
      int[] m = b.matched[i];
      buf.putInt(m.length);
      for (int s : m) {
        buf.putInt(s);
      }
    }
  }

  /**
   * The 32 bytes of a SHA-256 digest as EventDigest writes it (64 lowercase hex digits), into
   * {@code out}; null when {@code digest} is not of that form (it then travels as text).
   */
  private static byte[] rawDigest(String digest, byte[] out) {
    if (digest.length() != 64) {
      return null;
    }
    for (int i = 0; i < 32; i++) {
      int hi = hex(digest.charAt(2 * i));
      int lo = hex(digest.charAt(2 * i + 1));
      if (hi < 0 || lo < 0) {
        return null;
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }

  private static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  }

  // ---- reading

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    return fromBinary(ByteBuffer.wrap(bytes), manifest);
  }

  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
    if (!MANIFEST.equals(manifest)) {
      throw new NotSerializableException("unknown manifest " + manifest + " for " + getClass().getName());
    }
    ByteOrder order = buf.order();
    buf.order(ByteOrder.BIG_ENDIAN);
    try {
      return read(buf);
    } catch (RuntimeException e) {
      // Truncated or corrupt bytes (BufferUnderflow, bad lengths): refuse the message, not the node.
      throw new IllegalArgumentException("malformed " + getClass().getSimpleName() + " message: " + e, e);
    } finally {
      buf.order(order);
    }
  }

  private static PubSubNode.EventBatch read(ByteBuffer buf) {
    byte version = buf.get();
    if (version != VERSION) {
      throw new IllegalArgumentException("unknown version " + version);
    }
    int ns = count(buf);
    String[] schemas = new String[ns];
    for (int i = 0; i < ns; i++) {
      schemas[i] = string(buf);
    }
    int n = count(buf);
    String[] digests = new String[n];
    byte[][] events = new byte[n][];
    int[][] matched = new int[n][];
    byte[][] raw = new byte[n][];
    for (int i = 0; i < n; i++) {
      byte kind = buf.get();
      if (kind == 0) {
        raw[i] = new byte[32]; // kept as bytes: the digest history keys by them, no hex text
        buf.get(raw[i]);
      } else if (kind == 1) {
        digests[i] = string(buf);
      } else {
        throw new IllegalArgumentException("unknown digest kind " + kind);
      }
      events[i] = bytes(buf); // kept as UTF-8: parsed from the bytes when drained
      int count = count(buf);
      int[] m = count == 1 ? null : new int[count];
      for (int j = 0; j < count; j++) {
        int x = buf.getInt();
        if (x < 0 || x >= ns) {
          throw new IllegalArgumentException("schema index " + x + " outside the table of " + ns);
        }
        if (m == null) {
          m = matchedOne(x);
        } else {
          m[j] = x;
        }
      }
      matched[i] = m;
    }
    return new PubSubNode.EventBatch(schemas, digests, new String[n], events, raw, matched);
  }

  /** Most events match one schema of the receiver: those share these arrays (nothing writes to them). */
  private static final int[][] ONE = new int[64][];

  static {
    for (int i = 0; i < ONE.length; i++) {
      ONE[i] = new int[] {i};
    }
  }

  /** The matched-indexes array of an event that matched only schema {@code index}: shared, nobody writes to it. */
  static int[] matchedOne(int index) {
    return index < ONE.length ? ONE[index] : new int[] {index};
  }

  private static int count(ByteBuffer buf) {
    int n = buf.getInt();
    if (n < 0 || n > buf.remaining()) {
      throw new IllegalArgumentException("bad count " + n);
    }
    return n;
  }

  private static byte[] bytes(ByteBuffer buf) {
    byte[] bytes = new byte[count(buf)];
    buf.get(bytes);
    return bytes;
  }

  private static String string(ByteBuffer buf) {
    int len = count(buf);
    if (buf.hasArray()) {
      String s = new String(buf.array(), buf.arrayOffset() + buf.position(), len, StandardCharsets.UTF_8);
      buf.position(buf.position() + len);
      return s;
    }
    byte[] bytes = new byte[len];
    buf.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
