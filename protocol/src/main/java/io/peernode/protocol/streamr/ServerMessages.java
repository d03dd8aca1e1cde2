package io.peernode.protocol.streamr;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;

/**
 * Encodes what the node sends on the WebSocket: {@code [0, type, subId or "", payload]}.
 * Payloads of control messages are objects with {@code stream} and {@code partition}; those
 * answering a resend also carry {@code sub}, which clients route on. Errors have one shape:
 * {@code {"error": "...", "request": "<request type>"}}.
 */
public final class ServerMessages {

  public static final int BROADCAST = 0;
  public static final int UNICAST = 1;
  public static final int SUBSCRIBED = 2;
  public static final int UNSUBSCRIBED = 3;
  public static final int RESENDING = 4;
  public static final int RESENT = 5;
  public static final int NO_RESEND = 6;
  public static final int ERROR = 7;

  private static final JsonFactory JSON = new JsonFactory();

  private ServerMessages() {}

  /**
   * {@link #broadcast} in UTF-8, what subscribers are sent: encoded once per event instance,
   * cached in it and shared by every subscriber that the instance reaches: the array must not
   * be modified.
   */
  public static byte[] broadcastUtf8(StreamMessage m) {
    byte[] utf8 = m.cachedBroadcastUtf8();
    if (utf8 == null) {
      utf8 = renderBroadcastUtf8(m);
      if (utf8 == null) {
        utf8 = broadcast(m).getBytes(StandardCharsets.UTF_8);
      }
      m.cacheBroadcastUtf8(utf8);
    }
    return utf8;
  }

  /** {@code [0,0,"",[28,"}: the broadcast's head up to the stream id. */
  private static final byte[] BROADCAST_HEAD = ("[0," + BROADCAST + ",\"\",[" + StreamMessage.VERSION
      + ",\"").getBytes(StandardCharsets.US_ASCII);
  /** {@code ,27,}: the content type between the previous offset and the content. */
  private static final byte[] CONTENT_TYPE = ("," + StreamMessage.CONTENT_TYPE_JSON + ",")
      .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  /**
   * The UTF-8 of {@link #broadcast} written straight into one exact array, for the usual event:
   * with the publisher's literal, a stream id of printable ASCII needing no escape, and no
   * negative number; null for any other (then the text is built and encoded). It is once per
   * event on every delivery's path; the text builder's sixteen appends, each with its capacity
   * checks, and the encoding after them made the largest method C2 compiled in a fresh node's
   * first seconds (the subscription's event handler, which inlines it: 0.5 s of compiling).
   */
  static byte[] renderBroadcastUtf8(StreamMessage m) {
    String contentJson = m.contentJson();
    String stream = m.streamId();
    Long previous = m.previousOffset();
    if (contentJson == null || !plainAscii(stream) || m.partition() < 0 || m.timestamp() < 0
        || m.ttl() < 0 || m.offset() < 0 || (previous != null && previous < 0)) {
      return null;
    }
    byte[] content = contentJson.getBytes(StandardCharsets.UTF_8);
    int n = BROADCAST_HEAD.length + stream.length() + 2 + digits(m.partition()) + 1
        + digits(m.timestamp()) + 1 + digits(m.ttl()) + 1 + digits(m.offset()) + 1
        + (previous == null ? NULL.length : digits(previous)) + CONTENT_TYPE.length
        + content.length + 2;
    byte[] b = new byte[n];
    int i = put(BROADCAST_HEAD, b, 0);
    for (int k = 0; k < stream.length(); k++) {
      b[i++] = (byte) stream.charAt(k);
    }
    b[i++] = '"';
    b[i++] = ',';
    i = putDigits(m.partition(), b, i);
    b[i++] = ',';
    i = putDigits(m.timestamp(), b, i);
    b[i++] = ',';
    i = putDigits(m.ttl(), b, i);
    b[i++] = ',';
    i = putDigits(m.offset(), b, i);
    b[i++] = ',';
    i = previous == null ? put(NULL, b, i) : putDigits(previous, b, i);
    i = put(CONTENT_TYPE, b, i);
    i = put(content, b, i);
    b[i++] = ']';
    b[i] = ']';
    return b;
  }

  /** Printable ASCII without a quote or backslash: written into JSON as it is. */
  private static boolean plainAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        return false;
      }
    }
    return true;
  }

  /** Decimal digits of {@code v >= 0}. */
  private static int digits(long v) {
    int d = 1;
    while (v >= 10) {
      v /= 10;
      d++;
    }
    return d;
  }

  /** Writes {@code v >= 0} in decimal at {@code i}; returns the index after it. */
  private static int putDigits(long v, byte[] b, int i) {
    int end = i + digits(v);
    for (int k = end - 1; k >= i; k--) {
      b[k] = (byte) ('0' + (int) (v % 10));
      v /= 10;
    }
    return end;
  }

  private static int put(byte[] src, byte[] b, int i) {
    System.arraycopy(src, 0, b, i, src.length);
    return i + src.length;
  }

  /**
   * The broadcast frame of {@code m}, identical for every subscriber (subId ""): {@code
   * event(BROADCAST, "", m)} written straight into one builder: the text a generator
   * writes (a test holds the two equal), without one, and with the content's literal as the
   * publisher sent it when the event has it (the escaping of the content is most of the work
   * otherwise: it is JSON inside a JSON string).
   */
  public static String broadcast(StreamMessage m) {
    String contentJson = m.contentJson();
    JsonStringEncoder quote = JsonStringEncoder.getInstance();
    int content = contentJson != null
        ? contentJson.length() : m.content().length() + m.content().length() / 4;
    StringBuilder b = new StringBuilder(96 + m.streamId().length() + content);
    b.append("[0,").append(BROADCAST).append(",\"\",[").append(StreamMessage.VERSION).append(",\"");
    quote.quoteAsString(m.streamId(), b);
    b.append("\",").append(m.partition())
        .append(',').append(m.timestamp())
        .append(',').append(m.ttl())
        .append(',').append(m.offset())
        .append(',').append(m.previousOffset() == null ? "null" : m.previousOffset().toString())
        .append(',').append(StreamMessage.CONTENT_TYPE_JSON).append(',');
    if (contentJson != null) {
      b.append(contentJson);
    } else {
      b.append('"');
      quote.quoteAsString(m.content(), b);
      b.append('"');
    }
    return b.append("]]").toString();
  }

  /** The broadcast frame as a generator writes it (tests check {@link #broadcast}). */
  static String broadcastByGenerator(StreamMessage m) {
    return event(BROADCAST, "", m);
  }

  public static String unicast(String subId, StreamMessage m) {
    return event(UNICAST, subId, m);
  }

  public static String subscribed(String stream, int partition) {
    return control(SUBSCRIBED, stream, partition, null, null);
  }

  /** A failed subscribe, answered as {@code subscribed} with an {@code error} field. */
  public static String subscribedWithError(String stream, int partition, String error) {
    return control(SUBSCRIBED, stream, partition, null, error);
  }

  public static String unsubscribed(String stream, int partition) {
    return control(UNSUBSCRIBED, stream, partition, null, null);
  }

  public static String resending(String stream, int partition, String sub) {
    return control(RESENDING, stream, partition, sub, null);
  }

  public static String resent(String stream, int partition, String sub) {
    return control(RESENT, stream, partition, sub, null);
  }

  public static String noResend(String stream, int partition, String sub) {
    return control(NO_RESEND, stream, partition, sub, null);
  }

  /** @param requestType the request's type, or null when it could not be read */
  public static String error(String error, String requestType) {
    return write(g -> {
      header(g, ERROR, "");
      g.writeStartObject();
      g.writeStringField("error", error);
      if (requestType == null) {
        g.writeNullField("request");
      } else {
        g.writeStringField("request", requestType);
      }
      g.writeEndObject();
      g.writeEndArray();
    });
  }

  /** The payload array alone: {@code [28, streamId, partition, ts, ttl, offset, prev, 27, content]}. */
  public static String eventArray(StreamMessage m) {
    return write(g -> writeEvent(g, m));
  }

  /** Writes the payload array of an event to a generator (REST responses reuse it). */
  public static void writeEvent(JsonGenerator g, StreamMessage m) throws IOException {
    g.writeStartArray();
    g.writeNumber(StreamMessage.VERSION);
    g.writeString(m.streamId());
    g.writeNumber(m.partition());
    g.writeNumber(m.timestamp());
    g.writeNumber(m.ttl());
    g.writeNumber(m.offset());
    if (m.previousOffset() == null) {
      g.writeNull();
    } else {
      g.writeNumber(m.previousOffset());
    }
    g.writeNumber(StreamMessage.CONTENT_TYPE_JSON);
    g.writeString(m.content());
    g.writeEndArray();
  }

  private static String event(int type, String subId, StreamMessage m) {
    return write(g -> {
      header(g, type, subId);
      writeEvent(g, m);
      g.writeEndArray();
    });
  }

  private static String control(int type, String stream, int partition, String sub, String error) {
    return write(g -> {
      header(g, type, "");
      g.writeStartObject();
      g.writeStringField("stream", stream);
      g.writeNumberField("partition", partition);
      if (sub != null) {
        g.writeStringField("sub", sub);
      }
      if (error != null) {
        g.writeStringField("error", error);
      }
      g.writeEndObject();
      g.writeEndArray();
    });
  }

  private static void header(JsonGenerator g, int type, String subId) throws IOException {
    g.writeStartArray();
    g.writeNumber(0);
    g.writeNumber(type);
    g.writeString(subId == null ? "" : subId);
  }

  private interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  private static String write(Body body) {
    StringWriter out = new StringWriter(128);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException("writing to a StringWriter cannot fail", e);
    }
    return out.toString();
  }
}
