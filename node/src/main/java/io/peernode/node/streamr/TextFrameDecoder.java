package io.peernode.node.streamr;

import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameError;
import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameHandler;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.http.impl.engine.ws.Protocol;
import akka.util.ByteString;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import scala.Option;

/**
 * The server side of Akka HTTP 10.2's {@code FrameHandler} (control frames, message
 * fragments, close handling, protocol errors), ported as it is, except for the UTF-8 decoding
 * of text: Akka's {@code Utf8Decoder} runs a state machine per byte (the largest single cost
 * of a publishing connection once messages have no substreams); here the JDK decodes,
 * strictly (malformed input closes with 1007, as there), with a plain copy for ASCII.
 *
 * <p>Gives what {@code FrameHandler} emits, except {@code MessageEnd} (the layer above,
 * {@link TextWebSocket.MessageLayer}, reads the end from each part's {@code last}). Not a
 * stage of its own but a state machine that the message layer runs (one stage less for each
 * connection to hold): {@link #decode} takes each frame event and answers at most one output.
 * One instance per connection.
 */
final class TextFrameDecoder {

  private static final int CONTINUATION = 0x0;
  private static final int TEXT = 0x1;
  private static final int BINARY = 0x2;
  private static final int CLOSE = 0x8;
  private static final int PING = 0x9;
  private static final int PONG = 0xA;
  private static final int PROTOCOL_ERROR = 1002;
  private static final int INCONSISTENT_DATA = 1007;
  private static final Protocol.Opcode PONG_OPCODE = Protocol.Opcode$.MODULE$.forCode((byte) PONG);

  /** Ends the WebSocket with a failure (where FrameHandler fails its stage). */
  static final class Failure extends RuntimeException {
    Failure(Throwable cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  private enum State {
    /** Between messages. */
    IDLE,
    /** Inside a (fragmented) text or binary message. */
    MESSAGE,
    /** Collecting the data of a control frame that came in parts. */
    CONTROL_DATA,
    /** Sent a close (protocol error): waits for the peer's close frame. */
    CLOSE_AFTER_PEER_CLOSED,
    /** The peer closed: everything else is ignored. */
    WAIT_FOR_TCP_CLOSE
  }

  private State state = State.IDLE;
  // MESSAGE
  private int messageOpcode;
  private boolean expectFirstHeader;
  private boolean finSeen;
  private Utf8 utf8;
  // CONTROL_DATA
  private int controlOpcode;
  private ByteString controlData;
  private State afterControl;

  /**
   * The output for one frame event, or null when there is none (more input is needed).
   *
   * @throws Failure on a frame error or frames out of order: the WebSocket fails
   */
  FrameHandler.Output decode(FrameEventOrError e) {
    switch (state) {
      case WAIT_FOR_TCP_CLOSE:
        return null;
      case CLOSE_AFTER_PEER_CLOSED:
        if (e instanceof FrameStart && opcode(((FrameStart) e).header()) == CLOSE) {
          state = State.WAIT_FOR_TCP_CLOSE;
          return FrameHandler.PeerClosed$.MODULE$.parse(((FrameStart) e).data());
        }
        return null;
      default:
        break;
    }
    if (e instanceof FrameError) {
      throw new Failure(((FrameError) e).p());
    }
    if (e instanceof FrameStart) {
      if (state == State.CONTROL_DATA) {
        throw new Failure(new IllegalStateException("Expected FrameData"));
      }
      return onFrameStart((FrameStart) e);
    }
    FrameData d = (FrameData) e;
    if (state == State.CONTROL_DATA) {
      controlData = controlData.concat(d.data());
      return d.lastPart() ? handleControlFrame(controlOpcode, controlData, afterControl) : null;
    }
    if (state == State.MESSAGE) {
      return publish(d.data(), finSeen && d.lastPart());
    }
    throw new Failure(new IllegalStateException("Expected FrameStart"));
  }

  private FrameHandler.Output onFrameStart(FrameStart start) {
    FrameHeader h = start.header();
    int op = opcode(h);
    boolean control = (op & 0x8) != 0;
    if (h.rsv1() || h.rsv2() || h.rsv3()) {
      return closeWithCode(PROTOCOL_ERROR, "");
    }
    if (control && (h.length() > 125 || !h.fin())) {
      return closeWithCode(PROTOCOL_ERROR, "");
    }
    if (control) {
      if (start.isFullMessage()) {
        return handleControlFrame(op, start.data(), state);
      }
      controlOpcode = op;
      controlData = start.data();
      afterControl = state;
      state = State.CONTROL_DATA;
      return null;
    }
    if (state != State.IDLE) {
      return messageFrameStart(start, op);
    }
    if (op == BINARY && start.isFullMessage()) {
      return new FrameHandler.BinaryMessagePart(start.data(), true);
    }
    if (op == BINARY || op == TEXT) {
      state = State.MESSAGE;
      messageOpcode = op;
      expectFirstHeader = true;
      finSeen = false;
      utf8 = op == TEXT ? new Utf8() : null;
      return messageFrameStart(start, op);
    }
    return closeWithCode(PROTOCOL_ERROR, "");
  }

  private FrameHandler.Output messageFrameStart(FrameStart start, int op) {
    if ((expectFirstHeader && op == messageOpcode) || op == CONTINUATION) {
      expectFirstHeader = false;
      if (start.header().fin()) {
        finSeen = true;
      }
      return publish(start.data(), finSeen && start.lastPart());
    }
    return closeWithCode(PROTOCOL_ERROR, "");
  }

  private FrameHandler.Output publish(ByteString data, boolean last) {
    FrameHandler.Output part;
    if (messageOpcode == TEXT) {
      String text;
      try {
        text = utf8.decode(data, last);
      } catch (CharacterCodingException malformed) {
        return closeWithCode(INCONSISTENT_DATA, "");
      }
      part = new FrameHandler.TextMessagePart(text, last);
    } else {
      part = new FrameHandler.BinaryMessagePart(data, last);
    }
    if (last) {
      state = State.IDLE;
      utf8 = null;
    }
    return part;
  }

  private FrameHandler.Output handleControlFrame(int op, ByteString data, State next) {
    state = next;
    switch (op) {
      case PING:
        return new FrameHandler.DirectAnswer(FrameEvent$.MODULE$.fullFrame(PONG_OPCODE,
            Option.empty(), data, true, false, false, false));
      case PONG:
        return null; // an unsolicited pong is ignored
      case CLOSE:
        state = State.WAIT_FOR_TCP_CLOSE;
        return FrameHandler.PeerClosed$.MODULE$.parse(data);
      default:
        return closeWithCode(PROTOCOL_ERROR, "Unsupported opcode");
    }
  }

  private FrameHandler.Output closeWithCode(int code, String reason) {
    state = State.CLOSE_AFTER_PEER_CLOSED;
    return new FrameHandler.ActivelyCloseWithCode(Option.apply(code), reason);
  }

  private static int opcode(FrameHeader h) {
    return h.opcode().code() & 0xff;
  }

  /** Strict UTF-8 decoding of one message's parts; a sequence may span two parts. */
  static final class Utf8 {
    private CharsetDecoder decoder;
    /** The incomplete sequence at the end of the previous part. */
    private ByteString carry = ByteString.emptyByteString();

    String decode(ByteString data, boolean last) throws CharacterCodingException {
      if (carry.isEmpty() && last) {
        return whole(data); // the usual case: a message in one frame
      }
      ByteString all = carry.isEmpty() ? data : carry.concat(data);
      if (decoder == null) {
        decoder = newDecoder();
      }
      ByteBuffer bytes = ByteBuffer.wrap(all.toArray());
      CharBuffer chars = CharBuffer.allocate(bytes.remaining() + 1);
      CoderResult r = decoder.decode(bytes, chars, last);
      if (r.isError()) {
        r.throwException();
      }
      if (last) {
        r = decoder.flush(chars);
        if (r.isError()) {
          r.throwException();
        }
        if (bytes.hasRemaining()) {
          throw new CharacterCodingException(); // truncated sequence at the end
        }
      }
      carry = ByteString.fromByteBuffer(bytes); // what is left: an incomplete sequence
      chars.flip();
      return chars.toString();
    }

    static String whole(ByteString data) throws CharacterCodingException {
      byte[] b = data.toArrayUnsafe();
      // The JDK's UTF-8 constructor has vectorized ASCII and UTF-8 paths, but replaces malformed
      // input with U+FFFD: so a result with a U+FFFD in it (rare: malformed input, or the
      // character itself, sent as such) is decoded again strictly, which tells the two apart.
      String text = new String(b, StandardCharsets.UTF_8);
      if (text.indexOf('\uFFFD') >= 0) {
        return newDecoder().decode(ByteBuffer.wrap(b)).toString();
      }
      return text;
    }

    private static CharsetDecoder newDecoder() {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
  }
}
