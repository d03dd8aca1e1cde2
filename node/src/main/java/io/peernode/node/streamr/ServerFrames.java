package io.peernode.node.streamr;

import akka.event.LoggingAdapter;
import akka.http.impl.engine.ws.FrameData;
import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.FrameHandler;
import akka.http.impl.engine.ws.FrameHeader;
import akka.http.impl.engine.ws.FrameStart;
import akka.http.impl.engine.ws.ProtocolException;
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
import io.peernode.actors.streams.ClientConnection;
import java.nio.ByteBuffer;
import java.time.Duration;
import scala.Option;

/**
 * The server's outgoing WebSocket frames in one stage: Akka HTTP's {@code FrameOutHandler}
 * (the close handshake, server side) and {@code FrameEventRenderer} together, taking the text
 * frames of the connection's messages already rendered.
 *
 * <p>{@link #TEXT} renders a burst of server messages as their text frames in one array (what
 * {@link ClientConnection#flow(akka.actor.typed.ActorSystem, ClientConnection.Deps,
 * ClientConnection.Framing)} asks for), so that a burst crosses the frame layers as one element
 * instead of one {@code FrameStart}, one header render and one concatenation per message.
 * {@link Writer} passes such bytes on as they are and renders the frame layers' own events
 * (pongs, pings, close frames) as Akka HTTP does; its close handling is {@code
 * FrameOutHandler}'s for a server, state for state: answering the peer's close once the
 * handler completes, closing with 1000, 1009 or 1011 (handler failed) and waiting for the
 * peer's close frame at most the close timeout, closing with 1002 on a protocol error.
 */
final class ServerFrames {

  private ServerFrames() {}

  private static final int FIN = 0x80;
  private static final int TEXT_OPCODE = 0x1;

  /** Server messages as final, unmasked text frames (RFC 6455, section 5.2), in order. */
  static final ClientConnection.Framing TEXT = (messages, count, bytes) -> {
    int size = bytes;
    for (int i = 0; i < count; i++) size += headerSize(messages[i].length(), false);
    ByteBuffer b = ByteBuffer.allocate(size);
    for (int i = 0; i < count; i++) {
      ByteString m = messages[i];
      putHeader(b, FIN | TEXT_OPCODE, m.length(), null);
      m.copyToBuffer(b);
    }
    return ByteString.fromArrayUnsafe(b.array());
  };

  private static int headerSize(long length, boolean masked) {
    int extra = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
    return 2 + extra + (masked ? 4 : 0);
  }

  private static void putHeader(ByteBuffer b, int firstByte, long length, Integer mask) {
    int maskBit = mask != null ? 0x80 : 0;
    b.put((byte) firstByte);
    if (length < 126) {
      b.put((byte) (maskBit | (int) length));
    } else if (length <= 0xFFFF) {
      b.put((byte) (maskBit | 126));
      b.putShort((short) length);
    } else {
      b.put((byte) (maskBit | 127));
      b.putLong(length);
    }
    if (mask != null) b.putInt(mask);
  }

  /** A frame event of the frame layers, rendered as {@code FrameEventRenderer} does. */
  static ByteString render(FrameStart start) {
    FrameHeader h = start.header();
    if (h.length() < start.data().length()) {
      throw new IllegalStateException("frame data longer than its header says");
    }
    Option<Object> mask = h.mask();
    int first = (h.fin() ? FIN : 0) | (h.rsv1() ? 0x40 : 0) | (h.rsv2() ? 0x20 : 0)
        | (h.rsv3() ? 0x10 : 0) | h.opcode().code();
    ByteBuffer b = ByteBuffer.allocate(headerSize(h.length(), mask.isDefined()));
    putHeader(b, first, h.length(), mask.isDefined() ? (Integer) mask.get() : null);
    return ByteString.fromArrayUnsafe(b.array()).concat(start.data());
  }

  /**
   * What the message layer sends down ({@link ByteString}s of rendered frames, frame events,
   * the frame handler's close events and ticks) in, the connection's bytes out.
   */
  static final class Writer extends GraphStage<FlowShape<Object, ByteString>> {

    private static final Object TICK = TextWebSocket.MessageLayer.TICK;
    private static final Object USER_COMPLETED = TextWebSocket.MessageLayer.USER_COMPLETED;

    private final Inlet<Object> in = Inlet.create("ServerFrames.in");
    private final Outlet<ByteString> out = Outlet.create("ServerFrames.out");
    private final FlowShape<Object, ByteString> shape = FlowShape.of(in, out);
    private final Duration closeTimeout;
    private final LoggingAdapter log;

    Writer(Duration closeTimeout, LoggingAdapter log) {
      this.closeTimeout = closeTimeout;
      this.log = log;
    }

    @Override
    public FlowShape<Object, ByteString> shape() {
      return shape;
    }

    private enum State {
      IDLE,
      /** The peer closed normally: its close is answered once the handler completes. */
      WAITING_FOR_USER_HANDLER,
      /** Our close frame is out: the peer's is awaited, until the deadline. */
      WAITING_FOR_PEER_CLOSE,
      /** Upstream is done: the close frame goes at the next demand, then the stage ends. */
      SENDING_CLOSE
    }

    @Override
    public GraphStageLogic createLogic(Attributes inheritedAttributes) {
      return new GraphStageLogic(shape) {
        private State state = State.IDLE;
        /** The close frame to answer with (WAITING_FOR_USER_HANDLER) or to send (SENDING_CLOSE). */
        private FrameStart closeFrame;
        private long deadlineNanos;

        {
          setHandler(in, new AbstractInHandler() {
            @Override
            public void onPush() {
              Object e = grab(in);
              switch (state) {
                case IDLE:
                  idle(e);
                  break;
                case WAITING_FOR_USER_HANDLER:
                  waitingForUserHandler(e);
                  break;
                case WAITING_FOR_PEER_CLOSE:
                  waitingForPeerClose(e);
                  break;
                default:
                  failStage(new IllegalStateException("Didn't expect push after completion"));
              }
            }

            @Override
            public void onUpstreamFinish() {
              if (state == State.IDLE) {
                sendCloseAndComplete(close(Protocol.CloseCodes$.MODULE$.Regular(), ""));
              } else if (state == State.WAITING_FOR_USER_HANDLER) {
                failStage(new IllegalStateException("Mustn't complete before user has completed"));
              } else if (state == State.WAITING_FOR_PEER_CLOSE) {
                completeStage();
              }
            }

            @Override
            public void onUpstreamFailure(Throwable cause) {
              if (state == State.WAITING_FOR_USER_HANDLER) {
                failStage(cause);
              } else if (isProtocolError(cause)) {
                sendCloseAndComplete(close(Protocol.CloseCodes$.MODULE$.ProtocolError(), ""));
              } else {
                failStage(rootCause(cause)); // as FrameOutHandler, which unwraps the causes
              }
            }
          });
          setHandler(out, new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (state == State.SENDING_CLOSE) {
                push(out, render(closeFrame));
                completeStage();
              } else {
                pull(in);
              }
            }
          });
        }

        private void idle(Object e) {
          if (e instanceof ByteString) {
            push(out, (ByteString) e);
          } else if (e instanceof FrameStart) {
            push(out, render((FrameStart) e));
          } else if (e instanceof FrameData) {
            push(out, ((FrameData) e).data());
          } else if (e instanceof FrameHandler.DirectAnswer) {
            push(out, render(((FrameHandler.DirectAnswer) e).frame()));
          } else if (e instanceof FrameHandler.PeerClosed) {
            FrameHandler.PeerClosed p = (FrameHandler.PeerClosed) e;
            FrameStart answer = close(codeOr(p.code()), p.reason());
            if (p.code().isDefined() && isError(p.code())) {
              push(out, render(answer));
              completeStage();
            } else {
              // let the handler complete first, as Akka HTTP does
              state = State.WAITING_FOR_USER_HANDLER;
              closeFrame = answer;
              pull(in);
            }
          } else if (e instanceof FrameHandler.ActivelyCloseWithCode) {
            FrameHandler.ActivelyCloseWithCode a = (FrameHandler.ActivelyCloseWithCode) e;
            awaitPeerClose(close(codeOr(a.code()), a.reason()));
          } else if (e == USER_COMPLETED) {
            awaitPeerClose(close(Protocol.CloseCodes$.MODULE$.Regular(), ""));
          } else if (e instanceof FrameHandler.UserHandlerErredOut) {
            Throwable cause = ((FrameHandler.UserHandlerErredOut) e).cause();
            log.error(cause, "Websocket handler failed with {}", cause.getMessage());
            awaitPeerClose(close(Protocol.CloseCodes$.MODULE$.UnexpectedCondition(),
                "internal error"));
          } else {
            pull(in); // a tick
          }
        }

        private void waitingForUserHandler(Object e) {
          if (e == USER_COMPLETED || e instanceof FrameHandler.UserHandlerErredOut) {
            if (e != USER_COMPLETED) {
              Throwable cause = ((FrameHandler.UserHandlerErredOut) e).cause();
              log.error(cause, "Websocket handler failed while waiting for handler completion "
                  + "with {}", cause.getMessage());
            }
            push(out, render(closeFrame));
            completeStage();
          } else if (e instanceof ByteString) {
            push(out, (ByteString) e);
          } else if (e instanceof FrameStart) {
            push(out, render((FrameStart) e));
          } else {
            pull(in);
          }
        }

        private void waitingForPeerClose(Object e) {
          if (e == TICK) {
            if (System.nanoTime() - deadlineNanos >= 0) {
              log.debug("Peer did not acknowledge CLOSE frame after {}, closing underlying "
                  + "connection now.", closeTimeout);
              completeStage();
              return;
            }
          } else if (e instanceof FrameHandler.PeerClosed) {
            completeStage();
            return;
          }
          pull(in);
        }

        private void awaitPeerClose(FrameStart close) {
          state = State.WAITING_FOR_PEER_CLOSE;
          deadlineNanos = System.nanoTime() + closeTimeout.toNanos();
          push(out, render(close));
        }

        private void sendCloseAndComplete(FrameStart close) {
          state = State.SENDING_CLOSE;
          closeFrame = close;
          if (isAvailable(out)) {
            push(out, render(close));
            completeStage();
          }
        }
      };
    }

    private static FrameStart close(int code, String reason) {
      return FrameEvent$.MODULE$.closeFrame(code, reason, Option.empty());
    }

    private static int codeOr(Option<Object> code) {
      return code.isDefined() ? (Integer) code.get() : Protocol.CloseCodes$.MODULE$.Regular();
    }

    private static boolean isError(Option<Object> code) {
      return Protocol.CloseCodes$.MODULE$.isError((Integer) code.get());
    }

    private static Throwable rootCause(Throwable cause) {
      Throwable t = cause;
      while (t.getCause() != null) t = t.getCause();
      return t;
    }

    private static boolean isProtocolError(Throwable cause) {
      for (Throwable t = cause; t != null; t = t.getCause()) {
        if (t instanceof ProtocolException) return true;
      }
      return false;
    }
  }
}
