package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Verdicts by projection (EventSchema's kept verdicts) against json-sKema validating the whole
 * event: the same answer for every schema and event, over generated schemas that use the keywords
 * the projection knows and those it does not, and events that share projections (so that kept
 * verdicts are hit) and differ in what the validator could tell apart (number types, nulls,
 * key order, nesting, absent properties).
 */
class EventSchemaProjectionTest {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final String[] NAMES = {"a", "b", "topic", "n"};

  private static EventSchema schema(String json) {
    return EventSchema.compile(CanonicalJson.parse(json));
  }

  @Test
  void readsOnlyTheNamedPropertiesOfKnownKeywords() {
    assertEquals(List.of("topic"), schema("{\"type\":\"object\",\"properties\":{\"topic\":{\"const\":\"bench\"}},\"required\":[\"topic\"]}").reads());
    assertEquals(List.of(), schema("{\"type\":\"object\"}").reads());
    assertEquals(List.of(), schema("true").reads());
    assertEquals(List.of("a", "b", "c", "d"), schema("{\"anyOf\":[{\"required\":[\"a\"]},{\"not\":{\"properties\":{\"b\":{\"$ref\":\"#\"}}}}],"
        + "\"dependentRequired\":{\"c\":[\"d\"]},\"$defs\":{\"x\":{\"const\":1}},\"title\":\"t\"}").reads());
    assertNull(schema("{\"properties\":{\"a\":true},\"additionalProperties\":false}").reads());
    assertNull(schema("{\"const\":{\"a\":1}}").reads());
    assertNull(schema("{\"allOf\":[{\"minProperties\":1}]}").reads());
    assertNull(schema("{\"$ref\":\"#/$defs/x\",\"$defs\":{\"x\":{\"required\":[\"a\"]}}}").reads());
  }

  @Test
  void keysTellApartWhatTheValidatorTellsApart() {
    String[] names = {"a"};
    List<JsonNode> values = List.of(F.numberNode(1), F.numberNode(1L), F.numberNode(1.0), F.numberNode(1.0f),
        F.numberNode(BigInteger.ONE), DecimalNode.valueOf(new BigDecimal("1.0")), DecimalNode.valueOf(new BigDecimal("1.00")),
        F.textNode("1"), F.textNode(""), F.nullNode(), F.booleanNode(true), F.arrayNode(), F.objectNode(),
        F.arrayNode().add(F.arrayNode()), F.arrayNode().add(1).add(2), F.arrayNode().add(12),
        F.objectNode().put("x", 1).put("y", 2), F.objectNode().put("y", 2).put("x", 1), F.textNode("a:1"), F.textNode("1:a"));
    List<String> keys = new ArrayList<>();
    for (JsonNode v : values) {
      ObjectNode e = F.objectNode();
      e.set("a", v);
      keys.add(EventSchema.projectionKey(e, names));
    }
    keys.add(EventSchema.projectionKey(F.objectNode(), names));
    assertEquals(keys.size(), new java.util.HashSet<>(keys).size(), keys.toString());
    // Other properties do not count.
    assertEquals(EventSchema.projectionKey(F.objectNode().put("a", 1), names),
        EventSchema.projectionKey(F.objectNode().put("z", "x".repeat(500)).put("a", 1), names));
    // Too large to keep.
    assertNull(EventSchema.projectionKey(F.objectNode().put("a", "x".repeat(EventSchema.MAX_KEY_CHARS)), names));
    assertNotNull(EventSchema.projectionKey(F.objectNode().put("a", "x".repeat(EventSchema.MAX_KEY_CHARS - 10)), names));
    assertNotEquals(EventSchema.projectionKey(F.objectNode().put("a", 1), new String[] {"a", "b"}),
        EventSchema.projectionKey(F.objectNode().put("b", 1), new String[] {"a", "b"}));
  }

  @Test
  void sameVerdictsAsTheWholeEventForGeneratedSchemasAndEvents() {
    Random r = new Random(20261201);
    int schemas = 0;
    int projected = 0;
    long compared = 0;
    long matched = 0;
    List<JsonNode> events = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      events.add(event(r, 0));
    }
    while (schemas < 400) {
      JsonNode doc = rootSchema(r, 0);
      EventSchema s;
      try {
        s = EventSchema.compile(doc);
      } catch (InvalidSchemaException e) {
        continue; // the generator may write a schema the meta-schema refuses
      }
      schemas++;
      if (s.reads() != null) {
        projected++;
      }
      for (int round = 0; round < 2; round++) { // the second round meets the kept verdicts
        for (JsonNode e : events) {
          boolean whole = s.matchesWhole(EventSchema.Event.of(e));
          boolean fast = s.matches(EventSchema.Event.of(e));
          if (whole != fast) {
            throw new AssertionError("schema " + s.canonical() + " event " + e + ": json-sKema says " + whole + ", projection " + fast);
          }
          compared++;
          matched += whole ? 1 : 0;
        }
      }
    }
    // The generator exercises both paths and both verdicts.
    assertTrue(projected > 100 && projected < 390, "projected " + projected);
    assertTrue(matched > compared / 20 && matched < compared * 19 / 20, matched + " of " + compared);
  }

  @Test
  void aSchemaWhoseProjectionsRarelyRepeatStillAnswersRight() {
    EventSchema s = schema("{\"properties\":{\"n\":{\"multipleOf\":3}},\"required\":[\"n\"]}");
    for (int i = 0; i < 60_000; i++) {
      assertEquals(i % 3 == 0, s.matches(EventSchema.Event.of(F.objectNode().put("n", i).put("pad", "x"))), "n=" + i);
    }
  }

  // ---- generators

  private static JsonNode rootSchema(Random r, int depth) {
    if (r.nextInt(12) == 0) {
      return F.booleanNode(r.nextInt(4) != 0);
    }
    ObjectNode s = F.objectNode();
    int keywords = 1 + r.nextInt(3);
    for (int k = 0; k < keywords; k++) {
      switch (r.nextInt(depth < 2 ? 16 : 10)) {
        case 0 -> s.put("type", pick(r, "object", "object", "string", "null"));
        case 1, 2 -> {
          ObjectNode props = s.has("properties") ? (ObjectNode) s.get("properties") : s.putObject("properties");
          props.set(pick(r, NAMES), valueSchema(r, depth + 1));
        }
        case 3 -> names(r, s.putArray("required"));
        case 4 -> names(r, s.putObject("dependentRequired").putArray(pick(r, NAMES)));
        case 5 -> s.put("title", "t").put("$comment", "c");
        case 6 -> s.putObject("$defs").set("d", valueSchema(r, depth + 1));
        case 7 -> s.set("const", event(r, 2));
        case 8 -> s.put("minProperties", r.nextInt(3));
        case 9 -> s.put("additionalProperties", r.nextBoolean());
        case 10 -> s.putObject("dependentSchemas").set(pick(r, NAMES), rootSchema(r, depth + 1));
        case 11, 12 -> {
          ArrayNode subs = s.putArray(pick(r, "allOf", "anyOf", "oneOf"));
          for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
            subs.add(rootSchema(r, depth + 1));
          }
        }
        case 13 -> s.set("not", rootSchema(r, depth + 1));
        case 14 -> {
          s.set("if", rootSchema(r, depth + 1));
          s.set(pick(r, "then", "else"), rootSchema(r, depth + 1));
        }
        default -> s.putObject("patternProperties").set("^t", valueSchema(r, depth + 1));
      }
    }
    return s;
  }

  private static JsonNode valueSchema(Random r, int depth) {
    ObjectNode s = F.objectNode();
    switch (r.nextInt(depth < 3 ? 17 : 12)) {
      case 0 -> s.put("type", pick(r, "integer", "number", "string", "boolean", "null", "array", "object"));
      case 1 -> s.putArray("type").add(pick(r, "integer", "string")).add(pick(r, "null", "number"));
      case 2 -> s.set("const", value(r, 2));
      case 3 -> s.putArray("enum").add(value(r, 2)).add(value(r, 2)).add(value(r, 2));
      case 4 -> s.put("minimum", r.nextInt(5) - 1);
      case 5 -> s.put("exclusiveMaximum", r.nextBoolean() ? 1.5 : 2);
      case 6 -> s.put("multipleOf", pick(r, "2", "0.5", "3")).replace("multipleOf", CanonicalJson.parse(pick(r, "2", "0.5", "3")));
      case 7 -> s.put("minLength", r.nextInt(3));
      case 8 -> s.put("pattern", pick(r, "^b", "x$", "[0-9]"));
      case 9 -> s.put("$ref", "#/$defs/d");
      case 10 -> s.put("uniqueItems", true);
      case 11 -> s.put("format", pick(r, "email", "date", "ipv4"));
      case 12 -> s.set("items", valueSchema(r, depth + 1));
      case 13 -> s.set("properties", F.objectNode().set(pick(r, NAMES), valueSchema(r, depth + 1)));
      case 14 -> s.put("additionalProperties", false).set("properties", F.objectNode().set("x", valueSchema(r, depth + 1)));
      case 15 -> s.put("$ref", "#");
      default -> s.set("anyOf", F.arrayNode().add(valueSchema(r, depth + 1)).add(valueSchema(r, depth + 1)));
    }
    if (r.nextInt(4) == 0) {
      s.put("type", pick(r, "integer", "number", "string", "array", "object"));
    }
    return s;
  }

  private static void names(Random r, ArrayNode out) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (int i = 0, n = 1 + r.nextInt(2); i < n; i++) {
      names.add(pick(r, NAMES));
    }
    names.forEach(out::add);
  }

  /** Events: few distinct projections on purpose, so kept verdicts are met. */
  private static JsonNode event(Random r, int depth) {
    ObjectNode e = F.objectNode();
    List<String> names = new ArrayList<>(List.of(NAMES));
    names.add("other");
    java.util.Collections.shuffle(names, r);
    for (String name : names) {
      if (r.nextInt(3) != 0) {
        e.set(name, depth > 1 ? F.numberNode(r.nextInt(3)) : value(r, depth + 1));
      }
    }
    return e;
  }

  private static JsonNode value(Random r, int depth) {
    switch (r.nextInt(depth < 3 ? 22 : 16)) {
      case 0: return F.numberNode(r.nextInt(4) - 1);
      case 1: return F.numberNode((long) r.nextInt(3));
      case 2: return F.numberNode(pick(r, 1.0, 1.5, 0.5, -0.0, 2.0, 3.0000001));
      case 3: return F.numberNode(pick(r, 1.0f, 0.1f, 1.5f));
      case 4: return DecimalNode.valueOf(new BigDecimal(pick(r, "1.0", "1.50", "2", "0.1", "3")));
      case 5: return F.numberNode(BigInteger.valueOf(r.nextInt(3)).shiftLeft(r.nextBoolean() ? 0 : 70));
      case 6: case 7: return F.textNode(pick(r, "bench", "b", "", "x1", "a@b.c", "2026-12-01", "1.2.3.4", "\uD83D\uDE00", "bb"));
      case 8: return F.booleanNode(r.nextBoolean());
      case 9: return F.nullNode();
      case 10: case 11: return F.textNode("bench");
      case 12: return F.numberNode(2);
      case 13: return F.numberNode(Integer.MAX_VALUE + 1L);
      case 14: return F.numberNode(3);
      case 15: return F.textNode(pick(r, "a", "ab", "abc"));
      case 16: case 17: {
        ArrayNode a = F.arrayNode();
        for (int i = 0, n = r.nextInt(3); i < n; i++) {
          a.add(value(r, depth + 1));
        }
        return a;
      }
      default: {
        ObjectNode o = F.objectNode();
        for (int i = 0, n = r.nextInt(3); i < n; i++) {
          o.set(pick(r, "x", "y", "a", "topic"), value(r, depth + 1));
        }
        return o;
      }
    }
  }

  @SafeVarargs
  private static <T> T pick(Random r, T... options) {
    return options[r.nextInt(options.length)];
  }
}
