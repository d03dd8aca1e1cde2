package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Outlet;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStage;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.TimerGraphStageLogic;
import akka.util.ByteString;
import io.peernode.protocol.userapi.StreamDataFrames;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A byte stream's data connection as seen from one node: the stage between the Akka Streams
 * {@code Tcp} connection and the stream end's {@link ByteStreamPipe}, fused with the
 * connection (no actor between the socket and the bytes).
 *
 * <p>Both directions carry {@link StreamDataFrames}: the stream's bytes and the credit that this
 * end's reader gives back. Outbound it pushes, when the connection pulls (TCP back-pressure),
 * the credit due (one frame) and what the pipe's {@code outgoing} holds, up to {@code
 * stream-chunk} per data frame (joined, not copied), and completes (TCP half-close) once the
 * endpoint ended it and it is empty. Inbound it always pulls: it puts data into the pipe's
 * {@code incoming} (slices of what was read; straight to a waiting reader's demand, whose
 * credit it then sends at once) and credit into the pipe's {@code outgoing}, which first
 * covers a writer's write-ahead (sent at once too) and wakes a waiting writer. Credit keeps
 * what the peer may send within this end's buffer; a peer that sends more, or a bad frame,
 * breaks the protocol (the connection fails with a logged reason). The end or failure of the connection is told to the endpoint ({@link
 * ByteStreamEndpoint.ConnectionEnded}), which closes the stream.
 *
 * <p>The opening node's connection starts with its {@link StreamDataHandshake}; the accepting
 * node's one first reads a handshake (within {@code stream-data-handshake-timeout}) and asks
 * {@link ByteStreams} to attach it; a refusal (unknown stream, wrong token, a second connection)
 * or bytes that are not a handshake close the connection with a logged reason.
 */
final class ByteStreamConnection extends GraphStage<FlowShape<ByteString, ByteString>> {

  private static final Logger log = LoggerFactory.getLogger(ByteStreamConnection.class);

  /** What the accepting side learns when the endpoint takes the connection. */
  static final class Attached {
    final ByteStreamPipe pipe;
    final ActorRef<ByteStreamEndpoint.Command> endpoint;

    Attached(ByteStreamPipe pipe, ActorRef<ByteStreamEndpoint.Command> endpoint) {
      this.pipe = pipe;
      this.endpoint = endpoint;
    }
  }

  private final Inlet<ByteString> in = Inlet.create("ByteStreamConnection.in");
  private final Outlet<ByteString> out = Outlet.create("ByteStreamConnection.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);

  private final ByteString handshake;
  private final Attached attached;
  private final Function<StreamDataHandshake, CompletionStage<Attached>> attach;
  private final InetSocketAddress remote;
  private final int chunk;
  private final long limit;
  private final Duration handshakeTimeout;

  private ByteStreamConnection(ByteString handshake, Attached attached,
      Function<StreamDataHandshake, CompletionStage<Attached>> attach, InetSocketAddress remote,
      UserApiSettings settings) {
    this.handshake = handshake;
    this.attached = attached;
    this.attach = attach;
    this.remote = remote;
    this.chunk = settings.streamChunk;
    this.limit = settings.streamBuffer;
    this.handshakeTimeout = settings.streamDataHandshakeTimeout;
  }

  /** The opening node's side: sends {@code handshake}, then the stream's bytes both ways. */
  static ByteStreamConnection opening(ByteString handshake, ByteStreamPipe pipe,
      ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    return new ByteStreamConnection(handshake, new Attached(pipe, endpoint), null, null, settings);
  }

  /**
   * The accepting node's side of a connection from {@code remote}: reads the handshake and
   * attaches through {@code attach} (which fails, with the reason, to refuse).
   */
  static ByteStreamConnection accepting(InetSocketAddress remote,
      Function<StreamDataHandshake, CompletionStage<Attached>> attach, UserApiSettings settings) {
    return new ByteStreamConnection(null, null, attach, remote, settings);
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new TimerGraphStageLogic(shape) {
      private ByteStreamPipe pipe;
      private ActorRef<ByteStreamEndpoint.Command> endpoint;
      private ByteString head = ByteString.emptyByteString();
      private ByteString greeting = handshake;
      private boolean told;
      /** The opener ended its bytes before the endpoint took the connection. */
      private boolean endedEarly;
      private boolean handshakeSeen;
      private final StreamDataFrames.Decoder frames = new StreamDataFrames.Decoder(Math.toIntExact(limit));
      /** The piece being decoded (for {@link #framesSeen}'s slices). */
      private ByteString received;
      private final StreamDataFrames.Frames framesSeen = new StreamDataFrames.Frames() {
        @Override
        public void data(int from, int to) {
          pipe.arrived(from == 0 && to == received.size() ? received : received.slice(from, to));
        }

        @Override
        public void credit(int bytes) {
          pipe.outgoing.addCredit(bytes);
        }
      };
      private final AsyncCallback<Done> more = createAsyncCallback(d -> pushOut());
      private final Runnable wake = () -> more.invoke(Done.done());

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString bytes = grab(in);
            if (pipe == null) {
              head = head.concat(bytes);
              if (head.size() < StreamDataHandshake.SIZE) {
                pull(in);
              } else {
                handshakeRead();
              }
              return;
            }
            take(bytes);
          }

          @Override
          public void onUpstreamFinish() {
            if (pipe == null) {
              if (!handshakeSeen) {
                log.info("stream data connection from {} closed before its handshake", remote);
                completeStage();
              } else {
                endedEarly = true; // the attach is under way; its answer tells the endpoint
              }
              return;
            }
            tell(null);
            // The peer ended its bytes; ours may still be on their way (the endpoint ends them).
            if (isClosed(out)) {
              completeStage();
            }
          }

          @Override
          public void onUpstreamFailure(Throwable ex) {
            tell(ex);
            failStage(ex);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pushOut();
          }

          @Override
          public void onDownstreamFinish(Throwable cause) {
            tell(cause);
            completeStage();
          }
        });
      }

      @Override
      public void preStart() {
        if (attached != null) {
          connected(attached);
        } else {
          scheduleOnce("handshake", handshakeTimeout);
          pull(in);
        }
      }

      @Override
      public void onTimer(Object key) {
        if (pipe == null) {
          log.info("stream data connection from {} closed: no handshake within {}", remote, handshakeTimeout);
          completeStage();
        }
      }

      private void handshakeRead() {
        cancelTimer("handshake");
        handshakeSeen = true;
        StreamDataHandshake hs;
        try {
          hs = StreamDataHandshake.decode(head.take(StreamDataHandshake.SIZE).toArray());
        } catch (IllegalArgumentException e) {
          refuse(e.getMessage());
          return;
        }
        head = head.drop(StreamDataHandshake.SIZE);
        AsyncCallback<Object> answered = createAsyncCallback(a -> {
          if (a instanceof Attached) {
            connected((Attached) a);
          } else {
            refuse(((Throwable) a).getMessage());
          }
        });
        attach.apply(hs).whenComplete((a, failure) -> answered.invoke(failure == null ? a
            : failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure));
      }

      private void refuse(String why) {
        log.warn("stream data connection from {} refused: {}", remote, why);
        failStage(new IllegalStateException("stream data connection refused: " + why));
      }

      private void connected(Attached a) {
        pipe = a.pipe;
        endpoint = a.endpoint;
        ByteString early = head;
        head = null;
        if (!early.isEmpty()) {
          take(early);
        } else if (!hasBeenPulled(in) && !isClosed(in)) {
          pull(in);
        }
        if (endedEarly) {
          tell(null);
        }
        if (isAvailable(out)) {
          pushOut();
        }
      }

      private void take(ByteString bytes) {
        received = bytes;
        try {
          frames.feed(bytes.asByteBuffer(), framesSeen);
        } catch (IllegalArgumentException e) {
          broken("bad frame from the peer: " + e.getMessage());
          return;
        } finally {
          received = null;
        }
        if (pipe.incoming.size() > limit) {
          broken("the peer sent more than this end's buffer of " + limit + " bytes (more than its credit)");
          return;
        }
        if (!isClosed(in)) {
          pull(in);
        }
        // Credit that came may have covered bytes waiting to go out, and bytes handed to a
        // waiting reader made credit due: both go out now, without a wake-up of this stage.
        pushOut();
      }

      private void broken(String why) {
        log.warn("stream data connection {} failed: {}", remote != null ? "from " + remote : "to the peer", why);
        IllegalStateException e = new IllegalStateException(why);
        tell(e);
        failStage(e);
      }

      private void pushOut() {
        if (pipe == null || !isAvailable(out)) {
          return;
        }
        if (greeting != null) {
          ByteString g = greeting;
          greeting = null;
          push(out, g);
          return;
        }
        for (;;) {
          long due = pipe.outgoing.takeCreditDue();
          ByteString bytes = pipe.outgoing.poll(chunk, wake);
          if (due > 0 || !bytes.isEmpty()) {
            // Credit first: the peer's writer waits for it, the bytes behind it do not need it.
            ByteString frames = due > 0
                ? ByteString.fromArrayUnsafe(StreamDataFrames.credit(Math.toIntExact(due)))
                : ByteString.emptyByteString();
            if (!bytes.isEmpty()) {
              frames = frames.concat(ByteString.fromArrayUnsafe(StreamDataFrames.dataHeader(bytes.size()))).concat(bytes);
            }
            push(out, frames);
            return;
          }
          if (pipe.outgoing.drained()) {
            complete(out);
            if (isClosed(in)) {
              completeStage();
            }
            return;
          }
          if (!pipe.outgoing.creditDue()) {
            return; // woken when there are bytes, credit or the end
          }
          // credit came between the two calls above, and poll kept no waiter: take it now
        }
      }

      /** Tells the endpoint once that the connection ended ({@code cause} null) or failed. */
      private void tell(Throwable cause) {
        if (!told && endpoint != null) {
          told = true;
          endpoint.tell(new ByteStreamEndpoint.ConnectionEnded(cause));
        }
      }

      @Override
      public void postStop() {
        tell(new IllegalStateException("the data connection stopped"));
      }
    };
  }
}
