package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.Hex;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One end of a byte stream; the other end is the same actor on the peer node.
 *
 * <p>Owns: this end's {@link ByteStreamPipe}, which holds its unread bytes (at most {@code
 * stream-buffer}), the bytes accepted here and not yet handed to the transport, and the credit
 * for the peer's buffer. The two endpoints agree on the stream over the cluster ({@link
 * ByteStreams.OpenRequest}, {@link Opened}, death watch); its bytes travel over
 * a TCP connection of their own that the initiator opens to the acceptor's {@link
 * ByteStreamDataServer} with the token the acceptor issued in {@link Opened}. The bytes do not
 * pass through this actor: on each side a {@link ByteStreamSocket}'s reader and writer threads
 * (or, with {@code stream-data-transport = akka-io}, a {@link ByteStreamConnection} stage fused
 * with an Akka Streams {@code Tcp} connection) move them between the socket and the pipe, and the Java API's
 * {@link ByteStreamReader} and {@link ByteStreamWriter} take and put them there; the endpoint
 * serves stream_read / stream_write from the pipe and controls open, credit and close. TCP
 * back-pressures the outgoing bytes, credit bounds what is in flight, so nothing buffers
 * without bound. Ending this side's outgoing bytes (TCP half-close) is how the close reaches
 * the peer, after every byte written before it.
 *
 * <p>Credit (exact write accounting): the writer starts with credit equal to the peer's buffer
 * size; a write accepts {@code min(len, credit)} bytes and spends that credit; the reader gives
 * credit back as its user reads (stream_read at once, the Java API's reader in batches of
 * {@code stream-credit-batch}), in-band on the data connection. (The Java API's writer may
 * also leave {@code stream-write-ahead} bytes beyond its credit here, which are sent only once
 * the peer's next credit covers them.) Bytes in flight therefore always fit in the reader's
 * buffer: {@code stream_write}'s count is what the peer will hold, never more, and it is 0 when
 * the peer's buffer is full (with what is in flight and not yet given back).
 *
 * <p>Receives reads, writes, list and close from the facade; the handshake from the peer; the data connection ({@link AttachData}, acceptor) or its outcome (initiator)
 * and its end ({@link ConnectionEnded}); the Java API reader's and writer's attach and end.
 * Guarantees: bytes arrive in order; closing either side, the data connection ending or
 * failing, or the peer's node leaving or crashing (death watch), closes both; after close,
 * reads return the bytes still unread, then null once, after which the endpoint stops. An
 * acceptor whose initiator does not attach its data connection within {@code open-timeout}
 * closes.
 */
public final class ByteStreamEndpoint extends AbstractBehavior<ByteStreamEndpoint.Command> {

  public interface Command {}

  // ---- the facade's requests (local)

  /** Read up to {@code max} bytes; replies empty Optional (null) when closed and nothing is left. */
  public static final class Read implements Command {
    final int max;
    final ActorRef<Optional<ByteString>> replyTo;

    public Read(int max, ActorRef<Optional<ByteString>> replyTo) {
      this.max = max;
      this.replyTo = replyTo;
    }
  }

  /** Write what fits; replies the accepted count, or empty Optional (null) when the stream is closed. */
  public static final class Write implements Command {
    final ByteString bytes;
    final ActorRef<Optional<Integer>> replyTo;

    public Write(ByteString bytes, ActorRef<Optional<Integer>> replyTo) {
      this.bytes = bytes;
      this.replyTo = replyTo;
    }
  }

  /** Unread byte count, or -1 when the stream is closed. */
  public static final class Unread implements Command {
    final ActorRef<Integer> replyTo;

    public Unread(ActorRef<Integer> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** Close both sides; replies true when this call closed it, false when it was closed already. */
  public static final class Close implements Command {
    final ActorRef<Boolean> replyTo;

    public Close(ActorRef<Boolean> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /**
   * Attach the Java API's reader ({@link ByteStreamReader}): replies the pipe to read from, or
   * empty when a reader is attached already (one reader at a time). Local only.
   */
  public static final class AttachReader implements Command {
    final ActorRef<Optional<ByteStreamPipe>> replyTo;

    AttachReader(ActorRef<Optional<ByteStreamPipe>> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** The Java API's reader stopped (drained, or cancelled by its consumer). */
  enum ReaderDetached implements Command { INSTANCE }

  /** Attach the Java API's writer ({@link ByteStreamWriter}): replies the pipe to write to. Local only. */
  public static final class AttachWriter implements Command {
    final ActorRef<ByteStreamPipe> replyTo;

    AttachWriter(ActorRef<ByteStreamPipe> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** The Java API's writer completed ({@code cause} null) or failed: either closes the stream. */
  static final class WriterDone implements Command {
    final Throwable cause;

    WriterDone(Throwable cause) {
      this.cause = cause;
    }
  }

  /** The data connection ended ({@code cause} null: the peer ended its bytes) or failed. */
  static final class ConnectionEnded implements Command {
    final Throwable cause;

    ConnectionEnded(Throwable cause) {
      this.cause = cause;
    }
  }

  // ---- between the two endpoints (cross the cluster)

  /**
   * The acceptor's answer to an open: its ref, its buffer size, and where and with which token
   * (hex) the initiator connects the stream's data connection.
   */
  public static final class Opened implements Command, JsonSerializable {
    public final ActorRef<Command> peer;
    public final int peerBuffer;
    public final String dataHost;
    public final int dataPort;
    public final String token;

    @JsonCreator
    public Opened(
        @JsonProperty("peer") ActorRef<Command> peer,
        @JsonProperty("peerBuffer") int peerBuffer,
        @JsonProperty("dataHost") String dataHost,
        @JsonProperty("dataPort") int dataPort,
        @JsonProperty("token") String token) {
      this.peer = peer;
      this.peerBuffer = peerBuffer;
      this.dataHost = dataHost;
      this.dataPort = dataPort;
      this.token = token;
    }
  }

  /** A data connection for this stream arrived (acceptor): take it if its handshake is right. Local only. */
  static final class AttachData implements Command {
    final StreamDataHandshake handshake;
    final ActorRef<DataAttached> replyTo;

    AttachData(StreamDataHandshake handshake, ActorRef<DataAttached> replyTo) {
      this.handshake = handshake;
      this.replyTo = replyTo;
    }
  }

  /** The answer to {@link AttachData}: the stream end the connection carries, or why it is refused. */
  static final class DataAttached {
    final ByteStreamConnection.Attached attached;
    final String refusal;

    private DataAttached(ByteStreamConnection.Attached attached, String refusal) {
      this.attached = attached;
      this.refusal = refusal;
    }

    static DataAttached refused(String why) {
      return new DataAttached(null, why);
    }
  }

  /** The peer node would not open the stream. */
  public static final class Refused implements Command, JsonSerializable {
    public final String reason;

    @JsonCreator
    public Refused(@JsonProperty("reason") String reason) {
      this.reason = reason;
    }
  }


  // ---- internal

  private enum OpenTimedOut implements Command { INSTANCE }

  private enum AttachTimedOut implements Command { INSTANCE }

  private enum DataConnected implements Command { INSTANCE }

  private static final class DataConnectFailed implements Command {
    final Throwable cause;

    DataConnectFailed(Throwable cause) {
      this.cause = cause;
    }
  }

  private enum Linger implements Command { INSTANCE }

  /** Opens a stream towards {@code peerStreams} (the peer node's {@link ByteStreams}). */
  static Behavior<Command> initiator(
      String streamId,
      String self,
      ActorRef<ByteStreams.Command> peerStreams,
      ActorRef<ByteStreams.Command> home,
      ActorRef<Optional<String>> replyTo,
      UserApiSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ByteStreamEndpoint e = new ByteStreamEndpoint(ctx, timers, streamId, home, settings);
      e.openReplyTo = replyTo;
      timers.startSingleTimer(OpenTimedOut.INSTANCE, settings.openTimeout);
      peerStreams.tell(new ByteStreams.OpenRequest(streamId, self, ctx.getSelf(), settings.streamBuffer));
      return e;
    }));
  }

  /**
   * Accepts a stream opened by {@code initiator}; its data connection is to come to this node's
   * data server at {@code dataHost:dataPort} with {@code token}.
   */
  static Behavior<Command> acceptor(
      String streamId,
      ActorRef<Command> initiator,
      int peerBuffer,
      String dataHost,
      int dataPort,
      byte[] token,
      ActorRef<ByteStreams.Command> home,
      UserApiSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ByteStreamEndpoint e = new ByteStreamEndpoint(ctx, timers, streamId, home, settings);
      e.token = token.clone();
      e.connect(initiator, peerBuffer);
      timers.startSingleTimer(AttachTimedOut.INSTANCE, settings.openTimeout);
      initiator.tell(new Opened(ctx.getSelf(), settings.streamBuffer, dataHost, dataPort, Hex.encode(token)));
      return e;
    }));
  }

  private final TimerScheduler<Command> timers;
  private final String streamId;
  private final ActorRef<ByteStreams.Command> home;
  private final UserApiSettings settings;
  private final Materializer mat;
  /** This end's bytes: unread, accepted-not-sent, and the credit for the peer's buffer. */
  private final ByteStreamPipe pipe = new ByteStreamPipe();

  // handshake (initiator only)
  private ActorRef<Optional<String>> openReplyTo;
  /** The token the data connection must bring (acceptor only). */
  private byte[] token;
  private boolean dataAttached;

  private ActorRef<Command> peer;
  private boolean open;
  private boolean closed;
  private boolean released;
  private boolean readerAttached;

  private ByteStreamEndpoint(
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers,
      String streamId,
      ActorRef<ByteStreams.Command> home,
      UserApiSettings settings) {
    super(ctx);
    this.timers = timers;
    this.streamId = streamId;
    this.home = home;
    this.settings = settings;
    this.mat = Materializer.createMaterializer(ctx);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Opened.class, this::onOpened)
        .onMessage(Refused.class, this::onRefused)
        .onMessageEquals(OpenTimedOut.INSTANCE, this::onOpenTimedOut)
        .onMessageEquals(DataConnected.INSTANCE, this::onDataConnected)
        .onMessage(DataConnectFailed.class, this::onDataConnectFailed)
        .onMessage(AttachData.class, this::onAttachData)
        .onMessageEquals(AttachTimedOut.INSTANCE, this::onAttachTimedOut)
        .onMessage(Read.class, this::onRead)
        .onMessage(Write.class, this::onWrite)
        .onMessage(Unread.class, this::onUnread)
        .onMessage(Close.class, this::onClose)
        .onMessage(ConnectionEnded.class, c -> onPeerGone(c.cause == null
            ? "the peer closed the stream" : "the data connection failed: " + c.cause.getMessage()))
        .onSignal(Terminated.class, t -> onPeerGone("the peer endpoint is gone (node left or crashed)"))
        .onMessage(AttachReader.class, this::onAttachReader)
        .onMessageEquals(ReaderDetached.INSTANCE, this::onReaderDetached)
        .onMessage(AttachWriter.class, this::onAttachWriter)
        .onMessage(WriterDone.class, w -> closeHere(w.cause == null
            ? "the writer sink completed" : "the writer sink failed: " + w.cause.getMessage()))
        .onMessageEquals(Linger.INSTANCE, this::onLinger)
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  // ---- handshake

  private Behavior<Command> onOpened(Opened o) {
    if (open || closed) {
      return this;
    }
    byte[] peerToken;
    try {
      peerToken = Hex.decode(o.token);
      ByteString handshake = ByteString.fromArrayUnsafe(new StreamDataHandshake(Hex.decode(streamId), peerToken).encode());
      connect(o.peer, o.peerBuffer);
      // The data connection: the handshake, then this end's bytes both ways through the pipe.
      InetSocketAddress address = new InetSocketAddress(o.dataHost, o.dataPort);
      CompletionStage<?> connected = settings.streamDataBlocking
          ? ByteStreamSockets.get(getContext().getSystem())
              .connect(address, handshake, pipe, getContext().getSelf(), settings, settings.openTimeout)
          : Tcp.get(getContext().getSystem())
              .outgoingConnection(address, Optional.empty(), List.of(), true,
                  Optional.of(settings.openTimeout), Optional.empty())
              .join(Flow.fromGraph(ByteStreamConnection.opening(handshake, pipe, getContext().getSelf(), settings)))
              .withAttributes(settings.streamDataAttributes())
              .run(mat);
      getContext().pipeToSelf(connected, (c, failure) -> failure == null ? DataConnected.INSTANCE : new DataConnectFailed(failure));
    } catch (IllegalArgumentException e) {
      getContext().getLog().info("stream {}: the peer's answer is unusable: {}", streamId, e.getMessage());
      return failOpen(e.getMessage());
    }
    return this;
  }

  private Behavior<Command> onDataConnected() {
    if (openReplyTo == null) {
      return this; // closed meanwhile
    }
    timers.cancel(OpenTimedOut.INSTANCE);
    openReplyTo.tell(Optional.of(streamId));
    openReplyTo = null;
    return this;
  }

  private Behavior<Command> onDataConnectFailed(DataConnectFailed f) {
    getContext().getLog().info("stream {}: cannot connect to the peer's stream data server: {}", streamId, f.cause.getMessage());
    return openReplyTo != null ? failOpen(f.cause.getMessage()) : onPeerGone("the data connection failed");
  }

  private void connect(ActorRef<Command> peerRef, int peerBuffer) {
    this.peer = peerRef;
    this.open = true;
    pipe.outgoing.addCredit(peerBuffer);
    getContext().watch(peerRef);
  }

  private Behavior<Command> onAttachData(AttachData a) {
    String refusal = token == null ? "this end did not accept the stream (it opened it)"
        : !a.handshake.hasToken(token) ? "wrong token"
        : dataAttached ? "its data connection is attached already"
        : closed ? "the stream is closed"
        : null;
    if (refusal != null) {
      a.replyTo.tell(DataAttached.refused(refusal));
      return this;
    }
    dataAttached = true;
    timers.cancel(AttachTimedOut.INSTANCE);
    a.replyTo.tell(new DataAttached(new ByteStreamConnection.Attached(pipe, getContext().getSelf()), null));
    return this;
  }

  private Behavior<Command> onAttachTimedOut() {
    if (!dataAttached) {
      getContext().getLog().info("stream {}: the opener did not connect its data connection within {}", streamId, settings.openTimeout);
      closeHere("no data connection");
    }
    return this;
  }

  private Behavior<Command> onRefused(Refused r) {
    getContext().getLog().info("stream {}: the peer refused to open it: {}", streamId, r.reason);
    return failOpen(r.reason);
  }

  private Behavior<Command> onOpenTimedOut() {
    if (openReplyTo == null) {
      return this;
    }
    getContext().getLog().info("stream {}: the peer did not answer the open within {}", streamId, settings.openTimeout);
    return failOpen("timeout");
  }

  private Behavior<Command> failOpen(String reason) {
    if (openReplyTo != null) {
      openReplyTo.tell(Optional.empty());
      openReplyTo = null;
    }
    return Behaviors.stopped();
  }

  // ---- user side

  private Behavior<Command> onRead(Read r) {
    if (pipe.incoming.size() == 0) {
      if (closed) {
        r.replyTo.tell(Optional.empty());
        return Behaviors.stopped();
      }
      r.replyTo.tell(Optional.of(ByteString.emptyByteString()));
      return this;
    }
    // No compact(): a piece is handed on as it arrived (a copy of it would only be garbage).
    // Credit at once: stream_write on the peer sees the room as soon as it is here.
    ByteString taken = pipe.read(r.max, 1, null);
    maybeRelease();
    r.replyTo.tell(Optional.of(taken));
    return this;
  }

  private Behavior<Command> onWrite(Write w) {
    // No write-ahead: the count is what the peer's buffer will hold.
    long accepted = pipe.outgoing.write(w.bytes, 0, null);
    if (accepted < 0) {
      w.replyTo.tell(Optional.empty());
      return this;
    }
    w.replyTo.tell(Optional.of((int) accepted));
    return this;
  }

  private Behavior<Command> onUnread(Unread u) {
    long n = pipe.incoming.size();
    u.replyTo.tell(closed && n == 0 ? -1 : (int) n);
    return this;
  }

  private Behavior<Command> onClose(Close c) {
    boolean wasOpen = !closed;
    closeHere("closed by this node's user");
    c.replyTo.tell(wasOpen);
    return this;
  }

  // ---- transport

  private Behavior<Command> onPeerGone(String why) {
    if (openReplyTo != null) {
      getContext().getLog().info("stream {}: not opened, {}", streamId, why);
      return failOpen(why);
    }
    return closeHere(why);
  }

  private Behavior<Command> closeHere(String why) {
    if (!closed) {
      getContext().getLog().debug("stream {}: closing, {}", streamId, why);
      markClosed();
    }
    return this;
  }

  private void markClosed() {
    closed = true;
    home.tell(new ByteStreams.EndpointClosed(streamId));
    if (openReplyTo != null) {
      openReplyTo.tell(Optional.empty());
      openReplyTo = null;
    }
    // Writers stop (a waiting Java writer is woken and cancels); what was accepted still goes
    // out, then the end of this side's bytes, which closes the peer's side. A reader takes the
    // bytes left, then completes.
    pipe.outgoing.end();
    pipe.incoming.end();
    maybeRelease();
    timers.startSingleTimer(Linger.INSTANCE, settings.closedStreamLinger);
  }

  private void maybeRelease() {
    if (closed && pipe.incoming.size() == 0 && !released) {
      released = true;
      home.tell(new ByteStreams.EndpointReleased(streamId));
    }
  }

  private Behavior<Command> onLinger() {
    long left = pipe.incoming.size();
    if (left > 0) {
      getContext().getLog().info("stream {}: dropping {} unread bytes, closed {} ago", streamId, left, settings.closedStreamLinger);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    pipe.outgoing.end();
    pipe.incoming.end();
    return this;
  }

  // ---- Java API reader and writer

  private Behavior<Command> onAttachReader(AttachReader a) {
    if (readerAttached) {
      a.replyTo.tell(Optional.empty()); // one reader at a time
      return this;
    }
    readerAttached = true;
    a.replyTo.tell(Optional.of(pipe));
    return this;
  }

  private Behavior<Command> onReaderDetached() {
    readerAttached = false;
    maybeRelease();
    return this;
  }

  private Behavior<Command> onAttachWriter(AttachWriter a) {
    a.replyTo.tell(pipe);
    return this;
  }
}
