package io.peernode.node.streamr;

import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameError;
import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameHandler;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.http.impl.engine.ws.Protocol;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
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
 * <p>Emits what {@code FrameHandler} emits, except {@code MessageEnd} (the layer above,
 * {@link TextWebSocket.MessageLayer}, reads the end from each part's {@code last}).
 */
final class TextFrameDecoder extends GraphStage<FlowShape<FrameEventOrError, FrameHandler.Output>> {

  private static final int CONTINUATION = 0x0;
  private static final int TEXT = 0x1;
  private static final int BINARY = 0x2;
  private static final int CLOSE = 0x8;
  private static final int PING = 0x9;
  private static final int PONG = 0xA;
  private static final int PROTOCOL_ERROR = 1002;
  private static final int INCONSISTENT_DATA = 1007;
  private static final Protocol.Opcode PONG_OPCODE = Protocol.Opcode$.MODULE$.forCode((byte) PONG);

  final Inlet<FrameEventOrError> in = Inlet.create("TextFrameDecoder.in");
  final Outlet<FrameHandler.Output> out = Outlet.create("TextFrameDecoder.out");
  private final FlowShape<FrameEventOrError, FrameHandler.Output> shape = FlowShape.of(in, out);

  @Override
  public FlowShape<FrameEventOrError, FrameHandler.Output> shape() {
    return shape;
  }

  @Override
  public Attributes initialAttributes() {
    return Attributes.name("ws-text-frame-decoder");
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

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
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

      {
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            onEvent(grab(in));
          }
        });
      }

      private void onEvent(FrameEventOrError e) {
        switch (state) {
          case WAIT_FOR_TCP_CLOSE:
            pull(in);
            return;
          case CLOSE_AFTER_PEER_CLOSED:
            if (e instanceof FrameStart && opcode(((FrameStart) e).header()) == CLOSE) {
              state = State.WAIT_FOR_TCP_CLOSE;
              push(out, FrameHandler.PeerClosed$.MODULE$.parse(((FrameStart) e).data()));
            } else {
              pull(in);
            }
            return;
          default:
            break;
        }
        if (e instanceof FrameError) {
          failStage(((FrameError) e).p());
        } else if (e instanceof FrameStart) {
          if (state == State.CONTROL_DATA) {
            failStage(new IllegalStateException("Expected FrameData"));
          } else {
            onFrameStart((FrameStart) e);
          }
        } else {
          FrameData d = (FrameData) e;
          if (state == State.CONTROL_DATA) {
            controlData = controlData.concat(d.data());
            if (d.lastPart()) {
              handleControlFrame(controlOpcode, controlData, afterControl);
            } else {
              pull(in);
            }
          } else if (state == State.MESSAGE) {
            publish(d.data(), finSeen && d.lastPart());
          } else {
            failStage(new IllegalStateException("Expected FrameStart"));
          }
        }
      }

      private void onFrameStart(FrameStart start) {
        FrameHeader h = start.header();
        int op = opcode(h);
        boolean control = (op & 0x8) != 0;
        if (h.rsv1() || h.rsv2() || h.rsv3()) {
          closeWithCode(PROTOCOL_ERROR, "");
        } else if (control && (h.length() > 125 || !h.fin())) {
          closeWithCode(PROTOCOL_ERROR, "");
        } else if (control) {
          if (start.isFullMessage()) {
            handleControlFrame(op, start.data(), state);
          } else {
            controlOpcode = op;
            controlData = start.data();
            afterControl = state;
            state = State.CONTROL_DATA;
            pull(in);
          }
        } else if (state == State.IDLE) {
          if (op == BINARY && start.isFullMessage()) {
            push(out, new FrameHandler.BinaryMessagePart(start.data(), true));
          } else if (op == BINARY || op == TEXT) {
            state = State.MESSAGE;
            messageOpcode = op;
            expectFirstHeader = true;
            finSeen = false;
            utf8 = op == TEXT ? new Utf8() : null;
            messageFrameStart(start, op);
          } else {
            closeWithCode(PROTOCOL_ERROR, "");
          }
        } else {
          messageFrameStart(start, op);
        }
      }

      private void messageFrameStart(FrameStart start, int op) {
        if ((expectFirstHeader && op == messageOpcode) || op == CONTINUATION) {
          expectFirstHeader = false;
          if (start.header().fin()) {
            finSeen = true;
          }
          publish(start.data(), finSeen && start.lastPart());
        } else {
          closeWithCode(PROTOCOL_ERROR, "");
        }
      }

      private void publish(ByteString data, boolean last) {
        FrameHandler.Output part;
        if (messageOpcode == TEXT) {
          String text;
          try {
            text = utf8.decode(data, last);
          } catch (CharacterCodingException malformed) {
            closeWithCode(INCONSISTENT_DATA, "");
            return;
          }
          part = new FrameHandler.TextMessagePart(text, last);
        } else {
          part = new FrameHandler.BinaryMessagePart(data, last);
        }
        if (last) {
          state = State.IDLE;
          utf8 = null;
        }
        push(out, part);
      }

      private void handleControlFrame(int op, ByteString data, State next) {
        state = next;
        switch (op) {
          case PING:
            push(out, new FrameHandler.DirectAnswer(
                FrameEvent$.MODULE$.fullFrame(PONG_OPCODE, Option.empty(), data, true, false,
                    false, false)));
            break;
          case PONG:
            pull(in); // an unsolicited pong is ignored
            break;
          case CLOSE:
            state = State.WAIT_FOR_TCP_CLOSE;
            push(out, FrameHandler.PeerClosed$.MODULE$.parse(data));
            break;
          default:
            closeWithCode(PROTOCOL_ERROR, "Unsupported opcode");
        }
      }

      private void closeWithCode(int code, String reason) {
        state = State.CLOSE_AFTER_PEER_CLOSED;
        push(out, new FrameHandler.ActivelyCloseWithCode(Option.apply(code), reason));
      }
    };
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
      boolean ascii = true;
      for (byte x : b) {
        if (x < 0) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        return new String(b, StandardCharsets.ISO_8859_1);
      }
      return newDecoder().decode(ByteBuffer.wrap(b)).toString();
    }

    private static CharsetDecoder newDecoder() {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
  }
}
