package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CanonicalJsonTest {

  @Test
  void sortsKeysRecursivelyAndDropsWhitespace() {
    String a = CanonicalJson.of(CanonicalJson.parse("{ \"b\": 1, \"a\": {\"z\": [ {\"y\":1, \"x\":2} ], \"c\": null} }"));
    assertEquals("{\"a\":{\"c\":null,\"z\":[{\"x\":2,\"y\":1}]},\"b\":1}", a);
  }

  @Test
  void keyOrderDoesNotChangeIdentityButArrayOrderDoes() {
    assertEquals(
        CanonicalJson.of(CanonicalJson.parse("{\"type\":\"object\",\"required\":[\"a\"]}")),
        CanonicalJson.of(CanonicalJson.parse("{\"required\":[\"a\"],  \"type\":\"object\"}")));
    assertNotEquals(
        CanonicalJson.of(CanonicalJson.parse("[1,2]")), CanonicalJson.of(CanonicalJson.parse("[2,1]")));
  }

  @Test
  void digestIsSha256OfCanonicalText() {
    // Known answer: sha256("{\"a\":1,\"b\":2}") computed independently (sha256sum).
    assertEquals(
        "43258cff783fe7036d8a43033f830adfc60ec037382473548ac742b888292777",
        EventDigest.of(CanonicalJson.parse("{\"b\":2,\"a\":1}")));
  }

  @Test
  void oneLoopWriterGivesTheSameTextAsWritingTheSortedCopy() throws Exception {
    // The canonical text identifies subscriptions and digests events across nodes: the
    // one-pass writer must give exactly what the mapper gives for the sorted copy.
    com.fasterxml.jackson.databind.node.JsonNodeFactory f = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < 2000; i++) {
      com.fasterxml.jackson.databind.JsonNode tree = randomTree(f, random, 0);
      String expected = CanonicalJson.mapper().writeValueAsString(CanonicalJson.sorted(tree));
      assertEquals(expected, CanonicalJson.of(tree), tree::toString);
    }
    String text = "{\"z\":1e400,\"y\":-0.0,\"x\":12345678901234567890123,\"w\":1.5E-7,\"v\":\"\\u0000\\u001f\\\"\\\\/\u00e9\u20ac\ud83d\ude00\","
        + "\"\u00e9\":[true,false,null,{}],\"A\":[],\"a\":9007199254740993,\"b\":2147483648,\"c\":-2147483649}";
    com.fasterxml.jackson.databind.JsonNode parsed = CanonicalJson.parse(text);
    assertEquals(CanonicalJson.mapper().writeValueAsString(CanonicalJson.sorted(parsed)), CanonicalJson.of(parsed));
    // UTF-8 bytes (as events cross the cluster) parse to the same tree as the text.
    String canonical = CanonicalJson.of(parsed);
    assertEquals(CanonicalJson.parse(canonical), CanonicalJson.parse(canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    com.fasterxml.jackson.databind.node.ObjectNode exotic = f.objectNode();
    exotic.put("f", 1.25f).put("s", (short) 7).put("d", new java.math.BigDecimal("1.000")).put("i", java.math.BigInteger.TEN.pow(30))
        .put("bin", new byte[] {1, 2, 3}).putPOJO("pojo", java.util.Map.of("b", 1, "a", 2));
    assertEquals(CanonicalJson.mapper().writeValueAsString(CanonicalJson.sorted(exotic)), CanonicalJson.of(exotic));
  }

  private static com.fasterxml.jackson.databind.JsonNode randomTree(
      com.fasterxml.jackson.databind.node.JsonNodeFactory f, java.util.Random r, int depth) {
    int kind = depth > 3 ? 2 + r.nextInt(6) : r.nextInt(8);
    switch (kind) {
      case 0: {
        com.fasterxml.jackson.databind.node.ObjectNode o = f.objectNode();
        for (int i = r.nextInt(6); i > 0; i--) {
          o.set(randomString(r), randomTree(f, r, depth + 1));
        }
        return o;
      }
      case 1: {
        com.fasterxml.jackson.databind.node.ArrayNode a = f.arrayNode();
        for (int i = r.nextInt(5); i > 0; i--) {
          a.add(randomTree(f, r, depth + 1));
        }
        return a;
      }
      case 2: return f.textNode(randomString(r));
      case 3: return f.numberNode(r.nextInt());
      case 4: return f.numberNode(r.nextLong());
      case 5: return f.numberNode(r.nextBoolean() ? r.nextDouble() * Math.pow(10, r.nextInt(40) - 20) : -r.nextGaussian());
      case 6: return f.booleanNode(r.nextBoolean());
      default: return f.nullNode();
    }
  }

  private static String randomString(java.util.Random r) {
    String alphabet = "abcAB_ \"\\/\n\t\u0001\u00e9\u20ac\ud83d\ude00z";
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(6); i > 0; i--) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  @Test
  void notJsonIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.parse("{\"a\":"));
    assertEquals(true, e.getMessage().startsWith("not valid JSON"));
  }
}
