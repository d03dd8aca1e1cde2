package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameHandler;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.http.impl.engine.ws.Protocol;
import akka.util.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import scala.Option;

/** The frame layer of the data API's WebSocket: what Akka HTTP's FrameHandler would emit. */
class TextFrameDecoderTest {

  static Protocol.Opcode op(int code) {
    return Protocol.Opcode$.MODULE$.forCode((byte) code);
  }

  static FrameStart frame(int opcode, boolean fin, byte[] data) {
    return FrameEvent$.MODULE$.fullFrame(op(opcode), Option.empty(), ByteString.fromArray(data),
        fin, false, false, false);
  }

  /** What one connection's decoder gives for these frame events, in order. */
  static List<FrameHandler.Output> decode(FrameEventOrError... frames) {
    TextFrameDecoder decoder = new TextFrameDecoder();
    List<FrameHandler.Output> out = new java.util.ArrayList<>();
    for (FrameEventOrError f : frames) {
      FrameHandler.Output o = decoder.decode(f);
      if (o != null) out.add(o);
    }
    return out;
  }

  static FrameHandler.TextMessagePart text(FrameHandler.Output o) {
    return assertInstanceOf(FrameHandler.TextMessagePart.class, o);
  }

  @Test
  void wholeTextMessagesAsciiOrNot() throws Exception {
    List<FrameHandler.Output> out = decode(
        frame(1, true, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)),
        frame(1, true, "é€😀".getBytes(StandardCharsets.UTF_8)),
        frame(1, true, "a\uFFFDb".getBytes(StandardCharsets.UTF_8)));
    assertEquals(3, out.size());
    assertEquals("{\"a\":1}", text(out.get(0)).data());
    assertEquals(true, text(out.get(0)).last());
    assertEquals("é€😀", text(out.get(1)).data());
    assertEquals("a\uFFFDb", text(out.get(2)).data(), "U+FFFD itself is valid input");
  }

  @Test
  void aFragmentedMessageWithACharacterSplitAcrossFramesAndAPingBetween() throws Exception {
    byte[] all = "ab€cd".getBytes(StandardCharsets.UTF_8); // € is 3 bytes at 2..4
    byte[] first = java.util.Arrays.copyOfRange(all, 0, 3);
    byte[] second = java.util.Arrays.copyOfRange(all, 3, all.length);
    List<FrameHandler.Output> out = decode(
        frame(1, false, first),
        frame(9, true, new byte[] {7}),
        frame(0, true, second));
    assertEquals(3, out.size());
    assertEquals("ab", text(out.get(0)).data());
    assertEquals(false, text(out.get(0)).last());
    FrameHandler.DirectAnswer pong = assertInstanceOf(FrameHandler.DirectAnswer.class, out.get(1));
    assertEquals(0xA, pong.frame().header().opcode().code());
    assertEquals(ByteString.fromArray(new byte[] {7}), pong.frame().data());
    assertEquals("€cd", text(out.get(2)).data());
    assertEquals(true, text(out.get(2)).last());
  }

  @Test
  void aFrameWhoseDataComesInParts() throws Exception {
    FrameStart start = new FrameStart(new FrameHeader(op(1), Option.empty(), 4, true, false,
        false, false), ByteString.fromString("ab"));
    List<FrameHandler.Output> out = decode(start, new FrameData(ByteString.fromString("cd"), true));
    assertEquals("ab", text(out.get(0)).data());
    assertEquals(false, text(out.get(0)).last());
    assertEquals("cd", text(out.get(1)).data());
    assertEquals(true, text(out.get(1)).last());
  }

  @Test
  void malformedUtf8ClosesWith1007AndACloseFrameEndsIt() throws Exception {
    List<FrameHandler.Output> out = decode(
        frame(1, true, new byte[] {'a', (byte) 0xC3}), // truncated sequence
        frame(1, true, "ignored".getBytes(StandardCharsets.UTF_8)),
        FrameEvent$.MODULE$.closeFrame(1000, "", Option.empty()));
    assertEquals(2, out.size());
    FrameHandler.ActivelyCloseWithCode close =
        assertInstanceOf(FrameHandler.ActivelyCloseWithCode.class, out.get(0));
    assertEquals(Option.apply(1007), close.code());
    FrameHandler.PeerClosed peer = assertInstanceOf(FrameHandler.PeerClosed.class, out.get(1));
    assertEquals(Option.apply(1000), peer.code());
  }

  @Test
  void binaryAndProtocolErrors() throws Exception {
    List<FrameHandler.Output> out = decode(frame(2, true, new byte[] {1, 2}));
    assertEquals(ByteString.fromArray(new byte[] {1, 2}),
        assertInstanceOf(FrameHandler.BinaryMessagePart.class, out.get(0)).data());
    // a continuation outside a message
    out = decode(frame(0, true, new byte[] {1}));
    assertEquals(Option.apply(1002),
        assertInstanceOf(FrameHandler.ActivelyCloseWithCode.class, out.get(0)).code());
    // a fragmented control frame
    out = decode(frame(9, false, new byte[] {1}));
    assertEquals(Option.apply(1002),
        assertInstanceOf(FrameHandler.ActivelyCloseWithCode.class, out.get(0)).code());
  }

  @Test
  void framesOutOfOrderFailTheWebSocket() {
    TextFrameDecoder decoder = new TextFrameDecoder();
    // data with no frame started
    TextFrameDecoder.Failure f = assertThrows(TextFrameDecoder.Failure.class,
        () -> decoder.decode(new FrameData(ByteString.fromString("x"), true)));
    assertEquals("Expected FrameStart", f.getCause().getMessage());
    // a new frame while a control frame's data is still coming
    TextFrameDecoder inControl = new TextFrameDecoder();
    FrameStart ping = new FrameStart(new FrameHeader(op(9), Option.empty(), 4, true, false,
        false, false), ByteString.fromString("ab"));
    assertEquals(null, inControl.decode(ping));
    assertThrows(TextFrameDecoder.Failure.class,
        () -> inControl.decode(frame(1, true, new byte[] {'a'})));
  }
}
