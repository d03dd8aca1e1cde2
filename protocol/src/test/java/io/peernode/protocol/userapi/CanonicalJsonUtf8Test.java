package io.peernode.protocol.userapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link CanonicalJson#utf8} writes the bytes the digest is computed over: they must be exactly
 * the UTF-8 of {@link CanonicalJson#of}, or the same event would get two digests.
 */
class CanonicalJsonUtf8Test {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private static void same(JsonNode node) {
    assertArrayEquals(CanonicalJson.of(node).getBytes(StandardCharsets.UTF_8), CanonicalJson.utf8(node), () -> CanonicalJson.of(node));
  }

  @Test
  void escapesEveryControlCharacterQuoteAndBackslashAsJacksonDoes() {
    StringBuilder all = new StringBuilder();
    for (char c = 0; c < 0x100; c++) {
      all.append(c);
      same(F.textNode(String.valueOf(c)));
      same(F.objectNode().put(String.valueOf(c), c));
    }
    same(F.textNode(all.toString()));
  }

  @Test
  void encodesSupplementaryCharactersAndUnpairedSurrogatesAsStringGetBytes() {
    same(F.textNode("emoji \uD83D\uDE00 and CJK \u4E2D\u6587 and \u00E9"));
    same(F.textNode("lone high \uD83D end"));
    same(F.textNode("lone low \uDE00 end"));
    same(F.textNode("\uD83D"));
    same(F.textNode("high then high \uD83D\uD83D\uDE00"));
    same(F.objectNode().put("k\uD83D\uDE00", "\uFFFF\u0800\u07FF"));
  }

  @Test
  void writesNumbersAsTheMapperDoes() {
    ObjectNode o = F.objectNode();
    o.put("i", Integer.MIN_VALUE).put("l", Long.MAX_VALUE).put("d", 1.0e-7).put("e", 123456789.125)
        .put("z", -0.0).put("s", (short) 7).put("f", 1.5f).put("big", new BigDecimal("1.50"))
        .put("bi", new BigInteger("123456789012345678901234567890")).put("nan", Double.NaN)
        .put("inf", Double.NEGATIVE_INFINITY);
    same(o);
    same(F.numberNode(3.0));
    same(F.numberNode(Double.POSITIVE_INFINITY));
  }

  @Test
  void randomTreesGiveTheSameBytes() {
    Random random = new Random(7);
    for (int i = 0; i < 3000; i++) {
      same(tree(random, 0));
    }
  }

  private static JsonNode tree(Random r, int depth) {
    int kind = depth > 3 ? 2 + r.nextInt(5) : r.nextInt(7);
    switch (kind) {
      case 0: {
        ObjectNode o = F.objectNode();
        for (int i = r.nextInt(6); i > 0; i--) {
          o.set(text(r), tree(r, depth + 1));
        }
        return o;
      }
      case 1: {
        ArrayNode a = F.arrayNode();
        for (int i = r.nextInt(5); i > 0; i--) {
          a.add(tree(r, depth + 1));
        }
        return a;
      }
      case 2:
        return F.textNode(text(r));
      case 3:
        return r.nextBoolean() ? F.numberNode(r.nextInt()) : F.numberNode(r.nextLong());
      case 4:
        return F.numberNode(r.nextBoolean() ? r.nextDouble() * Math.pow(10, r.nextInt(40) - 20) : r.nextGaussian());
      case 5:
        return F.booleanNode(r.nextBoolean());
      default:
        return F.nullNode();
    }
  }

  private static String text(Random r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      switch (r.nextInt(5)) {
        case 0:
          b.append((char) r.nextInt(0x80));
          break;
        case 1:
          b.append((char) r.nextInt(0x20));
          break;
        case 2:
          b.append((char) (0x80 + r.nextInt(0x800)));
          break;
        case 3:
          b.appendCodePoint(0x10000 + r.nextInt(0x10FFFF - 0x10000));
          break;
        default:
          b.append((char) r.nextInt(0x10000)); // lone surrogates among others
      }
    }
    return b.toString();
  }
}
