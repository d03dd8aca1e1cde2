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
import akka.NotUsed;
import akka.japi.Pair;
import akka.stream.CompletionStrategy;
import akka.stream.Materializer;
import akka.stream.OverflowStrategy;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import akka.stream.typed.javadsl.ActorSource;
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
 * <p>Owns: this side's unread bytes (at most {@code stream-buffer}), the bytes written here and
 * not yet handed to the transport, and the credit it holds for the peer's buffer. The two
 * endpoints agree on the stream over the cluster ({@link ByteStreams.OpenRequest}, {@link
 * Opened}, {@link Credit}, death watch); its bytes travel over a TCP connection of their own
 * (Akka Streams {@code Tcp}) that the initiator opens to the acceptor's {@link
 * ByteStreamDataServer} with the token the acceptor issued in {@link Opened}. On each side an
 * ack-based {@code ActorSource} feeds the connection and an ack-based {@code ActorSink} takes
 * what arrives, so nothing in between buffers without bound: TCP back-pressures the writer's
 * pipeline, credit bounds what is in flight. Completing this side's outbound bytes (TCP
 * half-close) is how the close reaches the peer, after every byte written before it.
 *
 * <p>Credit (exact write accounting): the writer starts with credit equal to the peer's buffer
 * size; a write accepts {@code min(len, credit)} bytes and spends that credit; the reader gives
 * credit back as its user reads. Bytes in flight therefore always fit in the reader's buffer:
 * {@code stream_write}'s count is what the peer will hold, never more, and it is 0 when the
 * peer's buffer is full (with what is in flight).
 *
 * <p>Receives reads, writes, list and close from the facade; {@link Credit} and the handshake
 * from the peer; the data connection ({@link AttachData}, acceptor) or its outcome (initiator);
 * stream signals from its own two pipelines. Guarantees: bytes arrive in order; closing either
 * side, the data connection ending or failing, or the peer's node leaving or crashing (death
 * watch), closes both; after close, reads return the bytes still unread, then null once, after
 * which the endpoint stops. An acceptor whose initiator does not attach its data connection
 * within {@code open-timeout} closes.
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

  /** Attach the Java API's reader: a back-pressured source the endpoint pushes unread bytes into. */
  public static final class AttachReader implements Command {
    final ActorRef<ReaderEvent> reader;

    public AttachReader(ActorRef<ReaderEvent> reader) {
      this.reader = reader;
    }
  }

  /** What the endpoint pushes to an attached reader. */
  public interface ReaderEvent {}

  public static final class ReaderData implements ReaderEvent {
    public final ByteString bytes;

    ReaderData(ByteString bytes) {
      this.bytes = bytes;
    }
  }

  public enum ReaderEnd implements ReaderEvent { INSTANCE }

  /** The reader source's ack: it took the last element and wants the next. */
  public enum ReaderAck implements Command { INSTANCE }

  /** The Java API writer sink's messages (ActorSink with back-pressure). */
  public static final class SinkInit implements Command {
    final ActorRef<Ack> ackTo;

    public SinkInit(ActorRef<Ack> ackTo) {
      this.ackTo = ackTo;
    }
  }

  public static final class SinkChunk implements Command {
    final ActorRef<Ack> ackTo;
    final ByteString bytes;

    public SinkChunk(ActorRef<Ack> ackTo, ByteString bytes) {
      this.ackTo = ackTo;
      this.bytes = bytes;
    }
  }

  public enum SinkDone implements Command { INSTANCE }

  public static final class SinkFailed implements Command {
    final Throwable cause;

    public SinkFailed(Throwable cause) {
      this.cause = cause;
    }
  }

  public enum Ack { INSTANCE }

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

  /** A data connection for this stream (acceptor): its handshake and the bytes after it. Local only. */
  static final class AttachData implements Command {
    final StreamDataHandshake handshake;
    final Source<ByteString, NotUsed> inbound;
    final ActorRef<DataAttached> replyTo;

    AttachData(StreamDataHandshake handshake, Source<ByteString, NotUsed> inbound, ActorRef<DataAttached> replyTo) {
      this.handshake = handshake;
      this.inbound = inbound;
      this.replyTo = replyTo;
    }
  }

  /** The answer to {@link AttachData}: the bytes to send on the connection, or why it is refused. */
  static final class DataAttached {
    final Source<ByteString, NotUsed> outbound;
    final String refusal;

    private DataAttached(Source<ByteString, NotUsed> outbound, String refusal) {
      this.outbound = outbound;
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

  /** The peer's user read {@code bytes} bytes: that much more may be written to it. */
  public static final class Credit implements Command, JsonSerializable {
    public final int bytes;

    @JsonCreator
    public Credit(@JsonProperty("bytes") int bytes) {
      this.bytes = bytes;
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

  private enum ReaderGone implements Command { INSTANCE }

  private enum OutAck implements Command { INSTANCE }

  private static final class InInit implements Command {
    final ActorRef<Ack> ackTo;

    InInit(ActorRef<Ack> ackTo) {
      this.ackTo = ackTo;
    }
  }

  private static final class InData implements Command {
    final ActorRef<Ack> ackTo;
    final ByteString bytes;

    InData(ActorRef<Ack> ackTo, ByteString bytes) {
      this.ackTo = ackTo;
      this.bytes = bytes;
    }
  }

  private enum InDone implements Command { INSTANCE }

  private static final class InFailed implements Command {
    final Throwable cause;

    InFailed(Throwable cause) {
      this.cause = cause;
    }
  }

  /** Elements of the outbound pipeline: bytes, then the end. */
  private interface Out {}

  private static final class OutData implements Out {
    final ByteString bytes;

    OutData(ByteString bytes) {
      this.bytes = bytes;
    }
  }

  private enum OutEnd implements Out { INSTANCE }

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
  /** This side's outbound pipeline, once the data connection is there. */
  private ActorRef<Out> out;

  // handshake (initiator only)
  private ActorRef<Optional<String>> openReplyTo;
  /** The token the data connection must bring (acceptor only). */
  private byte[] token;
  private boolean dataAttached;

  private ActorRef<Command> peer;
  private boolean outReady;
  private ByteString outPending = ByteString.emptyByteString();
  private long peerCredit;
  private ByteString unread = ByteString.emptyByteString();
  private boolean open;
  private boolean closed;
  private boolean released;
  private boolean outEnded;

  private ActorRef<ReaderEvent> reader;
  private boolean readerReady;
  private ActorRef<Ack> sinkAckTo;
  private ByteString sinkRemaining;

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

  /** Outbound pipeline: an ack-based source this actor feeds one chunk at a time (then the end). */
  private Source<ByteString, ActorRef<Out>> outbound() {
    return ActorSource.<Out, Command>actorRefWithBackpressure(
            getContext().getSelf(),
            OutAck.INSTANCE,
            m -> m == OutEnd.INSTANCE ? Optional.of(CompletionStrategy.draining()) : Optional.empty(),
            m -> Optional.empty())
        .map(m -> ((OutData) m).bytes)
        // The source takes one chunk and waits for its ack: without room here the endpoint
        // would wait for each TCP write, and TCP for the endpoint (credit bounds the bytes).
        .buffer(settings.streamDataPipeline, OverflowStrategy.backpressure());
  }

  /** Inbound pipeline: each piece is acked once it is in the unread buffer, which credit bounds. */
  private Sink<ByteString, NotUsed> inbound() {
    // The sink takes one piece and waits for the endpoint's ack: the buffer keeps the
    // connection reading meanwhile (credit bounds the bytes).
    return Flow.<ByteString>create().buffer(settings.streamDataPipeline, OverflowStrategy.backpressure()).to(
        ActorSink.<ByteString, Command, Ack>actorRefWithBackpressure(
        getContext().getSelf(),
        (ackTo, bytes) -> new InData(ackTo, bytes),
        InInit::new,
        Ack.INSTANCE,
        InDone.INSTANCE,
        InFailed::new));
  }

  private void outboundStarted(ActorRef<Out> ref) {
    out = ref;
    outReady = true;
    pushOut();
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
        .onMessage(Credit.class, this::onCredit)
        .onMessageEquals(OutAck.INSTANCE, this::onOutAck)
        .onMessage(InInit.class, this::onInInit)
        .onMessage(InData.class, this::onInData)
        .onMessageEquals(InDone.INSTANCE, () -> onPeerGone("the peer closed the stream"))
        .onMessage(InFailed.class, f -> onPeerGone("the stream from the peer failed: " + f.cause.getMessage()))
        .onSignal(Terminated.class, t -> onPeerGone("the peer endpoint is gone (node left or crashed)"))
        .onMessage(AttachReader.class, this::onAttachReader)
        .onMessageEquals(ReaderAck.INSTANCE, this::onReaderAck)
        .onMessage(SinkInit.class, this::onSinkInit)
        .onMessage(SinkChunk.class, this::onSinkChunk)
        .onMessageEquals(SinkDone.INSTANCE, () -> closeHere("the writer sink completed"))
        .onMessage(SinkFailed.class, f -> closeHere("the writer sink failed: " + f.cause.getMessage()))
        .onMessageEquals(Linger.INSTANCE, this::onLinger)
        .onMessageEquals(ReaderGone.INSTANCE, this::onReaderGone)
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
      connect(o.peer, o.peerBuffer);
      // The data connection: the handshake, then this side's bytes; what arrives goes to inbound.
      ByteString handshake = ByteString.fromArrayUnsafe(new StreamDataHandshake(Hex.decode(streamId), peerToken).encode());
      Pair<ActorRef<Out>, CompletionStage<Tcp.OutgoingConnection>> started = Source.single(handshake)
          .concatMat(outbound(), Keep.right())
          .viaMat(Tcp.get(getContext().getSystem()).outgoingConnection(
                  new InetSocketAddress(o.dataHost, o.dataPort), Optional.empty(), List.of(), true,
                  Optional.of(settings.openTimeout), Optional.empty()),
              Keep.both())
          .to(inbound())
          .run(mat);
      getContext().pipeToSelf(started.second(), (c, failure) -> failure == null ? DataConnected.INSTANCE : new DataConnectFailed(failure));
      outboundStarted(started.first());
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
    this.peerCredit = peerBuffer;
    this.open = true;
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
    Pair<ActorRef<Out>, Source<ByteString, NotUsed>> started = outbound().preMaterialize(mat);
    a.inbound.runWith(inbound(), mat);
    a.replyTo.tell(new DataAttached(started.second(), null));
    outboundStarted(started.first());
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
    if (unread.isEmpty()) {
      if (closed) {
        r.replyTo.tell(Optional.empty());
        return Behaviors.stopped();
      }
      r.replyTo.tell(Optional.of(ByteString.emptyByteString()));
      return this;
    }
    int n = Math.min(r.max, unread.size());
    ByteString taken = take(n);
    r.replyTo.tell(Optional.of(taken));
    return this;
  }

  private ByteString take(int n) {
    // No compact(): a chunk is handed on as it arrived (a copy of it would only be garbage).
    ByteString taken = unread.take(n);
    unread = unread.drop(n);
    if (!closed && peer != null && n > 0) {
      peer.tell(new Credit(n));
    }
    maybeRelease();
    return taken;
  }

  private Behavior<Command> onWrite(Write w) {
    if (closed) {
      w.replyTo.tell(Optional.empty());
      return this;
    }
    int accepted = (int) Math.min(w.bytes.size(), peerCredit);
    accept(w.bytes.take(accepted));
    w.replyTo.tell(Optional.of(accepted));
    return this;
  }

  private void accept(ByteString bytes) {
    if (bytes.isEmpty()) {
      return;
    }
    peerCredit -= bytes.size();
    outPending = outPending.concat(bytes);
    pushOut();
  }

  private Behavior<Command> onUnread(Unread u) {
    u.replyTo.tell(closed && unread.isEmpty() ? -1 : unread.size());
    return this;
  }

  private Behavior<Command> onClose(Close c) {
    boolean wasOpen = !closed;
    closeHere("closed by this node's user");
    c.replyTo.tell(wasOpen);
    return this;
  }

  // ---- transport

  private Behavior<Command> onCredit(Credit c) {
    peerCredit += c.bytes;
    serveSink();
    return this;
  }

  private void pushOut() {
    if (!outReady || outEnded) {
      return;
    }
    if (!outPending.isEmpty()) {
      int n = Math.min(settings.streamChunk, outPending.size());
      // Not compacted: the TCP write copies the pieces straight into its direct buffer.
      out.tell(new OutData(outPending.take(n)));
      outPending = outPending.drop(n);
      outReady = false;
    } else if (closed) {
      // Everything accepted is on its way: now the end, which closes the peer's side.
      out.tell(OutEnd.INSTANCE);
      outEnded = true;
    }
  }

  private Behavior<Command> onOutAck() {
    outReady = true;
    pushOut();
    return this;
  }

  private Behavior<Command> onInInit(InInit i) {
    i.ackTo.tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onInData(InData d) {
    unread = unread.concat(d.bytes);
    d.ackTo.tell(Ack.INSTANCE);
    feedReader();
    return this;
  }

  private Behavior<Command> onPeerGone(String why) {
    if (openReplyTo != null) {
      getContext().getLog().info("stream {}: not opened, {}", streamId, why);
      return failOpen(why);
    }
    if (!closed) {
      getContext().getLog().debug("stream {}: closing, {}", streamId, why);
      markClosed();
    }
    return this;
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
    if (sinkAckTo != null) {
      // The writer's chunk cannot go anywhere now; let it go rather than hold its stream.
      sinkAckTo.tell(Ack.INSTANCE);
      sinkAckTo = null;
      sinkRemaining = null;
    }
    pushOut();
    feedReader();
    maybeRelease();
    timers.startSingleTimer(Linger.INSTANCE, settings.closedStreamLinger);
  }

  private void maybeRelease() {
    if (closed && unread.isEmpty() && !released) {
      released = true;
      home.tell(new ByteStreams.EndpointReleased(streamId));
    }
  }

  private Behavior<Command> onLinger() {
    if (!unread.isEmpty()) {
      getContext().getLog().info("stream {}: dropping {} unread bytes, closed {} ago", streamId, unread.size(), settings.closedStreamLinger);
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onPostStop() {
    if (out != null && !outEnded) {
      out.tell(OutEnd.INSTANCE);
    }
    return this;
  }

  // ---- Java API reader and writer

  private Behavior<Command> onAttachReader(AttachReader a) {
    if (reader != null) {
      a.reader.tell(ReaderEnd.INSTANCE); // one reader at a time
      return this;
    }
    reader = a.reader;
    readerReady = true;
    // The reader's source stops when its stream is cancelled; stop feeding it then.
    getContext().watchWith(reader, ReaderGone.INSTANCE);
    feedReader();
    return this;
  }

  private Behavior<Command> onReaderGone() {
    reader = null;
    readerReady = false;
    return this;
  }

  private Behavior<Command> onReaderAck() {
    readerReady = true;
    feedReader();
    return this;
  }

  private void feedReader() {
    if (reader == null || !readerReady) {
      return;
    }
    if (!unread.isEmpty()) {
      // Up to a chunk at a time (one message and one credit per chunk, not per element); the
      // reader's source splits it into elements of stream-source-chunk.
      reader.tell(new ReaderData(take(Math.min(settings.streamChunk, unread.size()))));
      readerReady = false;
    } else if (closed) {
      reader.tell(ReaderEnd.INSTANCE);
      getContext().unwatch(reader);
      reader = null;
    }
  }

  private Behavior<Command> onSinkInit(SinkInit i) {
    i.ackTo.tell(Ack.INSTANCE);
    return this;
  }

  private Behavior<Command> onSinkChunk(SinkChunk c) {
    if (closed) {
      c.ackTo.tell(Ack.INSTANCE);
      return this;
    }
    sinkAckTo = c.ackTo;
    sinkRemaining = c.bytes;
    serveSink();
    return this;
  }

  private void serveSink() {
    if (sinkAckTo == null || peerCredit <= 0) {
      return;
    }
    int n = (int) Math.min(sinkRemaining.size(), peerCredit);
    accept(sinkRemaining.take(n));
    sinkRemaining = sinkRemaining.drop(n);
    if (sinkRemaining.isEmpty()) {
      ActorRef<Ack> ackTo = sinkAckTo;
      sinkAckTo = null;
      sinkRemaining = null;
      ackTo.tell(Ack.INSTANCE);
    }
  }
}
