package io.peernode.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class NodeIdTest {

  @Test
  void isTheFirstTwentyBytesOfSha256OfThePublicKey() {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    NodeId id = NodeId.fromPublicKey("abc".getBytes(StandardCharsets.US_ASCII));
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a3", id.hex());
  }

  @Test
  void parsesEitherCaseAndRejectsAnythingElse() {
    String hex = "ba7816bf8f01cfea414140de5dae2223b00361a3";
    assertEquals(hex, NodeId.parse(hex.toUpperCase()).hex());
    assertTrue(NodeId.isValid(hex));
    assertFalse(NodeId.isValid(hex.substring(1)));
    assertFalse(NodeId.isValid(hex.substring(1) + "g"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeId.parse("xyz"));
    assertTrue(e.getMessage().contains("40 hex"), e.getMessage());
  }

  @Test
  void hexRoundTripsAndNamesBadInput() {
    byte[] bytes = {0, 1, (byte) 0x7f, (byte) 0x80, (byte) 0xff};
    assertEquals("00017f80ff", Hex.encode(bytes));
    assertEquals(Hex.encode(bytes), Hex.encode(Hex.decode("00017F80FF")));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Hex.decode("abc")).getMessage().contains("odd"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Hex.decode("zz")).getMessage().contains("position 0"));
  }
}
