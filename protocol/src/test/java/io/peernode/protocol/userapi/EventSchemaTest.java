package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EventSchemaTest {

  private static EventSchema schema(String json) {
    return EventSchema.compile(CanonicalJson.parse(json));
  }

  private static boolean matches(EventSchema s, String event) {
    return s.matches(CanonicalJson.parse(event));
  }

  @Test
  void storjnetStyleSchemaMatchesBooleansEnumsAndRanges() {
    EventSchema s = schema(
        "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
            + "\"properties\":{\"online\":{\"type\":\"boolean\",\"const\":true},"
            + "\"region\":{\"enum\":[\"eu\",\"us\"]},"
            + "\"load\":{\"type\":\"number\",\"minimum\":0,\"exclusiveMaximum\":1}},"
            + "\"required\":[\"online\",\"region\",\"load\"]}");
    assertTrue(matches(s, "{\"online\":true,\"region\":\"eu\",\"load\":0.5}"));
    assertFalse(matches(s, "{\"online\":false,\"region\":\"eu\",\"load\":0.5}"));
    assertFalse(matches(s, "{\"online\":true,\"region\":\"asia\",\"load\":0.5}"));
    assertFalse(matches(s, "{\"online\":true,\"region\":\"eu\",\"load\":1}"));
    assertFalse(matches(s, "{\"online\":true,\"region\":\"eu\"}"));
  }

  @Test
  void draft2020KeywordsWork() {
    EventSchema s = schema(
        "{\"type\":\"object\",\"$defs\":{\"tag\":{\"type\":\"string\",\"minLength\":2}},"
            + "\"properties\":{\"tags\":{\"type\":\"array\",\"prefixItems\":[{\"$ref\":\"#/$defs/tag\"}]}},"
            + "\"unevaluatedProperties\":false}");
    assertTrue(matches(s, "{\"tags\":[\"ab\",1]}"));
    assertFalse(matches(s, "{\"tags\":[\"a\"]}"));
    assertFalse(matches(s, "{\"tags\":[],\"other\":1}"));
  }

  @Test
  void identityIsCanonicalJson() {
    assertEquals(schema("{\"type\":\"object\",\"minProperties\":1}"), schema("{ \"minProperties\":1, \"type\":\"object\" }"));
    assertEquals("{\"minProperties\":1,\"type\":\"object\"}", schema("{\"type\":\"object\",\"minProperties\":1}").canonical());
  }

  @Test
  void notAJsonSchemaIsRefusedWithTheReason() {
    InvalidSchemaException e = assertThrows(InvalidSchemaException.class, () -> schema("{\"type\":\"objekt\"}"));
    assertTrue(e.getMessage().startsWith("not a valid JSON Schema"), e.getMessage());
    e = assertThrows(InvalidSchemaException.class, () -> schema("{\"minimum\":\"three\"}"));
    assertTrue(e.getMessage().contains("JSON Schema"), e.getMessage());
    e = assertThrows(InvalidSchemaException.class, () -> schema("{\"required\":\"a\"}"));
    assertTrue(e.getMessage().contains("JSON Schema"), e.getMessage());
    e = assertThrows(InvalidSchemaException.class, () -> schema("[1,2]"));
    assertTrue(e.getMessage().contains("object or a boolean"), e.getMessage());
  }

  @Test
  void remoteReferencesAreRefused() {
    InvalidSchemaException e = assertThrows(InvalidSchemaException.class, () -> schema("{\"$ref\":\"http://127.0.0.1:9/x.json\"}"));
    assertTrue(e.getMessage().contains("not a usable JSON Schema"), e.getMessage());
  }

  @Test
  void booleanSchemas() {
    assertTrue(matches(schema("true"), "{\"a\":1}"));
    assertFalse(matches(schema("false"), "{\"a\":1}"));
  }

  @Test
  void oneSchemaValidatesOnManyThreadsAtOnce() throws Exception {
    // Events are validated on publishing callers' threads and on the actor: the answers must
    // not depend on what another thread validates at the same time.
    EventSchema s = schema("{\"type\":\"object\",\"properties\":{\"n\":{\"multipleOf\":2},\"t\":{\"enum\":[\"a\",\"b\"]}},\"required\":[\"n\",\"t\"]}");
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      java.util.List<java.util.concurrent.Future<Integer>> wrong = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t;
        wrong.add(pool.submit(() -> {
          int bad = 0;
          for (int i = 0; i < 20_000; i++) {
            int n = i + offset;
            String tag = n % 3 == 0 ? "c" : "a";
            boolean expected = n % 2 == 0 && !tag.equals("c");
            if (s.matches(EventSchema.Event.of(CanonicalJson.parse("{\"n\":" + n + ",\"t\":\"" + tag + "\"}"))) != expected) {
              bad++;
            }
          }
          return bad;
        }));
      }
      for (java.util.concurrent.Future<Integer> f : wrong) {
        assertEquals(0, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
