package io.peernode.node.streamr;

import akka.NotUsed;
import akka.actor.ClassicActorSystemProvider;
import akka.event.Logging;
import akka.event.LoggingAdapter;
import akka.http.impl.engine.ws.FrameEvent;
import akka.http.impl.engine.ws.FrameEvent$;
import akka.http.impl.engine.ws.FrameEventOrError;
import akka.http.impl.engine.ws.FrameEventParser$;
import akka.http.impl.engine.ws.FrameEventRenderer;
import akka.http.impl.engine.ws.FrameHandler;
import akka.http.impl.engine.ws.FrameLogger$;
import akka.http.impl.engine.ws.Protocol;
import akka.http.impl.engine.ws.ProtocolException;
import akka.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import akka.http.impl.engine.ws.WebSocket$;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.ws.WebSocketUpgrade;
import akka.http.scaladsl.model.ws.PeerClosedConnectionException;
import akka.http.scaladsl.settings.WebSocketSettings;
import akka.stream.Attributes;
import akka.stream.BidiShape;
import akka.stream.FlowShape;
import akka.stream.javadsl.GraphDSL;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.Flow;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.GraphStage;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import java.time.Duration;
import java.util.ArrayDeque;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * A text WebSocket for the data API, with a lighter message layer than Akka HTTP's.
 *
 * <p>Akka HTTP 10.2's {@code handleWebSocketMessages} turns every incoming message into a
 * substream of its own ({@code splitAfter}, {@code prefixAndTail}, {@code concatSubstreams},
 * and a materialized {@code Sink.cancelled} for the rest of each strict message): two to three
 * stream materializations per incoming frame, the largest cost of a publishing connection.
 * Here Akka HTTP's own frame layers stay (parsing, rendering, the close handshake of {@code
 * FrameOutHandler}, the periodic keep-alive), except unmasking, which {@link Unmasking} does
 * eight bytes at a time; its {@code FrameHandler} and the top layer, messages, are replaced by
 * one stage ({@link MessageLayer}) that decodes frames with {@link TextFrameDecoder}
 * (FrameHandler's logic, with the JDK's UTF-8 decoding), collects the parts of a text message
 * into one String, up to a limit, and renders each outgoing message (the UTF-8 of its text,
 * which a broadcast's subscribers share) as one final text frame. On the connections that the
 * node's {@code HttpServer} takes ({@link #renderedBytes}), the handler's messages come already
 * rendered as frames, several to an element, and {@link ServerFrames.Writer} takes the place of
 * {@code FrameOutHandler} and the renderer. It uses Akka HTTP's internal frame API ({@code
 * UpgradeToWebSocketLowLevel.handleFrames}), stable in 10.2.x, the last Apache-licensed line.
 */
final class TextWebSocket {

  /** What the handler gets in place of a binary message (it is not a JSON request). */
  static final String BINARY = "<binary frame>";

  private TextWebSocket() {}

  /**
   * The frame-level flow of a text WebSocket: Akka HTTP's frame layers and {@link
   * MessageLayer} around {@code handler}. A text message longer than {@code maxChars} reaches
   * the handler as {@code tooLarge} (its parts are read and dropped). A blueprint: build it
   * once and hand it to every upgrade (Akka HTTP keeps the flow of an upgraded connection for
   * the connection's life, so one per connection would cost each idle connection its copy).
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static akka.stream.scaladsl.Flow<FrameEvent, FrameEvent, Object> frames(
      ClassicActorSystemProvider system, Flow<String, ByteString, ?> handler, long maxChars,
      String tooLarge) {
    return (akka.stream.scaladsl.Flow) layers(system, handler, maxChars, tooLarge, false);
  }

  /**
   * The frame logging of Akka HTTP's settings ({@code websocket.log-frames}) is on: it needs
   * the frame layers' events, so {@link #renderedBytes} is not for it.
   */
  static boolean logsFrames(ClassicActorSystemProvider system) {
    return settings(system).logFrames();
  }

  /**
   * The connection's bytes (after the handshake) through {@code handler}, which gives its
   * messages as text frames already rendered ({@link ServerFrames#TEXT}): Akka HTTP's frame
   * parser under the layers of {@code frames}, and {@link ServerFrames.Writer} in place of its
   * out handler and renderer. A blueprint; not with {@link #logsFrames}.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Flow<ByteString, ByteString, NotUsed> renderedBytes(ClassicActorSystemProvider system,
      Flow<String, ByteString, ?> handler, long maxChars, String tooLarge) {
    if (logsFrames(system)) throw new IllegalStateException("frames are to be logged");
    return Flow.fromGraph((akka.stream.Graph) FrameEventParser$.MODULE$)
        .via((akka.stream.Graph) layers(system, handler, maxChars, tooLarge, true));
  }

  private static WebSocketSettings settings(ClassicActorSystemProvider system) {
    return (WebSocketSettings) akka.http.javadsl.settings.ServerSettings
        .create(system.classicSystem()).getWebsocketSettings();
  }

  /**
   * The layers above the frame parser, joined with {@code handler}: frame events in; out,
   * frame events for Akka HTTP's renderer, or with {@code rendered} the connection's bytes
   * (the handler's are rendered frames already).
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static akka.stream.scaladsl.Flow<FrameEvent, Object, Object> layers(
      ClassicActorSystemProvider system, Flow<String, ByteString, ?> handler, long maxChars,
      String tooLarge, boolean rendered) {
    WebSocketSettings ws = settings(system);
    LoggingAdapter log = Logging.getLogger(system.classicSystem(), TextWebSocket.class);
    FiniteDuration closeTimeout = FiniteDuration.apply(3, java.util.concurrent.TimeUnit.SECONDS);
    akka.stream.Graph outHandler = rendered
        ? new ServerFrames.Writer(Duration.ofSeconds(3), log)
        : akka.http.impl.engine.ws.FrameOutHandler$.MODULE$.create(true, closeTimeout, log);
    akka.stream.Graph logger = ws.logFrames() && !rendered
        ? FrameLogger$.MODULE$.logFramesIfEnabled(true) : null;
    akka.stream.Graph keepAlive = ws.periodicKeepAliveMaxIdle().isFinite()
        ? WebSocket$.MODULE$.periodicKeepAlive(ws) : null;
    MessageLayer messages = new MessageLayer(maxChars, tooLarge, Duration.ofSeconds(3),
        rendered);
    // Akka HTTP's server stack, wired by hand: frames in through unmasking, (the logger, the
    // keep-alive,) to the message layer; texts out through the message layer, (the keep-alive,)
    // the out handler (and the logger). Not with masking's or fromFlows' identity flows (a
    // server does not mask): each would be a stage that every connection holds.
    akka.stream.Graph top = GraphDSL.create(b -> {
      FlowShape unmask = b.add(new Unmasking());
      BidiShape m = b.add(messages);
      FlowShape o = (FlowShape) b.add(outHandler);
      Outlet up = unmask.out();
      Outlet down = o.out();
      if (logger != null) {
        BidiShape l = (BidiShape) b.add(logger);
        b.from(up).toInlet(l.in1());
        up = l.out1();
        b.from(down).toInlet(l.in2());
        down = l.out2();
      }
      if (keepAlive != null) {
        BidiShape k = (BidiShape) b.add(keepAlive);
        b.from(up).toInlet(k.in1());
        up = k.out1();
        b.from(m.out2()).toInlet(k.in2());
        b.from(k.out2()).toInlet(o.in());
      } else {
        b.from(m.out2()).toInlet(o.in());
      }
      b.from(up).toInlet(m.in1());
      return BidiShape.of(unmask.in(), m.out1(), m.in2(), down);
    });
    akka.stream.scaladsl.BidiFlow stack = akka.stream.scaladsl.BidiFlow.fromGraph(top);
    return stack.join((akka.stream.Graph) handler);
  }

  /**
   * The same on the connection's bytes (after the handshake): Akka HTTP's frame parser and
   * renderer under {@code frames}, as its server joins them after an upgrade. A blueprint.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Flow<ByteString, ByteString, NotUsed> bytes(
      akka.stream.scaladsl.Flow<FrameEvent, FrameEvent, Object> frames) {
    akka.stream.Graph framing = GraphDSL.create(b -> {
      FlowShape parser = (FlowShape) b.add((akka.stream.Graph) FrameEventParser$.MODULE$);
      FlowShape renderer = (FlowShape) b.add(new FrameEventRenderer());
      return BidiShape.of(parser.in(), parser.out(), renderer.in(), renderer.out());
    });
    return akka.stream.javadsl.BidiFlow.fromGraph(framing).join(Flow.fromGraph((akka.stream.Graph) frames))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /** The upgrade response: the connection's frames through {@code frames}. */
  static HttpResponse handle(WebSocketUpgrade upgrade,
      akka.stream.scaladsl.Flow<FrameEvent, FrameEvent, Object> frames) {
    return ((UpgradeToWebSocketLowLevel) upgrade).handleFrames(frames, Option.empty());
  }

  /**
   * The message layer: frame events in (decoded as FrameHandler would, and whatever the
   * keep-alive layer injects), whole text messages to the handler; the
   * handler's texts out as frames, with the frame layers' own events (pongs, close) passed
   * by. Mirrors Akka HTTP's {@code WebSocket.messageAPI} (its bypass routing, completion
   * lifting and close ticks) in one stage without substreams.
   */
  static final class MessageLayer
      extends GraphStage<BidiShape<Object, String, ByteString, Object>> {

    private static final Protocol.Opcode TEXT = Protocol.Opcode$.MODULE$.forCode((byte) 1);
    /** {@code WebSocket.Tick}: what FrameOutHandler counts its close timeout with. */
    static final Object TICK = singleton("akka.http.impl.engine.ws.WebSocket$Tick$");
    static final Object USER_COMPLETED =
        singleton("akka.http.impl.engine.ws.FrameHandler$UserHandlerCompleted$");
    /** Bypass events (pongs) held before reading further frames. */
    private static final int MAX_PENDING_DOWN = 16;

    private static Object singleton(String className) {
      try {
        return Class.forName(className).getField("MODULE$").get(null);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Akka HTTP internals changed: " + className, e);
      }
    }

    final Inlet<Object> fromFrames = Inlet.create("MessageLayer.fromFrames");
    final Outlet<String> toHandler = Outlet.create("MessageLayer.toHandler");
    /** Each a message's UTF-8, or with {@code rendered} its frames' bytes (several messages). */
    final Inlet<ByteString> fromHandler = Inlet.create("MessageLayer.fromHandler");
    final Outlet<Object> toFrames = Outlet.create("MessageLayer.toFrames");
    private final BidiShape<Object, String, ByteString, Object> shape =
        BidiShape.of(fromFrames, toHandler, fromHandler, toFrames);
    private final long maxChars;
    private final String tooLarge;
    private final Duration closeTick;
    private final boolean rendered;

    MessageLayer(long maxChars, String tooLarge, Duration closeTick, boolean rendered) {
      this.maxChars = maxChars;
      this.tooLarge = tooLarge;
      this.closeTick = closeTick;
      this.rendered = rendered;
    }

    @Override
    public BidiShape<Object, String, ByteString, Object> shape() {
      return shape;
    }

    // No name attribute: a stage with attributes of its own gets a copy of the inherited ones
    // in each materialization, heap that every idle WebSocket would keep.

    @Override
    public TimerGraphStageLogic createLogic(Attributes inheritedAttributes) {
      return new TimerGraphStageLogic(shape) {
        /** Parts of the message being read; null while none is. */
        private StringBuilder parts;
        private boolean inMessage;
        private boolean partsTooLarge;
        /**
         * A message over the limit went up: the handler answers it and ends, and the close that
         * follows carries 1009 (message too big, RFC 6455) instead of a normal 1000.
         */
        private boolean closeTooBig;
        /** A whole message waiting for the handler's demand (at most one is read ahead). */
        private String pendingUp;
        /** How the handler's input ends once pendingUp is delivered: null, or a failure. */
        private boolean completeUpAfterPending;
        private Throwable failUpAfterPending;
        /** What waits for demand towards the frame layers, in order. */
        private final ArrayDeque<Object> pendingDown = new ArrayDeque<>(1);
        private boolean ticking;
        private final TextFrameDecoder decoder = new TextFrameDecoder();

        {
          setHandler(fromFrames, new AbstractInHandler() {
            @Override
            public void onPush() {
              Object e = grab(fromFrames);
              FrameHandler.Output decoded;
              try {
                decoded = e instanceof FrameEventOrError
                    ? decoder.decode((FrameEventOrError) e) : (FrameHandler.Output) e;
              } catch (TextFrameDecoder.Failure failure) {
                failStage(failure.getCause());
                return;
              }
              if (decoded != null) onFrameOutput(decoded);
              pullFrames();
            }

            @Override
            public void onUpstreamFinish() {
              if (pendingUp == null) {
                complete(toHandler);
              } else {
                completeUpAfterPending = true;
              }
              completeIfDone();
            }
          });
          setHandler(toHandler, new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (pendingUp != null) {
                String m = pendingUp;
                pendingUp = null;
                push(toHandler, m);
                if (failUpAfterPending != null) {
                  fail(toHandler, failUpAfterPending);
                } else if (completeUpAfterPending) {
                  complete(toHandler);
                }
              }
              pullFrames();
            }

            @Override
            public void onDownstreamFinish(Throwable cause) {
              // As Akka HTTP: the frame layers go on (close handshake, pongs) without a reader.
              pendingUp = null;
              pullFrames();
            }
          });
          setHandler(fromHandler, new AbstractInHandler() {
            @Override
            public void onPush() {
              ByteString data = grab(fromHandler);
              down(rendered ? data : FrameEvent$.MODULE$.fullFrame(TEXT, Option.empty(), data,
                  true, false, false, false));
            }

            @Override
            public void onUpstreamFinish() {
              down(closeTooBig ? new FrameHandler.ActivelyCloseWithCode(
                  Option.apply((Object) Protocol.CloseCodes$.MODULE$.TooBig()), "message too big")
                  : USER_COMPLETED);
              startTicks();
              completeIfDone();
            }

            @Override
            public void onUpstreamFailure(Throwable ex) {
              down(new FrameHandler.UserHandlerErredOut(ex));
              startTicks();
              completeIfDone();
            }
          });
          setHandler(toFrames, new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (!pendingDown.isEmpty()) {
                push(toFrames, pendingDown.poll());
                pullFrames();
                completeIfDone();
              } else if (!isClosed(fromHandler) && !hasBeenPulled(fromHandler)) {
                pull(fromHandler);
              }
            }
          });
        }

        @Override
        public void preStart() {
          pull(fromFrames);
        }

        @Override
        public void onTimer(Object key) {
          if (pendingDown.isEmpty() && isAvailable(toFrames)) {
            push(toFrames, TICK);
          }
        }

        private void startTicks() {
          if (!ticking) {
            ticking = true;
            scheduleWithFixedDelay("close-tick", closeTick, closeTick);
          }
        }

        private void pullFrames() {
          if (!isClosed(fromFrames) && !hasBeenPulled(fromFrames) && pendingUp == null
              && pendingDown.size() < MAX_PENDING_DOWN) {
            pull(fromFrames);
          }
        }

        private void completeIfDone() {
          if (isClosed(fromFrames) && isClosed(fromHandler) && pendingDown.isEmpty()) {
            completeStage();
          }
        }

        private void down(Object x) {
          if (pendingDown.isEmpty() && isAvailable(toFrames)) {
            push(toFrames, x);
          } else {
            pendingDown.add(x);
          }
        }

        private void up(String m) {
          if (isClosed(toHandler)) {
            return;
          }
          if (isAvailable(toHandler)) {
            push(toHandler, m);
          } else {
            pendingUp = m;
          }
        }

        private void endUp(Throwable failure) {
          if (isClosed(toHandler)) {
            return;
          }
          if (pendingUp != null) {
            if (failure != null) {
              failUpAfterPending = failure;
            } else {
              completeUpAfterPending = true;
            }
          } else if (failure != null) {
            fail(toHandler, failure);
          } else {
            complete(toHandler);
          }
        }

        private void onFrameOutput(FrameHandler.Output e) {
          if (e instanceof FrameHandler.TextMessagePart) {
            FrameHandler.TextMessagePart t = (FrameHandler.TextMessagePart) e;
            onText(t.data(), t.last());
          } else if (e instanceof FrameHandler.BinaryMessagePart) {
            boolean last = ((FrameHandler.BinaryMessagePart) e).last();
            inMessage = !last;
            if (last) {
              up(BINARY);
            }
          } else if (e instanceof FrameHandler.PeerClosed) {
            FrameHandler.PeerClosed p = (FrameHandler.PeerClosed) e;
            down(p);
            Option<Object> code = p.code();
            if (code.isDefined() && Protocol.CloseCodes$.MODULE$.isError((Integer) code.get())) {
              endUp(new PeerClosedConnectionException((Integer) code.get(), p.reason()));
            } else if (inMessage) {
              endUp(new ProtocolException(
                  "Truncated message, peer closed connection in the middle of message."));
            } else {
              endUp(null);
            }
          } else if (e instanceof FrameHandler.ActivelyCloseWithCode) {
            FrameHandler.ActivelyCloseWithCode a = (FrameHandler.ActivelyCloseWithCode) e;
            down(a);
            startTicks();
            Option<Object> code = a.code();
            endUp(code.isDefined() && Protocol.CloseCodes$.MODULE$.isError((Integer) code.get())
                ? new ProtocolException("Closing connection with error code " + code.get())
                : new IllegalStateException("Regular close from FrameHandler is unexpected"));
          } else {
            down(e); // DirectAnswer (a pong) and any other bypass event
          }
        }

        private String tooLargeOr(String message, boolean over) {
          if (over) {
            closeTooBig = true;
            return tooLarge;
          }
          return message;
        }

        private void onText(String data, boolean last) {
          inMessage = !last;
          if (last && parts == null) {
            // the usual case: a message in one frame
            up(tooLargeOr(data, data.length() > maxChars));
            return;
          }
          if (parts == null) {
            parts = new StringBuilder();
            partsTooLarge = false;
          }
          if (!partsTooLarge) {
            if (parts.length() + (long) data.length() > maxChars) {
              partsTooLarge = true;
              parts.setLength(0);
            } else {
              parts.append(data);
            }
          }
          if (last) {
            String m = tooLargeOr(partsTooLarge ? null : parts.toString(), partsTooLarge);
            parts = null;
            up(m);
          }
        }
      };
    }
  }
}
