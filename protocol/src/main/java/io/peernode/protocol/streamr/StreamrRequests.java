package io.peernode.protocol.streamr;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.protocol.streamr.StreamrRequest.ResendSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Parses WebSocket text frames into {@link StreamrRequest}s. Never throws on bad input: every
 * problem becomes a {@link Result.Invalid} whose message names it, ready to be sent back as a
 * type 7 error while the connection stays open. Unknown fields are ignored (clients send their
 * resend options along with {@code subscribe}).
 */
public final class StreamrRequests {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final int maxMessageBytes;

  /** @param maxMessageBytes the largest {@code msg} accepted, in UTF-8 bytes */
  public StreamrRequests(int maxMessageBytes) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Outcome of parsing one frame. */
  public sealed interface Result {
    record Ok(StreamrRequest request) implements Result {}

    /**
     * @param error what was wrong, for the client
     * @param requestType the request's {@code type} if it could be read, else null
     */
    record Invalid(String error, String requestType) implements Result {}
  }

  /** Thrown inside the parser only, turned into {@link Result.Invalid} at its edge. */
  private static final class Bad extends Exception {
    Bad(String message) {
      super(message, null, false, false);
    }
  }

  public Result parse(String text) {
    StreamrRequest.Publish publish = PublishScanner.scan(text);
    if (publish == null || bytesOverLimit(publish.msg()) >= 0) publish = publishFast(text);
    return publish != null ? new Result.Ok(publish) : parseTree(text);
  }

  /** {@link #parse} without the scanner: Jackson's streaming parser, then the tree. */
  Result parseStreaming(String text) {
    StreamrRequest.Publish publish = publishFast(text);
    return publish != null ? new Result.Ok(publish) : parseTree(text);
  }

  /** {@link #parse} through the tree only (the fast path is checked against it). */
  Result parseTree(String text) {
    JsonNode root;
    try {
      root = MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      return new Result.Invalid("request is not valid JSON: " + e.getOriginalMessage(), null);
    }
    if (root == null || root.isMissingNode()) {
      return new Result.Invalid("request is empty", null);
    }
    if (!root.isObject()) {
      return new Result.Invalid(
          "request must be a JSON object, got " + root.getNodeType().name().toLowerCase(), null);
    }
    JsonNode typeNode = root.get("type");
    if (typeNode == null || typeNode.isNull()) {
      return new Result.Invalid("missing field 'type'", null);
    }
    if (!typeNode.isTextual()) {
      return new Result.Invalid("field 'type' must be a string", null);
    }
    String type = typeNode.textValue();
    try {
      switch (type) {
        case "publish":
          return new Result.Ok(publish(root));
        case "subscribe":
          return new Result.Ok(
              new StreamrRequest.Subscribe(stream(root), partition(root), authKey(root)));
        case "unsubscribe":
          return new Result.Ok(
              new StreamrRequest.Unsubscribe(stream(root), partition(root), authKey(root)));
        case "resend":
          return new Result.Ok(resend(root));
        default:
          return new Result.Invalid(
              "unknown request type '" + type
                  + "' (expected publish, subscribe, unsubscribe or resend)",
              type);
      }
    } catch (Bad e) {
      return new Result.Invalid(e.getMessage(), type);
    }
  }

  /**
   * A well-formed publish read with the streaming parser, without building a tree, for what
   * {@link PublishScanner} leaves to it (a nested value or a number in an unknown field). Null
   * for anything else (another type, a field of an unexpected kind, bad JSON, trailing input,
   * a msg over the limit): {@link #parse} then reads the request as a tree, which gives the
   * same result for a good publish and names the problem of a bad one.
   */
  private StreamrRequest.Publish publishFast(String text) {
    String type = null;
    String stream = null;
    String msg = null;
    String msgJson = null;
    String authKey = null;
    OptionalLong ts = OptionalLong.empty();
    Optional<String> pkey = Optional.empty();
    try (JsonParser p = MAPPER.getFactory().createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) return null;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String field = p.getCurrentName();
        JsonToken v = p.nextToken();
        switch (field) {
          case "type":
            if (v != JsonToken.VALUE_STRING) return null;
            type = p.getText();
            if (!type.equals("publish")) return null;
            break;
          case "stream":
            if (v != JsonToken.VALUE_STRING) return null;
            stream = p.getText();
            break;
          case "msg":
            if (v != JsonToken.VALUE_STRING) return null;
            long start = p.getTokenLocation().getCharOffset();
            msg = p.getText();
            msgJson = literal(text, start, p.getCurrentLocation().getCharOffset());
            break;
          case "authKey":
            if (v == JsonToken.VALUE_NULL) {
              authKey = null;
            } else if (v == JsonToken.VALUE_STRING) {
              authKey = p.getText();
            } else {
              return null;
            }
            break;
          case "ts":
            if (v == JsonToken.VALUE_NULL) {
              ts = OptionalLong.empty();
            } else if (v == JsonToken.VALUE_NUMBER_INT
                && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                && p.getLongValue() >= 0) {
              ts = OptionalLong.of(p.getLongValue());
            } else {
              return null;
            }
            break;
          case "pkey":
            if (v == JsonToken.VALUE_NULL) {
              pkey = Optional.empty();
            } else if (v == JsonToken.VALUE_STRING) {
              pkey = Optional.of(p.getText());
            } else {
              return null; // numbers are written as the tree writes them: let it
            }
            break;
          default:
            p.skipChildren(); // unknown fields are ignored
        }
      }
      if (p.nextToken() != null) return null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (type == null || stream == null || stream.isEmpty() || msg == null) return null;
    if (bytesOverLimit(msg) >= 0) return null;
    return new StreamrRequest.Publish(stream, key(authKey), msg, ts, pkey, msgJson);
  }

  /** An {@code authKey} as requests carry it: null and empty both mean none. */
  static Optional<String> key(String authKey) {
    return authKey == null || authKey.isEmpty() ? Optional.empty() : Optional.of(authKey);
  }

  /**
   * The string literal that the parser just read, from its opening quote at {@code start} to
   * its closing one before {@code end}; null if the offsets do not frame one (the parser
   * validated what is between: escapes and control characters).
   */
  private static String literal(String text, long start, long end) {
    if (start < 0 || end > text.length() || end - start < 2
        || text.charAt((int) start) != '"' || text.charAt((int) end - 1) != '"') {
      return null;
    }
    return text.substring((int) start, (int) end);
  }

  /** The UTF-8 length of {@code msg} when it is over the limit, else -1. */
  private int bytesOverLimit(String msg) {
    // Cheap bound first: a UTF-8 char is at most 3 bytes per UTF-16 unit.
    if ((long) msg.length() * 3 <= maxMessageBytes) return -1;
    int bytes = msg.getBytes(StandardCharsets.UTF_8).length;
    return bytes > maxMessageBytes ? bytes : -1;
  }

  private StreamrRequest.Publish publish(JsonNode root) throws Bad {
    String stream = stream(root);
    JsonNode msg = root.get("msg");
    if (msg == null || msg.isNull()) {
      throw new Bad("missing field 'msg'");
    }
    if (!msg.isTextual()) {
      throw new Bad(
          "field 'msg' must be a JSON string (the event as stringified JSON), got "
              + msg.getNodeType().name().toLowerCase());
    }
    String content = msg.textValue();
    int bytes = bytesOverLimit(content);
    if (bytes >= 0) {
      throw new Bad(
          "field 'msg' is " + bytes + " bytes, more than the limit of " + maxMessageBytes);
    }
    OptionalLong ts = OptionalLong.empty();
    JsonNode tsNode = root.get("ts");
    if (tsNode != null && !tsNode.isNull()) {
      if (!tsNode.canConvertToLong() || !tsNode.isIntegralNumber() || tsNode.longValue() < 0) {
        throw new Bad("field 'ts' must be a non-negative integer (epoch milliseconds)");
      }
      ts = OptionalLong.of(tsNode.longValue());
    }
    Optional<String> pkey = Optional.empty();
    JsonNode pkeyNode = root.get("pkey");
    if (pkeyNode != null && !pkeyNode.isNull()) {
      if (!pkeyNode.isValueNode()) {
        throw new Bad("field 'pkey' must be a string or a number");
      }
      pkey = Optional.of(pkeyNode.asText());
    }
    return new StreamrRequest.Publish(stream, authKey(root), content, ts, pkey);
  }

  private StreamrRequest.Resend resend(JsonNode root) throws Bad {
    String stream = stream(root);
    int partition = partition(root);
    JsonNode subNode = root.get("sub");
    if (subNode == null || subNode.isNull()) {
      throw new Bad("missing field 'sub' (the subscription id resent events are sent to)");
    }
    if (!subNode.isValueNode()) {
      throw new Bad("field 'sub' must be a string");
    }
    String sub = subNode.asText();
    ResendSpec spec;
    JsonNode all = root.get("resend_all");
    JsonNode last = root.get("resend_last");
    JsonNode from = root.get("resend_from");
    JsonNode fromTime = root.get("resend_from_time");
    if (present(all)) {
      if (!all.isBoolean() || !all.booleanValue()) {
        throw new Bad("field 'resend_all' must be true");
      }
      spec = new ResendSpec.All();
    } else if (present(last)) {
      spec = new ResendSpec.Last(nonNegative(last, "resend_last"));
    } else if (present(from)) {
      long f = nonNegative(from, "resend_from");
      JsonNode to = root.get("resend_to");
      OptionalLong t = OptionalLong.empty();
      if (present(to)) {
        long tv = nonNegative(to, "resend_to");
        if (tv < f) {
          throw new Bad("field 'resend_to' (" + tv + ") is before 'resend_from' (" + f + ")");
        }
        t = OptionalLong.of(tv);
      }
      spec = new ResendSpec.FromOffset(f, t);
    } else if (present(fromTime)) {
      spec = new ResendSpec.FromTime(nonNegative(fromTime, "resend_from_time"));
    } else {
      throw new Bad(
          "resend needs one of resend_all, resend_last, resend_from or resend_from_time");
    }
    return new StreamrRequest.Resend(stream, partition, sub, authKey(root), spec);
  }

  private static boolean present(JsonNode n) {
    return n != null && !n.isNull();
  }

  private static long nonNegative(JsonNode n, String field) throws Bad {
    if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
      throw new Bad("field '" + field + "' must be a non-negative integer");
    }
    return n.longValue();
  }

  private static String stream(JsonNode root) throws Bad {
    JsonNode s = root.get("stream");
    if (s == null || s.isNull()) {
      throw new Bad("missing field 'stream'");
    }
    if (!s.isTextual() || s.textValue().isEmpty()) {
      throw new Bad("field 'stream' must be a non-empty string");
    }
    return s.textValue();
  }

  /** Optional, default 0; upper bound is the stream's, checked where the stream is known. */
  private static int partition(JsonNode root) throws Bad {
    JsonNode p = root.get("partition");
    if (p == null || p.isNull()) {
      return 0;
    }
    if (!p.isIntegralNumber() || !p.canConvertToInt() || p.intValue() < 0) {
      throw new Bad("bad partition " + p + ": must be a non-negative integer");
    }
    return p.intValue();
  }

  private static Optional<String> authKey(JsonNode root) throws Bad {
    JsonNode k = root.get("authKey");
    if (k == null || k.isNull()) {
      return Optional.empty();
    }
    if (!k.isTextual()) {
      throw new Bad("field 'authKey' must be a string");
    }
    return key(k.textValue());
  }
}
