package io.peernode.node.http;

import akka.Done;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.stream.stage.AbstractGraphStageWithMaterializedValue;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One connection of the HTTP port. It reads the request head, then either answers a WebSocket
 * upgrade to one of its paths itself (101, see {@link WebSocketHandshake}) and joins the
 * connection to that path's flow of bytes, or gives the connection, from its first byte, to
 * Akka HTTP's server flow. Either flow runs fused into this connection's stream. A head that
 * does not end within {@code maxHead} bytes goes to Akka HTTP too, which answers it.
 * Each flow ends in a {@link WriteBatcher}, so that what it writes while the socket is busy
 * crosses into this stage as one chunk.
 */
final class ConnectionSwitch
    extends AbstractGraphStageWithMaterializedValue<FlowShape<ByteString, ByteString>,
        ConnectionSwitch.Handle> {

  /** A running connection, for the server that closes it at shutdown. */
  static final class Handle {
    final CompletableFuture<Done> terminated = new CompletableFuture<>();
    /** Set when the connection is a WebSocket. */
    volatile boolean webSocket;
    /** HTTP requests read and not yet answered (kept by the HTTP flow). */
    final AtomicInteger inFlight = new AtomicInteger();
    private volatile AsyncCallback<Done> close;

    /** Ends the connection: both directions, now. */
    void close() {
      close.invoke(Done.getInstance());
    }
  }

  private final Inlet<ByteString> in = Inlet.create("ConnectionSwitch.in");
  private final Outlet<ByteString> out = Outlet.create("ConnectionSwitch.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final Map<String, Flow<ByteString, ByteString, ?>> webSockets;
  private final Function<Handle, Flow<ByteString, ByteString, ?>> http;
  private final int maxHead;
  private final int maxWriteBatch;

  /**
   * @param webSockets the flow of each WebSocket path taken here (bytes after the handshake)
   * @param http Akka HTTP's server flow for a connection
   */
  ConnectionSwitch(Map<String, Flow<ByteString, ByteString, ?>> webSockets,
      Function<Handle, Flow<ByteString, ByteString, ?>> http, int maxHead, int maxWriteBatch) {
    this.webSockets = webSockets;
    this.http = http;
    this.maxHead = maxHead;
    this.maxWriteBatch = maxWriteBatch;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public Pair<GraphStageLogic, Handle> createLogicAndMaterializedValuePair(Attributes attrs) {
    Handle handle = new Handle();
    GraphStageLogic logic = new GraphStageLogic(shape) {
      /** The head so far; null once decided. */
      private ByteString head = webSockets.isEmpty() ? null : ByteString.emptyByteString();
      private int searched;
      /** What the chosen flow reads first (the bytes read so far), or null. */
      private ByteString firstIn;
      /** What the connection writes first (the 101), or null. */
      private ByteString firstOut;
      private boolean inFinished;
      private SubSourceOutlet<ByteString> toFlow;
      private SubSinkInlet<ByteString> fromFlow;

      {
        handle.close = createAsyncCallback(done -> completeStage());
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString bytes = grab(in);
            if (toFlow != null) {
              toFlow.push(bytes);
              return;
            }
            head = head.concat(bytes);
            int length = WebSocketHandshake.headLength(head, searched);
            if (length >= 0 && length <= maxHead) {
              decide(length);
            } else if (length >= 0 || head.length() > maxHead) {
              toHttp();
            } else {
              searched = Math.max(0, head.length() - 3);
              pull(in);
            }
          }

          @Override
          public void onUpstreamFinish() {
            inFinished = true;
            if (toFlow != null) {
              if (firstIn == null) toFlow.complete();
            } else if (head.isEmpty()) {
              completeStage();
            } else {
              toHttp(); // Akka HTTP answers a truncated request as it sees fit
            }
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            if (toFlow != null) {
              toFlow.fail(ex);
            } else {
              failStage(ex);
            }
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pullFlow();
          }
        });
      }

      @Override
      public void preStart() {
        if (head == null) {
          head = ByteString.emptyByteString();
          toHttp(); // no WebSocket taken here: straight to Akka HTTP
        } else {
          pull(in);
        }
      }

      @Override
      public void postStop() {
        if (toFlow != null && !toFlow.isClosed()) toFlow.complete();
        if (fromFlow != null && !fromFlow.isClosed()) fromFlow.cancel();
        handle.terminated.complete(Done.getInstance());
      }

      private void decide(int length) {
        WebSocketHandshake.Upgrade upgrade =
            WebSocketHandshake.parse(head.take(length), webSockets.keySet());
        if (upgrade == null) {
          toHttp();
          return;
        }
        handle.webSocket = true;
        firstOut = WebSocketHandshake.response(upgrade.key);
        ByteString rest = head.drop(length);
        head = null;
        run(webSockets.get(upgrade.path), rest);
      }

      private void toHttp() {
        ByteString all = head;
        head = null;
        run(http.apply(handle), all);
      }

      private void run(Flow<ByteString, ByteString, ?> flow, ByteString first) {
        firstIn = first.isEmpty() ? null : first;
        toFlow = new SubSourceOutlet<>("ConnectionSwitch.toFlow");
        toFlow.setHandler(new AbstractOutHandler() {
          @Override
          public void onPull() {
            if (firstIn != null) {
              ByteString b = firstIn;
              firstIn = null;
              toFlow.push(b);
              if (inFinished) toFlow.complete();
            } else if (inFinished) {
              toFlow.complete();
            } else if (!hasBeenPulled(in)) {
              pull(in);
            }
          }

          @Override
          public void onDownstreamFinish(Throwable cause) {
            // The flow reads no more; what it writes still goes out.
            cancel(in);
          }
        });
        fromFlow = new SubSinkInlet<>("ConnectionSwitch.fromFlow");
        fromFlow.setHandler(new AbstractInHandler() {
          @Override
          public void onPush() {
            push(out, fromFlow.grab());
          }

          @Override
          public void onUpstreamFinish() {
            completeStage();
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            failStage(ex);
          }
        });
        Source.fromGraph(toFlow.source()).via(flow).via(new WriteBatcher(maxWriteBatch))
            .runWith(fromFlow.sink(), subFusingMaterializer());
        if (isAvailable(out)) pullFlow();
      }

      private void pullFlow() {
        if (firstOut != null) {
          ByteString b = firstOut;
          firstOut = null;
          push(out, b);
        } else if (fromFlow != null && !fromFlow.hasBeenPulled() && !fromFlow.isClosed()) {
          fromFlow.pull();
        }
      }
    };
    return Pair.create(logic, handle);
  }
}
