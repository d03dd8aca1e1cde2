package io.peernode.protocol.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.protocol.streamr.StreamrRequest.ResendSpec;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class StreamrRequestsTest {

  private final StreamrRequests parser = new StreamrRequests(1024);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The request, a publish without its msgJson once that is checked to be msg's literal. */
  private StreamrRequest ok(String json) {
    StreamrRequests.Result r = parser.parse(json);
    assertInstanceOf(StreamrRequests.Result.Ok.class, r, () -> "expected Ok, got " + r);
    return withoutMsgJson(((StreamrRequests.Result.Ok) r).request(), json);
  }

  private static StreamrRequest withoutMsgJson(StreamrRequest r, String request) {
    if (!(r instanceof StreamrRequest.Publish)) return r;
    StreamrRequest.Publish p = (StreamrRequest.Publish) r;
    if (p.msgJson() != null) {
      try {
        assertEquals(p.msg(), JSON.readValue(p.msgJson(), String.class), request);
      } catch (JsonProcessingException e) {
        throw new AssertionError("msgJson is not a JSON string: " + p.msgJson(), e);
      }
      assertTrue(request.contains(p.msgJson()), request);
    }
    return p.withoutMsgJson();
  }

  private static StreamrRequests.Result withoutMsgJson(StreamrRequests.Result r, String request) {
    return r instanceof StreamrRequests.Result.Ok
        ? new StreamrRequests.Result.Ok(
            withoutMsgJson(((StreamrRequests.Result.Ok) r).request(), request))
        : r;
  }

  private StreamrRequests.Result.Invalid bad(String json) {
    StreamrRequests.Result r = parser.parse(json);
    assertInstanceOf(StreamrRequests.Result.Invalid.class, r, () -> "expected Invalid, got " + r);
    return (StreamrRequests.Result.Invalid) r;
  }

  @Test
  void publishesReadWithoutATreeGiveWhatTheTreeGives() {
    String[] requests = {
        "{\"type\":\"publish\",\"stream\":\"s1\",\"authKey\":\"k\",\"msg\":\"{\\\"a\\\":1}\",\"ts\":1,\"pkey\":\"d\"}",
        "{\"stream\":\"s1\",\"msg\":\"x\",\"type\":\"publish\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"\\u00e9\\ud83d\\ude00 \\n\",\"authKey\":null,\"ts\":null,\"pkey\":null}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"authKey\":\"\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"extra\":{\"a\":[1,{\"b\":null}]},\"more\":[]}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"first\",\"msg\":\"last wins\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"type\":\"subscribe\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"pkey\":42}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"pkey\":4.5}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"ts\":-1}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"ts\":1.5}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"ts\":99999999999999999999}",
        "{\"type\":\"publish\",\"stream\":\"\",\"msg\":\"x\"}",
        "{\"type\":\"publish\",\"stream\":null,\"msg\":\"x\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":{\"a\":1}}",
        "{\"type\":\"publish\",\"stream\":\"s1\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\",\"authKey\":7}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"" + "y".repeat(1025) + "\"}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\"} {}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"x\"",
        "[\"publish\"]",
        "{\"type\":\"subscribe\",\"stream\":\"s1\"}",
    };
    int literals = 0;
    for (String request : requests) {
      StreamrRequests.Result fast = parser.parse(request);
      if (fast instanceof StreamrRequests.Result.Ok
          && ((StreamrRequests.Result.Ok) fast).request() instanceof StreamrRequest.Publish
          && ((StreamrRequest.Publish) ((StreamrRequests.Result.Ok) fast).request()).msgJson()
              != null) {
        literals++;
      }
      assertEquals(parser.parseTree(request), withoutMsgJson(fast, request), request);
    }
    assertEquals(6, literals, "publishes read by the fast path, each with msg's literal");
  }

  @Test
  void theScannerReadsThePublishesClientsSend() {
    String[] requests = {
        "{\"type\":\"publish\",\"stream\":\"s1\",\"authKey\":\"k\",\"msg\":\"{\\\"a\\\":1}\",\"ts\":1,\"pkey\":\"d\"}",
        " {\r\n\t\"msg\" : \"\\u00e9\\ud83d\\ude00 \\n\\/\\b\\f\\r\\t\\\\\" , \"type\":\"publish\", \"stream\":\"s1\","
            + " \"authKey\":null, \"ts\":null, \"pkey\":null, \"sessionToken\":null, \"x\":true } ",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"\",\"ts\":0,\"extra\":\"e\",\"f\":false}",
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"first\",\"msg\":\"last wins\"}",
    };
    for (String request : requests) {
      StreamrRequest.Publish scanned = PublishScanner.scan(request);
      assertTrue(scanned != null, () -> "the scanner gave up on " + request);
      assertEquals(parser.parseStreaming(request), new StreamrRequests.Result.Ok(scanned),
          request);
    }
  }

  /**
   * The scanner gives what Jackson's parsers give, or gives up, on random mutations of
   * publishes: characters that matter to JSON inserted, deleted or replaced anywhere.
   */
  @Test
  void theScannerAgreesWithJacksonOnMutatedPublishes() {
    String[] seeds = {
        "{\"type\":\"publish\",\"stream\":\"s1\",\"authKey\":\"k\",\"msg\":\"{\\\"a\\\":1,\\\"b\\\":\\\"\\\\u00e9\\\"}\",\"ts\":12,\"pkey\":\"d\"}",
        "{ \"msg\" : \"x\\ny\\u0041\" , \"type\" : \"publish\" , \"stream\" : \"s\" , \"ts\" : null , \"z\" : true }",
        // long runs (the scanner's word-at-a-time search), characters beyond ISO-8859-1
        "{\"type\":\"publish\",\"stream\":\"stream-of-some-length\",\"msg\":\"{\\\"text\\\":\\\"a\u20acb\ud83d\ude00c and then a run of ordinary characters\\\",\\\"n\\\":12345678}\"}",
    };
    String alphabet = "{}[]\":,\\ \t\n0123456789-+.eEtrufalsn/bu\u00e9\u0001x";
    java.util.Random random = new java.util.Random(42);
    int scanned = 0;
    int cases = 0;
    for (String seed : seeds) {
      for (int k = 0; k < 20_000; k++) {
        StringBuilder b = new StringBuilder(seed);
        for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
          int at = random.nextInt(b.length() + 1);
          char c = alphabet.charAt(random.nextInt(alphabet.length()));
          switch (random.nextInt(3)) {
            case 0:
              b.insert(at, c);
              break;
            case 1:
              if (at < b.length()) b.deleteCharAt(at);
              break;
            default:
              if (at < b.length()) b.setCharAt(at, c);
          }
        }
        String request = b.toString();
        StreamrRequest.Publish p = PublishScanner.scan(request);
        cases++;
        if (p == null) continue;
        scanned++;
        assertEquals(parser.parseStreaming(request), new StreamrRequests.Result.Ok(p), request);
        assertEquals(parser.parseTree(request), new StreamrRequests.Result.Ok(p.withoutMsgJson()),
            request);
      }
    }
    // Most mutations break the request; enough of them must still be read for this to test.
    assertTrue(scanned > cases / 20, "the scanner read " + scanned + " of " + cases);
  }

  /** The word-at-a-time search equals a character-by-character one, from any start. */
  @Test
  void specialFindsTheFirstQuoteBackslashOrControlCharacter() {
    byte[] ordinary = {'a', ' ', '!', '#', '[', ']', '~', 0x7F, (byte) 0x80, (byte) 0xA2,
        (byte) 0xDC, (byte) 0xFF, '?', 0x21, 0x5B, 0x5D};
    byte[] special = {'"', '\\', 0x00, 0x01, 0x1F, '\n'};
    java.util.Random random = new java.util.Random(7);
    for (int k = 0; k < 20_000; k++) {
      byte[] b = new byte[random.nextInt(40)];
      for (int i = 0; i < b.length; i++) {
        b[i] = random.nextInt(12) == 0 ? special[random.nextInt(special.length)]
            : ordinary[random.nextInt(ordinary.length)];
      }
      int from = b.length == 0 ? 0 : random.nextInt(b.length + 1);
      int expected = from;
      while (expected < b.length && b[expected] != '"' && b[expected] != '\\'
          && (b[expected] & 0xFF) >= 0x20) {
        expected++;
      }
      assertEquals(expected, PublishScanner.special(b, from, b.length),
          () -> java.util.Arrays.toString(b) + " from " + from);
    }
  }

  @Test
  void msgJsonIsTheLiteralAsSent() {
    String literal = "\"{\\\"a\\\":\\u0041\\/\\ud83d\\ude00 \u00e9\\\\\"";
    StreamrRequest.Publish p = (StreamrRequest.Publish) ((StreamrRequests.Result.Ok) parser.parse(
        "{\"type\":\"publish\",\"stream\":\"s1\",\"msg\": " + literal + " ,\"ts\":1}")).request();
    assertEquals(literal, p.msgJson());
    assertEquals("{\"a\":A/\ud83d\ude00 \u00e9\\", p.msg());
    StreamrRequest.Publish tree = (StreamrRequest.Publish) ((StreamrRequests.Result.Ok)
        parser.parseTree("{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":" + literal + "}"))
        .request();
    assertNull(tree.msgJson(), "the tree path does not keep the literal");
  }

  @Test
  void publishAsInTheSeed() {
    StreamrRequest r = ok("{\"type\":\"publish\",\"stream\":\"s1\",\"authKey\":\"k\","
        + "\"msg\":\"{\\\"a\\\":1}\",\"ts\":1533924184016,\"pkey\":\"deviceId\"}");
    assertEquals(new StreamrRequest.Publish("s1", Optional.of("k"), "{\"a\":1}",
        OptionalLong.of(1533924184016L), Optional.of("deviceId")), r);
  }

  @Test
  void publishWithoutOptionalFields() {
    StreamrRequest r = ok("{\"type\":\"publish\",\"stream\":\"s1\",\"msg\":\"{}\"}");
    assertEquals(new StreamrRequest.Publish("s1", Optional.empty(), "{}", OptionalLong.empty(),
        Optional.empty()), r);
  }

  @Test
  void numericPkeyIsUsedAsText() {
    StreamrRequest.Publish p = (StreamrRequest.Publish)
        ok("{\"type\":\"publish\",\"stream\":\"s\",\"msg\":\"{}\",\"pkey\":42}");
    assertEquals(Optional.of("42"), p.pkey());
  }

  @Test
  void subscribeDefaultsToPartitionZeroAndIgnoresExtraFields() {
    assertEquals(new StreamrRequest.Subscribe("s", 0, Optional.empty()),
        ok("{\"type\":\"subscribe\",\"stream\":\"s\",\"resend_all\":true,\"x\":[1]}"));
    assertEquals(new StreamrRequest.Subscribe("s", 3, Optional.of("key")),
        ok("{\"type\":\"subscribe\",\"stream\":\"s\",\"partition\":3,\"authKey\":\"key\"}"));
  }

  @Test
  void unsubscribe() {
    assertEquals(new StreamrRequest.Unsubscribe("s", 2, Optional.empty()),
        ok("{\"type\":\"unsubscribe\",\"stream\":\"s\",\"partition\":2}"));
  }

  @Test
  void resendVariants() {
    assertEquals(new StreamrRequest.Resend("s", 0, "sub1", Optional.empty(), new ResendSpec.All()),
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"sub1\",\"resend_all\":true}"));
    assertEquals(new ResendSpec.Last(5), ((StreamrRequest.Resend)
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_last\":5}")).spec());
    assertEquals(new ResendSpec.FromOffset(3, OptionalLong.empty()), ((StreamrRequest.Resend)
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_from\":3}")).spec());
    assertEquals(new ResendSpec.FromOffset(3, OptionalLong.of(7)), ((StreamrRequest.Resend)
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_from\":3,"
            + "\"resend_to\":7}")).spec());
    assertEquals(new ResendSpec.FromTime(1533924184016L), ((StreamrRequest.Resend)
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\","
            + "\"resend_from_time\":1533924184016}")).spec());
    StreamrRequest.Resend numericSub = (StreamrRequest.Resend)
        ok("{\"type\":\"resend\",\"stream\":\"s\",\"partition\":1,\"sub\":7,\"resend_last\":1}");
    assertEquals("7", numericSub.sub());
    assertEquals(1, numericSub.partition());
  }

  @Test
  void notJson() {
    StreamrRequests.Result.Invalid e = bad("{nope");
    assertTrue(e.error().startsWith("request is not valid JSON"), e.error());
    assertNull(e.requestType());
  }

  @Test
  void notAnObject() {
    assertEquals("request must be a JSON object, got array", bad("[1,2]").error());
    assertEquals("request must be a JSON object, got string", bad("\"publish\"").error());
  }

  @Test
  void unknownAndMissingType() {
    StreamrRequests.Result.Invalid e = bad("{\"type\":\"teleport\",\"stream\":\"s\"}");
    assertTrue(e.error().contains("unknown request type 'teleport'"), e.error());
    assertEquals("teleport", e.requestType());
    assertEquals("missing field 'type'", bad("{\"stream\":\"s\"}").error());
  }

  @Test
  void missingFieldsAreNamed() {
    StreamrRequests.Result.Invalid e = bad("{\"type\":\"publish\",\"msg\":\"{}\"}");
    assertEquals("missing field 'stream'", e.error());
    assertEquals("publish", e.requestType());
    assertEquals("missing field 'msg'", bad("{\"type\":\"publish\",\"stream\":\"s\"}").error());
    assertTrue(bad("{\"type\":\"resend\",\"stream\":\"s\",\"resend_all\":true}").error()
        .startsWith("missing field 'sub'"));
    assertTrue(bad("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\"}").error()
        .startsWith("resend needs one of"));
  }

  @Test
  void badPartition() {
    for (String p : new String[] {"-1", "\"zero\"", "1.5", "99999999999", "{}"}) {
      StreamrRequests.Result.Invalid e =
          bad("{\"type\":\"subscribe\",\"stream\":\"s\",\"partition\":" + p + "}");
      assertTrue(e.error().startsWith("bad partition"), e.error());
      assertEquals("subscribe", e.requestType());
    }
  }

  @Test
  void msgMustBeAJsonString() {
    StreamrRequests.Result.Invalid e =
        bad("{\"type\":\"publish\",\"stream\":\"s\",\"msg\":{\"a\":1}}");
    assertTrue(e.error().startsWith("field 'msg' must be a JSON string"), e.error());
    assertTrue(e.error().endsWith("got object"), e.error());
  }

  @Test
  void oversizeMsgIsRefusedByBytesNotChars() {
    String fits = "x".repeat(1024);
    ok("{\"type\":\"publish\",\"stream\":\"s\",\"msg\":\"" + fits + "\"}");
    String tooBig = "x".repeat(1025);
    assertEquals("field 'msg' is 1025 bytes, more than the limit of 1024",
        bad("{\"type\":\"publish\",\"stream\":\"s\",\"msg\":\"" + tooBig + "\"}").error());
    // 400 three-byte characters: 400 chars but 1200 bytes.
    String wide = "\u20ac".repeat(400);
    assertTrue(bad("{\"type\":\"publish\",\"stream\":\"s\",\"msg\":\"" + wide + "\"}").error()
        .contains("1200 bytes"));
  }

  @Test
  void badResendValues() {
    assertEquals("field 'resend_all' must be true",
        bad("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_all\":false}").error());
    assertEquals("field 'resend_last' must be a non-negative integer",
        bad("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_last\":\"5\"}").error());
    assertTrue(bad("{\"type\":\"resend\",\"stream\":\"s\",\"sub\":\"x\",\"resend_from\":5,"
        + "\"resend_to\":2}").error().contains("before"));
  }
}
