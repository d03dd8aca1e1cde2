package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.Protocol;
import akka.util.ByteString;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import scala.Option;

/** The text frames of {@link ServerFrames#TEXT} byte for byte, at every length boundary. */
class ServerFramesTest {

  private static final int[] LENGTHS = {0, 1, 125, 126, 127, 65_535, 65_536, 70_000};

  /** RFC 6455, section 5.2: FIN + text, no mask, 7-bit, 16-bit or 64-bit length. */
  private static byte[] expected(byte[] payload) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x81);
    int n = payload.length;
    if (n < 126) {
      b.write(n);
    } else if (n <= 0xFFFF) {
      b.write(126);
      b.write(n >> 8);
      b.write(n & 0xFF);
    } else {
      b.write(127);
      b.writeBytes(ByteBuffer.allocate(8).putLong(n).array());
    }
    b.writeBytes(payload);
    return b.toByteArray();
  }

  private static byte[] payload(int n) {
    byte[] p = new byte[n];
    for (int i = 0; i < n; i++) p[i] = (byte) ('a' + i % 26);
    return p;
  }

  @Test
  void aMessageIsOneFinalTextFrameAtEveryLengthBoundary() {
    for (int n : LENGTHS) {
      byte[] p = payload(n);
      ByteString framed = ServerFrames.TEXT.frame(new ByteString[] {ByteString.fromArray(p)}, 1, n);
      assertArrayEquals(expected(p), framed.toArray(), "length " + n);
      // the same as the frame layers' renderer makes of the frame event
      ByteString rendered = ServerFrames.render(FrameEvent$.MODULE$.fullFrame(
          Protocol.Opcode$.MODULE$.forCode((byte) 1), Option.empty(), ByteString.fromArray(p),
          true, false, false, false));
      assertEquals(rendered, framed, "length " + n);
    }
  }

  @Test
  void aBurstIsItsFramesInOrder() {
    ByteString[] messages = new ByteString[LENGTHS.length];
    ByteArrayOutputStream want = new ByteArrayOutputStream();
    int bytes = 0;
    for (int i = 0; i < LENGTHS.length; i++) {
      byte[] p = payload(LENGTHS[i]);
      messages[i] = ByteString.fromArray(p);
      want.writeBytes(expected(p));
      bytes += p.length;
    }
    assertArrayEquals(want.toByteArray(),
        ServerFrames.TEXT.frame(messages, messages.length, bytes).toArray());
  }
}
