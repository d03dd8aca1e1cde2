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
  void notJsonIsAClearError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.parse("{\"a\":"));
    assertEquals(true, e.getMessage().startsWith("not valid JSON"));
  }
}
