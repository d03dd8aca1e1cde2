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
}
