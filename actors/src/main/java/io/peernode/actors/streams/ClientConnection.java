package io.peernode.actors.streams;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import io.peernode.actors.streams.StreamAccess.Decision;
import io.peernode.actors.streams.StreamAccess.Operation;
import io.peernode.actors.streams.StreamAccess.StreamInfo;
import io.peernode.protocol.streamr.PartitionKeys;
import io.peernode.protocol.streamr.ServerMessages;
import io.peernode.protocol.streamr.StreamMessage;
import io.peernode.protocol.streamr.StreamrRequest;
import io.peernode.protocol.streamr.StreamrRequest.ResendSpec;
import io.peernode.protocol.streamr.StreamrRequests;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One client's WebSocket connection to the data API (client-protocol.md).
 *
 * <p>Owns the connection's subscriptions (one {@link ClientSubscription} child per stream
 * partition) and its outgoing side. Receives the client's text frames one at a time (the next
 * frame is read only when the previous request has been checked and handed on, so a client's
 * publishes reach a partition in the order sent) and the answers of partitions. Guarantees:
 * every bad request gets a type 7 error naming the problem and the connection stays usable;
 * nothing is published without write permission nor sent without read permission; a client
 * whose outgoing buffer fills up is disconnected (logged, counted) rather than buffered without
 * bound; resends stream from storage with back-pressure.
 */
public final class ClientConnection extends AbstractBehavior<ClientConnection.Command> {

  // ---- protocol -------------------------------------------------------------------------------

  public interface Command {}

  /** A text message from the client. */
  static final class Frame implements Command {
    final String text;

    Frame(String text) {
      this.text = text;
    }
  }

  /** The connection's stream has ended. */
  enum ClientGone implements Command {
    INSTANCE
  }

  /** From a subscription: the outgoing buffer is full. */
  public enum SlowConsumer implements Command {
    INSTANCE
  }

  private static final class Checked implements Command {
    final StreamrRequest request;
    final Decision decision;
    /** Characters of the request's frame (its place in the stage's read-ahead window). */
    final int chars;

    Checked(StreamrRequest request, Decision decision, int chars) {
      this.request = request;
      this.decision = decision;
      this.chars = chars;
    }
  }

  private static final class PublishAnswer implements Command {
    final StreamPartition.PublishReply reply;

    PublishAnswer(StreamPartition.PublishReply reply) {
      this.reply = reply;
    }
  }

  private static final class ResendAnswer implements Command {
    final StreamrRequest.Resend request;
    final StreamPartition.ResendReply reply;

    ResendAnswer(StreamrRequest.Resend request, StreamPartition.ResendReply reply) {
      this.request = request;
      this.reply = reply;
    }
  }

  private enum ResendDone implements Command {
    INSTANCE
  }

  /** Sends the publishes collected since it was sent (see {@link #publish}). */
  private enum SendPublishes implements Command {
    INSTANCE
  }

  /**
   * What the HTTP layer feeds in place of a frame over its size limit: the client gets an
   * error naming the limit, then the connection closes. (Akka HTTP 10.2 has no
   * API for the close code 1009, akka/akka-http#2458, so the close itself is a normal one.)
   */
  public static final String FRAME_TOO_LARGE = "\u0000frame-too-large";

  // ---- wiring ---------------------------------------------------------------------------------

  /** What every connection of a node shares. */
  public static final class Deps {
    final StreamsSettings settings;
    final StreamAccess access;
    final ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions;
    final PartitionTopics topics;
    final StreamsMetrics metrics;
    final StreamrRequests parser;

    public Deps(StreamsSettings settings, StreamAccess access,
        ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions, PartitionTopics topics,
        StreamsMetrics metrics) {
      this.settings = settings;
      this.access = access;
      this.partitions = partitions;
      this.topics = topics;
      this.metrics = metrics;
      this.parser = new StreamrRequests(settings.maxMessageBytes);
    }
  }

  /**
   * The text-message flow of WebSocket connections: requests in, server messages out (the
   * UTF-8 of each text message, ready for a frame). Each materialization is one connection
   * and starts its actor; closing either side ends both. The flow holds no per-connection
   * state: build it once, use it for every connection.
   */
  public static Flow<String, ByteString, NotUsed> flow(ActorSystem<?> system, Deps deps) {
    return Flow.fromGraph(new ConnectionStage(system, deps, null));
  }

  /**
   * The same, but each element out is what {@code framing} makes of the server messages
   * waiting when the transport asks for more: one element for a burst of messages instead of
   * one each, at most {@code peer.streams.connection.write-batch} bytes of them (and at least
   * one message).
   */
  public static Flow<String, ByteString, NotUsed> flow(ActorSystem<?> system, Deps deps,
      Framing framing) {
    return Flow.fromGraph(new ConnectionStage(system, deps, framing));
  }

  /** How a transport writes server messages: e.g. each as a WebSocket text frame. */
  @FunctionalInterface
  public interface Framing {
    /**
     * The bytes that carry {@code messages[0 .. count)}, in order, each the UTF-8 of one text
     * message; {@code bytes} is their length in all. The array is the caller's: not to be kept.
     */
    ByteString frame(ByteString[] messages, int count, int bytes);
  }

  static Behavior<Command> create(Deps deps, ConnectionStage.Link link) {
    return Behaviors.setup(ctx -> new ClientConnection(ctx, deps, link));
  }

  // ---- state ----------------------------------------------------------------------------------

  private final Deps deps;
  private final ConnectionStage.Link link;
  /** Created with the first publish: most connections only subscribe. */
  private ActorRef<StreamPartition.PublishReply> publishReplies;
  /** Entity id (stream#partition) to subscription. */
  private final Map<String, ActorRef<ClientSubscription.Command>> subscriptions = new HashMap<>();
  private int runningResends;
  /**
   * A request waits for its permission check: frames read ahead meanwhile wait in {@link
   * #held}, so that requests are handled in the order they came. Made on first use; holds at
   * most peer.streams.connection.read-ahead frames (the stage reads no more ahead).
   */
  private boolean readPending;
  private ArrayDeque<Frame> held;
  private boolean closing;
  /**
   * Publishes to one partition ({@link #unsentEntity}) not yet sent: those handled one after
   * another go to the partition as one message. Null when there are none; at most
   * peer.streams.connection.read-ahead.
   */
  private List<StreamPartition.Publish> unsent;
  private String unsentEntity;
  /** The entity id of the last publish's partition: the next to it needs no new String. */
  private String lastEntity;
  private String lastEntityStream;
  private int lastEntityPartition;

  private ClientConnection(ActorContext<Command> ctx, Deps deps, ConnectionStage.Link link) {
    super(ctx);
    this.deps = deps;
    this.link = link;
    deps.metrics.connections.inc();
  }

  @Override
  public Receive<Command> createReceive() {
    // One case that dispatches on the type rather than a builder case (and a bound handler)
    // per message: every connection builds its receive, and idle connections are what a node
    // holds by the ten thousand.
    return newReceiveBuilder()
        .onMessage(Command.class, this::onCommand)
        .onSignal(akka.actor.typed.PostStop.class, s -> {
          sendPublishes(); // what the client published before it left is still published
          deps.metrics.connections.dec();
          deps.metrics.subscriptions.dec(subscriptions.size());
          return this;
        })
        .build();
  }

  private Behavior<Command> onCommand(Command c) {
    if (c instanceof Frame) return onFrame((Frame) c);
    if (c instanceof Checked) {
      onChecked((Checked) c);
      return handleHeld();
    }
    if (c instanceof PublishAnswer) return onPublishAnswer((PublishAnswer) c);
    if (c instanceof ResendAnswer) return onResendAnswer((ResendAnswer) c);
    if (c == SendPublishes.INSTANCE) {
      sendPublishes();
      return this;
    }
    if (c == ResendDone.INSTANCE) {
      runningResends--;
      return this;
    }
    if (c == SlowConsumer.INSTANCE) return onSlowConsumer();
    if (c == ClientGone.INSTANCE) return onClientGone();
    return Behaviors.unhandled();
  }

  private Behavior<Command> onFrame(Frame f) {
    if (readPending) {
      if (held == null) held = new ArrayDeque<>();
      held.add(f);
      return this;
    }
    return handleFrame(f);
  }

  /** Frames read ahead while a check was outstanding, in order, until one waits again. */
  private Behavior<Command> handleHeld() {
    while (!readPending && held != null && !held.isEmpty()) {
      handleFrame(held.poll());
    }
    return this;
  }

  private Behavior<Command> handleFrame(Frame f) {
    if (FRAME_TOO_LARGE.equals(f.text)) {
      send(error("WebSocket frame larger than the limit (about twice "
          + deps.settings.maxMessageBytes + " bytes, peer.streams.max-message-bytes); closing "
          + "the connection", null));
      // Completing the output (after what it holds) closes the WebSocket. The actor stays
      // until the stream has ended (ClientGone), so that nothing it sends is lost on the way.
      link.complete();
      closing = true;
      // Should the inbound side never report its end, stop anyway.
      getContext().scheduleOnce(deps.settings.askTimeout, getContext().getSelf(),
          ClientGone.INSTANCE);
      return this;
    }
    if (closing) {
      return this; // no more requests on a closing connection (and no ack: none are read)
    }
    StreamrRequests.Result parsed = deps.parser.parse(f.text);
    if (parsed instanceof StreamrRequests.Result.Invalid) {
      StreamrRequests.Result.Invalid bad = (StreamrRequests.Result.Invalid) parsed;
      send(error(bad.error(), bad.requestType()));
      link.readNext(f.text.length());
      return this;
    }
    StreamrRequest request = ((StreamrRequests.Result.Ok) parsed).request();
    if (!(request instanceof StreamrRequest.Publish)) {
      sendPublishes(); // what was published before reaches its partition before this
    }
    if (request instanceof StreamrRequest.Unsubscribe) {
      unsubscribe((StreamrRequest.Unsubscribe) request);
      link.readNext(f.text.length());
      return this;
    }
    if (request instanceof StreamrRequest.Resend
        && runningResends >= deps.settings.maxResendsPerConnection) {
      send(error("too many resends running on this connection (at most "
          + deps.settings.maxResendsPerConnection + "); wait for one to finish", "resend"));
      link.readNext(f.text.length());
      return this;
    }
    // Later frames wait until this one is checked and handed on (see onChecked).
    readPending = true;
    int chars = f.text.length();
    Operation op = request instanceof StreamrRequest.Publish ? Operation.WRITE : Operation.READ;
    java.util.concurrent.CompletableFuture<Decision> check =
        deps.access.check(request.authKey(), request.stream(), op).toCompletableFuture();
    if (check.isDone() && !check.isCompletedExceptionally()) {
      // Answered from the cache: no need for a round through the mailbox.
      return onChecked(new Checked(request, check.join(), chars));
    }
    getContext().pipeToSelf(check,
        (decision, failure) -> new Checked(request, failure == null
            ? decision
            : new Decision.NotFound("stream " + request.stream()
                + " could not be looked up: " + failure.getMessage()), chars));
    return this;
  }

  private Behavior<Command> onChecked(Checked c) {
    try {
      StreamrRequest r = c.request;
      if (!(c.decision instanceof Decision.Allowed)) {
        String why = c.decision instanceof Decision.Denied
            ? ((Decision.Denied) c.decision).error()
            : ((Decision.NotFound) c.decision).error();
        if (r instanceof StreamrRequest.Subscribe) {
          StreamrRequest.Subscribe s = (StreamrRequest.Subscribe) r;
          send(ServerMessages.subscribedWithError(s.stream(), s.partition(), why));
        }
        send(error(why, r.type()));
        return this;
      }
      StreamInfo stream = ((Decision.Allowed) c.decision).stream();
      if (r instanceof StreamrRequest.Publish) {
        publish((StreamrRequest.Publish) r, stream);
      } else if (r instanceof StreamrRequest.Subscribe) {
        subscribe((StreamrRequest.Subscribe) r, stream);
      } else if (r instanceof StreamrRequest.Resend) {
        resend((StreamrRequest.Resend) r, stream);
      }
      return this;
    } finally {
      if (readPending) {
        readPending = false;
        link.readNext(c.chars);
      }
    }
  }

  private boolean partitionExists(StreamrRequest r, int partition, StreamInfo stream) {
    if (partition < stream.partitions()) {
      return true;
    }
    send(error("bad partition " + partition + ": stream " + stream.id() + " has "
        + stream.partitions() + " partition" + (stream.partitions() == 1 ? "" : "s")
        + " (0.." + (stream.partitions() - 1) + ")", r.type()));
    return false;
  }

  private void publish(StreamrRequest.Publish p, StreamInfo stream) {
    int partition = p.pkey()
        .map(k -> PartitionKeys.partitionFor(k, stream.partitions()))
        .orElseGet(() -> stream.partitions() == 1
            ? 0 : ThreadLocalRandom.current().nextInt(stream.partitions()));
    long ts = p.ts().orElseGet(System::currentTimeMillis);
    if (publishReplies == null) {
      publishReplies = getContext().messageAdapter(StreamPartition.PublishReply.class,
          PublishAnswer::new);
    }
    if (lastEntity == null || partition != lastEntityPartition
        || !stream.id().equals(lastEntityStream)) {
      lastEntity = StreamPartition.entityId(stream.id(), partition);
      lastEntityStream = stream.id();
      lastEntityPartition = partition;
    }
    if (unsent != null && !lastEntity.equals(unsentEntity)) {
      sendPublishes(); // another partition: the publishes so far go first
    }
    if (unsent == null) {
      // The frames already in the mailbox come before this: each publish among them joins.
      unsent = new ArrayList<>();
      unsentEntity = lastEntity;
      getContext().getSelf().tell(SendPublishes.INSTANCE);
    }
    unsent.add(new StreamPartition.Publish(p.msg(), ts, stream.ttlSeconds(), publishReplies,
        true, p.msgJson()));
    if (unsent.size() >= deps.settings.readAhead) {
      sendPublishes();
    }
  }

  /**
   * Sends the publishes not yet sent, one message for all (a partition handles them in order,
   * as if each came alone): through sharding's region, shard and entity once rather than
   * once each, under load a read-ahead's worth at a time.
   */
  private void sendPublishes() {
    if (unsent == null) return;
    deps.partitions.tell(new ShardingEnvelope<>(unsentEntity, unsent.size() == 1
        ? unsent.get(0) : new StreamPartition.PublishBatch(unsent)));
    unsent = null;
    unsentEntity = null;
  }

  private Behavior<Command> onPublishAnswer(PublishAnswer a) {
    if (a.reply instanceof StreamPartition.PublishRejected) {
      send(error(((StreamPartition.PublishRejected) a.reply).error, "publish"));
    }
    return this;
  }

  private void subscribe(StreamrRequest.Subscribe s, StreamInfo stream) {
    if (!partitionExists(s, s.partition(), stream)) {
      return;
    }
    String id = StreamPartition.entityId(stream.id(), s.partition());
    if (!subscriptions.containsKey(id)) {
      if (subscriptions.size() >= deps.settings.maxSubscriptions) {
        send(error("too many subscriptions on this connection (at most "
            + deps.settings.maxSubscriptions + ")", "subscribe"));
        return;
      }
      // The subscription answers "subscribed" itself, once it knows where it starts.
      ActorRef<ClientSubscription.Command> sub = getContext().spawnAnonymous(
          ClientSubscription.create(s.stream(), s.partition(),
              deps.topics.topic(stream.id(), s.partition()), deps.partitions, deps.settings,
              link, getContext().getSelf()));
      subscriptions.put(id, sub);
      deps.metrics.subscriptions.inc();
    } else {
      send(ServerMessages.subscribed(s.stream(), s.partition()));
    }
  }

  private void unsubscribe(StreamrRequest.Unsubscribe u) {
    ActorRef<ClientSubscription.Command> sub =
        subscriptions.remove(StreamPartition.entityId(u.stream(), u.partition()));
    if (sub == null) {
      send(error("not subscribed to partition " + u.partition() + " of stream " + u.stream(),
          "unsubscribe"));
      return;
    }
    getContext().stop(sub);
    deps.metrics.subscriptions.dec();
    send(ServerMessages.unsubscribed(u.stream(), u.partition()));
  }

  private void resend(StreamrRequest.Resend r, StreamInfo stream) {
    if (!partitionExists(r, r.partition(), stream)) {
      return;
    }
    EventRange range = EventRange.all();
    long last = -1;
    ResendSpec spec = r.spec();
    if (spec instanceof ResendSpec.Last) {
      last = ((ResendSpec.Last) spec).count();
    } else if (spec instanceof ResendSpec.FromOffset) {
      ResendSpec.FromOffset f = (ResendSpec.FromOffset) spec;
      range = EventRange.offsets(f.from(), f.to().orElse(Long.MAX_VALUE));
    } else if (spec instanceof ResendSpec.FromTime) {
      range = EventRange.timestamps(((ResendSpec.FromTime) spec).fromMillis(), Long.MAX_VALUE);
    }
    EventRange finalRange = range;
    long finalLast = last;
    runningResends++;
    deps.metrics.resends.inc();
    getContext().ask(StreamPartition.ResendReply.class, deps.partitions, deps.settings.askTimeout,
        replyTo -> new ShardingEnvelope<>(StreamPartition.entityId(stream.id(), r.partition()),
            new StreamPartition.Resend(finalRange, finalLast, replyTo)),
        (reply, failure) -> new ResendAnswer(r, failure == null
            ? reply
            : new StreamPartition.ResendRejected("partition " + r.partition() + " of stream "
                + r.stream() + " did not answer in time (" + failure.getMessage() + ")")));
  }

  private Behavior<Command> onResendAnswer(ResendAnswer a) {
    StreamrRequest.Resend r = a.request;
    if (a.reply instanceof StreamPartition.ResendRejected) {
      runningResends--;
      send(error(((StreamPartition.ResendRejected) a.reply).error, "resend"));
      return this;
    }
    Source<StreamMessage, NotUsed> events = ((StreamPartition.ResendStream) a.reply).events.getSource();
    // resending, the events as unicasts, resent; or no_resend when nothing matched. The whole
    // answer goes through the back-pressured sink, so it waits for a slow client.
    Source<String, NotUsed> answer = events.prefixAndTail(1).flatMapConcat(pair -> {
      List<StreamMessage> first = pair.first();
      if (first.isEmpty()) {
        return Source.single(ServerMessages.noResend(r.stream(), r.partition(), r.sub()));
      }
      return Source.single(ServerMessages.resending(r.stream(), r.partition(), r.sub()))
          .concat(Source.from(first).concat(pair.second())
              .map(m -> ServerMessages.unicast(r.sub(), m)))
          .concat(Source.single(ServerMessages.resent(r.stream(), r.partition(), r.sub())));
    }).recover(new akka.japi.pf.PFBuilder<Throwable, String>()
        .matchAny(t -> error("resend of partition " + r.partition() + " of stream " + r.stream()
            + " failed: " + t.getMessage(), "resend"))
        .build());
    ActorRef<Command> self = getContext().getSelf();
    link.resend(answer.watchTermination((mat, done) -> {
      done.whenComplete((d, t) -> self.tell(ResendDone.INSTANCE));
      return mat;
    }));
    return this;
  }

  private Behavior<Command> onSlowConsumer() {
    if (!closing) {
      closing = true;
      deps.metrics.slowConsumerDisconnects.inc();
      getContext().getLog().info("disconnecting a slow WebSocket client: {} outgoing messages "
          + "unread (peer.streams.connection.outgoing-buffer)", deps.settings.outgoingBuffer);
      link.fail(new SlowConsumerException(deps.settings.outgoingBuffer));
    }
    return Behaviors.stopped();
  }

  private Behavior<Command> onClientGone() {
    link.complete();
    return Behaviors.stopped();
  }

  private String error(String message, String requestType) {
    deps.metrics.protocolErrors.inc();
    return ServerMessages.error(message, requestType);
  }

  private void send(String text) {
    if (link.offer(text) == Outgoing.Offer.FULL) {
      getContext().getSelf().tell(SlowConsumer.INSTANCE);
    }
  }

  /** Ends the outgoing stream of a client that did not read. */
  public static final class SlowConsumerException extends RuntimeException {
    SlowConsumerException(int buffer) {
      super("client did not read: " + buffer + " outgoing messages buffered", null, false, false);
    }
  }

}
