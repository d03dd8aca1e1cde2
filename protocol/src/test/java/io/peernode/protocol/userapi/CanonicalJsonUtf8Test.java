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
  void findsEveryEscapeWhereverItFallsInTheEightByteWordsScanned() {
    String[] specials = {"\"", "\\", "\u0000", "\u001f", "\n", "\u007f", "\u00e9", "\u4e2d", "\uD83D\uDE00", "\uD83D"};
    for (int length = 0; length <= 40; length++) {
      same(F.textNode("a".repeat(length)));
      for (int at = 0; at < length; at++) {
        for (String special : specials) {
          same(F.textNode("a".repeat(at) + special + "b".repeat(length - at)));
          same(F.textNode(special + "c".repeat(at) + special + "d".repeat(length - at) + special));
        }
      }
    }
  }

  @Test
  void writesIntegersDigitByDigitAsLongToString() {
    long[] edges = {0, 1, -1, 9, 10, -10, 99, 100, 999_999_999, 1_000_000_000, Integer.MAX_VALUE, Integer.MIN_VALUE,
        Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, 999_999_999_999_999_999L, 1_000_000_000_000_000_000L};
    for (long v : edges) {
      same(F.numberNode(v));
      if (v == (int) v) {
        same(F.numberNode((int) v));
      }
    }
    long p = 1;
    for (int i = 0; i < 19; i++, p *= 10) {
      for (long v : new long[] {p - 1, p, p + 1, -p, -(p - 1)}) {
        same(F.numberNode(v));
      }
    }
  }

  @Test
  void sortsFieldsGivenInAnyOrder() {
    same(F.objectNode().put("b", 1).put("a", 2).put("c", 3));
    same(F.objectNode().put("a", 1).put("c", 2).put("b", 3));
    same(F.objectNode().put("a", 1).put("b", 2).put("c", 3));
    same(F.objectNode().put("\u00e9", 1).put("z", 2).put("Z", 3).put("", 4));
  }

  /**
   * The writer is reused per thread and keeps recently written field names encoded, in a table
   * indexed by the name's hash: names sharing a slot ("Aa" and "BB" have the same hashCode),
   * equal names that are other String instances, long names that are not kept, and an event
   * too large for the kept buffer, in turns, must each give the bytes of a fresh writer.
   */
  @Test
  void aReusedWriterGivesTheBytesOfAFreshOne() {
    String longName = "n".repeat(100);
    String big = "x".repeat(100_000);
    for (int i = 0; i < 50; i++) {
      same(F.objectNode().put("Aa", i).put("q\"\u0001", "v"));
      same(F.objectNode().put("BB", i));
      same(F.objectNode().put(new String("Aa".toCharArray()), -i).put("BB", "x"));
      same(F.objectNode().put(longName, i).put(longName + "!", i));
      same(F.objectNode().put("pad", big.substring(0, 1000 * i)).put("Aa", true));
      same(F.objectNode().set("Aa", F.objectNode().put("BB", i).set("Aa", F.arrayNode().add(i))));
    }
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
