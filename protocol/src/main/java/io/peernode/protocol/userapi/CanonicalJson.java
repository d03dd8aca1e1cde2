package io.peernode.protocol.userapi;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The canonical JSON text of a value: object keys sorted (by UTF-16 code units, recursively),
 * no insignificant whitespace, numbers as Jackson writes them. Two schemas that differ only in
 * key order or whitespace have the same canonical text, which is what identifies a subscription
 * and what the event digest is computed over.
 */
public final class CanonicalJson {

  private static final ObjectMapper MAPPER =
      new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private CanonicalJson() {}

  /** The shared mapper for parsing user JSON (plain, thread-safe once configured). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  /**
   * Canonical text of {@code value}: the same text as writing {@link #sorted} of it with the
   * mapper, but written in one pass (keys sorted as they are written) without copying the tree.
   */
  public static String of(JsonNode value) {
    try (com.fasterxml.jackson.core.io.SegmentedStringWriter out =
        new com.fasterxml.jackson.core.io.SegmentedStringWriter(MAPPER.getFactory()._getBufferRecycler())) {
      try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
        MAPPER.getSerializationConfig().initialize(g); // as the mapper's own writeValueAsString
        write(g, value);
      }
      return out.getAndClear();
    } catch (java.io.IOException e) {
      // A JsonNode tree is always writable; this is not reachable with valid trees.
      throw new IllegalStateException("cannot write JSON tree", e);
    }
  }

  /**
   * The UTF-8 bytes of {@link #of}{@code (value)}, written straight into a byte array for the
   * node types events are made of (objects, arrays, strings, booleans, null, int/long and finite
   * double numbers); any other node goes through {@link #of}. Same escaping as Jackson's writer
   * (control characters, quote and backslash; nothing else), and, like {@code String.getBytes},
   * an unpaired surrogate becomes '?'.
   */
  public static byte[] utf8(JsonNode value) {
    Utf8Writer out = WRITERS.get();
    if (out.busy) {
      out = new Utf8Writer(); // not reached by the node's own callers: no JsonNode of theirs calls back
    }
    out.busy = true;
    try {
      if (out.write(value)) {
        return out.toByteArray();
      }
    } finally {
      out.reset();
    }
    return of(value).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * One writer per thread, reused: its buffer (no 512 zeroed bytes to allocate per event) and
   * the field names it wrote recently, as the bytes they encode to.
   */
  private static final ThreadLocal<Utf8Writer> WRITERS = ThreadLocal.withInitial(Utf8Writer::new);

  private static final class Utf8Writer {
    /** A buffer grown beyond this for a large event is dropped afterwards rather than kept for the thread's life. */
    private static final int KEPT_BUFFER = 64 * 1024;
    /** Field names of at most this many chars are kept encoded, in a direct-mapped table of NAMES entries. */
    private static final int KEPT_NAME = 64;
    private static final int NAMES = 64;
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] DIGIT_TENS = new byte[100];
    private static final byte[] DIGIT_ONES = new byte[100];

    static {
      for (int i = 0; i < 100; i++) {
        DIGIT_TENS[i] = (byte) ('0' + i / 10);
        DIGIT_ONES[i] = (byte) ('0' + i % 10);
      }
    }

    private static final java.lang.invoke.VarHandle LONGS =
        java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
    private byte[] buf = new byte[512];
    private int n;
    boolean busy;
    /**
     * Field names and their encoding ({@code "name":} as UTF-8, escaped): events of one
     * application repeat their names, and Jackson's parser interns them, so a name is usually
     * found by identity; by equals otherwise. The bytes depend on the name's text only.
     */
    private final String[] keptNames = new String[NAMES];
    private final byte[][] encodedNames = new byte[NAMES][];

    byte[] toByteArray() {
      return java.util.Arrays.copyOf(buf, n);
    }

    void reset() {
      n = 0;
      busy = false;
      if (buf.length > KEPT_BUFFER) {
        buf = new byte[512];
      }
    }

    /** {@code "name":}, from the table when the name was written recently. */
    private void name(String name) {
      int i = name.hashCode() & (NAMES - 1);
      String kept = keptNames[i];
      if (kept == name || (kept != null && kept.equals(name))) {
        byte[] e = encodedNames[i];
        copy(e, 0, e.length);
        return;
      }
      int start = n;
      string(name);
      put((byte) ':');
      if (name.length() <= KEPT_NAME) {
        keptNames[i] = name;
        encodedNames[i] = java.util.Arrays.copyOfRange(buf, start, n);
      }
    }

    private void ensure(int more) {
      if (n + more > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
      }
    }

    private void put(byte b) {
      ensure(1);
      buf[n++] = b;
    }

    private void ascii(String s) {
      ensure(s.length());
      for (int i = 0; i < s.length(); i++) {
        buf[n++] = (byte) s.charAt(i);
      }
    }

    /** False for a node this writer does not write (the caller falls back to Jackson). */
    boolean write(JsonNode node) {
      switch (node.getNodeType()) {
        case OBJECT: {
          // The fields as they are, when they are in order already (events are often built so);
          // else sorted, and each value looked up by its name.
          int size = node.size();
          String[] names = new String[size];
          JsonNode[] values = new JsonNode[size];
          Iterator<java.util.Map.Entry<String, JsonNode>> it = node.fields();
          int count = 0;
          boolean sorted = true;
          while (it.hasNext()) {
            java.util.Map.Entry<String, JsonNode> field = it.next();
            names[count] = field.getKey();
            values[count] = field.getValue();
            sorted &= count == 0 || names[count - 1].compareTo(names[count]) < 0;
            count++;
          }
          if (!sorted) {
            java.util.Arrays.sort(names, 0, count);
            for (int i = 0; i < count; i++) {
              values[i] = node.get(names[i]);
            }
          }
          put((byte) '{');
          for (int i = 0; i < count; i++) {
            if (i > 0) {
              put((byte) ',');
            }
            name(names[i]);
            if (!write(values[i])) {
              return false;
            }
          }
          put((byte) '}');
          return true;
        }
        case ARRAY: {
          put((byte) '[');
          boolean first = true;
          for (JsonNode element : node) {
            if (!first) {
              put((byte) ',');
            }
            first = false;
            if (!write(element)) {
              return false;
            }
          }
          put((byte) ']');
          return true;
        }
        case STRING:
          string(node.textValue());
          return true;
        case BOOLEAN:
          ascii(node.booleanValue() ? "true" : "false");
          return true;
        case NULL:
          ascii("null");
          return true;
        case NUMBER:
          switch (node.numberType()) {
            case INT:
              integer(node.intValue());
              return true;
            case LONG:
              integer(node.longValue());
              return true;
            case DOUBLE: {
              double d = node.doubleValue();
              if (Double.isNaN(d) || Double.isInfinite(d)) {
                return false; // Jackson quotes these
              }
              ascii(Double.toString(d));
              return true;
            }
            default:
              return false;
          }
        default:
          return false;
      }
    }

    /**
     * The JDK's own encoder (an intrinsic for Latin-1 strings, and like ours it writes '?' for an
     * unpaired surrogate) gives the UTF-8; escapes only ever concern ASCII bytes, which in UTF-8
     * never occur inside a multi-byte sequence, so the bytes are copied in runs between them.
     */
    private void string(String s) {
      byte[] u = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      ensure(u.length + 2);
      buf[n++] = '"';
      int start = 0;
      for (int i = nextEscape(u, 0); i < u.length; i = nextEscape(u, start)) {
        copy(u, start, i - start);
        escape((char) u[i]);
        start = i + 1;
      }
      copy(u, start, u.length - start);
      put((byte) '"');
    }

    /** Decimal digits as Long.toString writes them, without the String, two at a time. */
    private void integer(long v) {
      if (v == Long.MIN_VALUE) {
        ascii(Long.toString(v));
        return;
      }
      ensure(20);
      if (v < 0) {
        buf[n++] = '-';
        v = -v;
      }
      int digits = 1;
      for (long p = 10; digits < 19 && v >= p; p *= 10) {
        digits++;
      }
      int i = n + digits;
      n = i;
      while (v >= 100) {
        int r = (int) (v % 100);
        v /= 100;
        buf[--i] = DIGIT_ONES[r];
        buf[--i] = DIGIT_TENS[r];
      }
      int r = (int) v;
      buf[--i] = DIGIT_ONES[r];
      if (r >= 10) {
        buf[--i] = DIGIT_TENS[r];
      }
    }

    /**
     * Index of the first byte at or after {@code from} that JSON must escape (a control character,
     * quote or backslash; never part of a multi-byte UTF-8 sequence), or {@code u.length}. Eight
     * bytes at a time: the tests below are exact for "some byte of the word is one of those".
     */
    static int nextEscape(byte[] u, int from) {
      int i = from;
      for (; i + 8 <= u.length; i += 8) {
        long x = (long) LONGS.get(u, i);
        long control = (x - 0x2020202020202020L) & ~x & 0x8080808080808080L; // a byte < 0x20 (high bit clear)
        long q = x ^ 0x2222222222222222L;
        long quote = (q - 0x0101010101010101L) & ~q & 0x8080808080808080L; // a byte == '"'
        long b = x ^ 0x5C5C5C5C5C5C5C5CL;
        long backslash = (b - 0x0101010101010101L) & ~b & 0x8080808080808080L; // a byte == '\\'
        if ((control | quote | backslash) != 0) {
          break;
        }
      }
      for (; i < u.length; i++) {
        byte c = u[i];
        if (c >= 0 && (c < 0x20 || c == '"' || c == '\\')) {
          return i;
        }
      }
      return u.length;
    }

    private void copy(byte[] from, int at, int count) {
      if (count > 0) {
        ensure(count);
        System.arraycopy(from, at, buf, n, count);
        n += count;
      }
    }

    private void escape(char c) {
      ensure(6);
      buf[n++] = '\\';
      switch (c) {
        case '"':
          buf[n++] = '"';
          return;
        case '\\':
          buf[n++] = '\\';
          return;
        case '\b':
          buf[n++] = 'b';
          return;
        case '\t':
          buf[n++] = 't';
          return;
        case '\f':
          buf[n++] = 'f';
          return;
        case '\n':
          buf[n++] = 'n';
          return;
        case '\r':
          buf[n++] = 'r';
          return;
        default:
          buf[n++] = 'u';
          buf[n++] = '0';
          buf[n++] = '0';
          buf[n++] = HEX[c >> 4];
          buf[n++] = HEX[c & 0xF];
      }
    }
  }

  private static void write(JsonGenerator g, JsonNode node) throws java.io.IOException {
    switch (node.getNodeType()) {
      case OBJECT: {
        String[] names = new String[node.size()];
        Iterator<String> it = node.fieldNames();
        int n = 0;
        while (it.hasNext()) {
          names[n++] = it.next();
        }
        java.util.Arrays.sort(names, 0, n);
        g.writeStartObject();
        for (int i = 0; i < n; i++) {
          g.writeFieldName(names[i]);
          write(g, node.get(names[i]));
        }
        g.writeEndObject();
        return;
      }
      case ARRAY:
        g.writeStartArray();
        for (JsonNode element : node) {
          write(g, element);
        }
        g.writeEndArray();
        return;
      case STRING:
        g.writeString(node.textValue());
        return;
      case BOOLEAN:
        g.writeBoolean(node.booleanValue());
        return;
      case NULL:
        g.writeNull();
        return;
      case NUMBER:
        switch (node.numberType()) {
          case INT:
            g.writeNumber(node.intValue());
            return;
          case LONG:
            g.writeNumber(node.longValue());
            return;
          case DOUBLE:
            g.writeNumber(node.doubleValue());
            return;
          default:
            break; // BigInteger, BigDecimal, float: exactly as the mapper writes them
        }
        MAPPER.writeTree(g, node);
        return;
      default:
        // Binary, POJO and other exotic nodes: exactly as the mapper writes them.
        MAPPER.writeTree(g, node);
    }
  }

  /**
   * Parses JSON text given as UTF-8 bytes (as it crosses the cluster).
   *
   * @throws IllegalArgumentException saying where the text is not JSON
   */
  public static JsonNode parse(byte[] utf8) {
    try {
      JsonNode node = MAPPER.readTree(utf8);
      if (node == null || node.isMissingNode()) {
        throw new IllegalArgumentException("empty JSON text");
      }
      return node;
    } catch (java.io.IOException e) {
      String why = e instanceof JsonProcessingException ? ((JsonProcessingException) e).getOriginalMessage() : e.getMessage();
      throw new IllegalArgumentException("not valid JSON: " + why, e);
    }
  }

  /**
   * Parses JSON text.
   *
   * @throws IllegalArgumentException saying where the text is not JSON
   */
  public static JsonNode parse(String text) {
    try {
      JsonNode node = MAPPER.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new IllegalArgumentException("empty JSON text");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** A copy of {@code value} whose objects have their keys in sorted order. */
  public static JsonNode sorted(JsonNode value) {
    if (value.isObject()) {
      List<String> names = new ArrayList<>();
      Iterator<String> it = value.fieldNames();
      while (it.hasNext()) {
        names.add(it.next());
      }
      Collections.sort(names);
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      for (String name : names) {
        out.set(name, sorted(value.get(name)));
      }
      return out;
    }
    if (value.isArray()) {
      ArrayNode out = JsonNodeFactory.instance.arrayNode(value.size());
      for (JsonNode element : value) {
        out.add(sorted(element));
      }
      return out;
    }
    return value;
  }
}
