package io.peernode.protocol.userapi;

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

  /** Canonical text of {@code value}. */
  public static String of(JsonNode value) {
    try {
      return MAPPER.writeValueAsString(sorted(value));
    } catch (JsonProcessingException e) {
      // A JsonNode tree is always writable; this is not reachable with valid trees.
      throw new IllegalStateException("cannot write JSON tree", e);
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
