package io.peernode.protocol.sync;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON configuration of the sync protocol: strict on input, deterministic on output.
 *
 * <p>Frames are read and written with Jackson's streaming parser and generator only (jackson-core),
 * into and out of {@link Obj}, a small tree of maps, lists, strings, numbers and booleans. The
 * tokenizer is the one the databind {@code ObjectMapper} uses, so what parses and the bytes written
 * are as before; what is left out is the mapper itself, whose start (some 260 classes and a quarter
 * of a CPU-second) the sync CLI paid before its first frame.
 */
public final class SyncJson {

  /**
   * Deeper JSON is refused while it is parsed (the tree is built recursively). No sync message
   * nests deeper than 2.
   */
  public static final int MAX_DEPTH = 16;

  /** JSON {@code null} as a value of an {@link Obj} (a missing field is Java {@code null}). */
  public static final Object NULL = new Object() {
    @Override
    public String toString() {
      return "null";
    }
  };

  private static final JsonFactory FACTORY =
      new JsonFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private SyncJson() {}

  /**
   * A JSON object: fields in the order they were put or read. Values are {@link String},
   * {@link Long} or {@link BigInteger} (integers), {@link Double}, {@link Boolean}, {@link #NULL},
   * {@code List<Object>} and {@code Obj}. Built by one owner, then only read (frames are immutable
   * once decoded). Equal when the fields are, in any order.
   */
  public static final class Obj {
    private final Map<String, Object> fields = new LinkedHashMap<>();

    public Obj put(String key, String value) {
      fields.put(key, value);
      return this;
    }

    public Obj put(String key, long value) {
      fields.put(key, value);
      return this;
    }

    public Obj putInts(String key, int[] values) {
      List<Object> list = new ArrayList<>(values.length);
      for (int v : values) {
        list.add((long) v);
      }
      fields.put(key, Collections.unmodifiableList(list));
      return this;
    }

    /** The value of {@code key} as read (see the class comment), or null when absent. */
    public Object get(String key) {
      return fields.get(key);
    }

    public boolean has(String key) {
      return fields.containsKey(key);
    }

    public Map<String, Object> fields() {
      return Collections.unmodifiableMap(fields);
    }

    /** The string value of {@code key}, or null when it is absent or not a string. */
    public String text(String key) {
      return fields.get(key) instanceof String s ? s : null;
    }

    /** Lenient, as Jackson's {@code asInt(0)}: numbers truncated, numeric strings parsed, else 0. */
    public int asInt(String key) {
      return (int) asLong(key);
    }

    /** Lenient, as Jackson's {@code asLong(0)}. */
    public long asLong(String key) {
      Object v = fields.get(key);
      if (v instanceof Number n) {
        return n.longValue();
      } else if (v instanceof Boolean b) {
        return b ? 1 : 0;
      } else if (v instanceof String s) {
        try {
          return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
          return 0;
        }
      }
      return 0;
    }

    /** Lenient, as Jackson's {@code asText("")}: scalars as text; absent, null and containers "". */
    public String asText(String key) {
      Object v = fields.get(key);
      return v == null || v == NULL || v instanceof Obj || v instanceof List ? "" : v.toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Obj other && fields.equals(other.fields);
    }

    @Override
    public int hashCode() {
      return fields.hashCode();
    }

    /** The JSON text (as {@link #bytes} writes it). */
    @Override
    public String toString() {
      return new String(bytes(this), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  public static Obj object() {
    return new Obj();
  }

  /** True for a JSON integer of any size (what Jackson calls an integral number). */
  public static boolean isIntegral(Object v) {
    return v instanceof Long || v instanceof BigInteger;
  }

  /** Parses a frame's JSON bytes into an object, refusing anything that is not exactly one object. */
  public static Obj parseObject(byte[] json) throws FrameException {
    try (JsonParser p = FACTORY.createParser(json)) {
      JsonToken t = p.nextToken();
      if (t != JsonToken.START_OBJECT) {
        if (t != null) {
          value(p, t, 1); // a broken scalar or array is a parse error, not "not an object"
        }
        throw new FrameException("JSON payload is not an object");
      }
      Obj o = object(p, 1);
      if (p.nextToken() != null) {
        throw new FrameException("JSON does not parse: trailing token after the object");
      }
      return o;
    } catch (IOException | RuntimeException e) {
      throw new FrameException("JSON does not parse: " + firstLine(e.getMessage()));
    }
  }

  private static Obj object(JsonParser p, int depth) throws IOException, FrameException {
    Obj o = new Obj();
    for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
      String key = p.currentName();
      o.fields.put(key, value(p, p.nextToken(), depth));
    }
    return o;
  }

  private static Object value(JsonParser p, JsonToken t, int depth) throws IOException, FrameException {
    if (t == null) {
      throw new IOException("unexpected end of input");
    }
    switch (t) {
      case START_OBJECT, START_ARRAY -> {
        if (depth + 1 > MAX_DEPTH) {
          throw new FrameException("JSON nests deeper than " + MAX_DEPTH);
        }
        if (t == JsonToken.START_OBJECT) {
          return object(p, depth + 1);
        }
        List<Object> list = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
          list.add(value(p, e, depth + 1));
        }
        return Collections.unmodifiableList(list);
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        return p.getDoubleValue();
      }
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return NULL;
      }
      default -> throw new IOException("unexpected token " + t);
    }
  }

  /** The compact JSON of {@code o}, fields in order. */
  public static byte[] bytes(Obj o) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      write(g, o);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
    return out.toByteArray();
  }

  private static void write(JsonGenerator g, Object v) throws IOException {
    if (v instanceof Obj o) {
      g.writeStartObject();
      for (Map.Entry<String, Object> e : o.fields.entrySet()) {
        g.writeFieldName(e.getKey());
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof List<?> list) {
      g.writeStartArray();
      for (Object e : list) {
        write(g, e);
      }
      g.writeEndArray();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Long l) {
      g.writeNumber(l);
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof Double d) {
      g.writeNumber(d);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v == NULL) {
      g.writeNull();
    } else {
      throw new IllegalArgumentException("not a JSON value: " + v);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "malformed";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) : line;
  }
}
