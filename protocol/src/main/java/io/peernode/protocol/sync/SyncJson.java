package io.peernode.protocol.sync;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** The one JSON configuration of the sync protocol: strict on input, deterministic on output. */
public final class SyncJson {

  /**
   * Deeper JSON is refused before tree parsing: Jackson 2.11 builds trees recursively, so a 64 KiB
   * frame of {@code [[[[...} would otherwise overflow the stack. No sync message nests deeper than 2.
   */
  public static final int MAX_DEPTH = 16;

  public static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final ObjectReader READER =
      MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final JsonFactory FACTORY = MAPPER.getFactory();

  private SyncJson() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** Parses a frame's JSON bytes into an object, refusing anything that is not exactly one object. */
  public static ObjectNode parseObject(byte[] json) throws FrameException {
    checkDepth(json);
    JsonNode node;
    try {
      node = READER.readTree(json);
    } catch (IOException | RuntimeException e) {
      throw new FrameException("JSON does not parse: " + firstLine(e.getMessage()));
    }
    if (node == null || !node.isObject()) {
      throw new FrameException("JSON payload is not an object");
    }
    return (ObjectNode) node;
  }

  public static byte[] bytes(ObjectNode json) {
    try {
      return MAPPER.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
  }

  private static void checkDepth(byte[] json) throws FrameException {
    try (JsonParser p = FACTORY.createParser(json)) {
      int depth = 0;
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          if (++depth > MAX_DEPTH) {
            throw new FrameException("JSON nests deeper than " + MAX_DEPTH);
          }
        } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          depth--;
        }
      }
    } catch (IOException | RuntimeException e) {
      throw new FrameException("JSON does not parse: " + firstLine(e.getMessage()));
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
