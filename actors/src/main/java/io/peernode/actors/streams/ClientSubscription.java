package io.peernode.actors.streams;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.stream.javadsl.Sink;
import akka.util.ByteString;
import io.peernode.protocol.streamr.ServerMessages;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One client's subscription to one stream partition, a child of its {@link ClientConnection}.
 *
 * <p>Owns its place on the partition's pub/sub topic and the offset it has delivered up to.
 * Receives the partition's stored events, one {@link EventBatch} per append. Guarantees: from the partition's next offset at the
 * time of subscribing, each event goes to the client once, as a broadcast, in offset order.
 * Pub/sub alone cannot promise that across nodes (a topic learns of a new remote subscriber
 * through the receptionist, a little later; a partition may move), so: it answers
 * {@code subscribed} once it knows the partition's next offset; a duplicate is dropped; and
 * when an event arrives after a gap, the missing events are read from the store (through the
 * partition) and sent first, while later events wait in a bounded buffer; once, shortly
 * after subscribing, it also checks the partition's next offset, for a quiet stream whose
 * missed events no later event would reveal. If the client's
 * outgoing buffer is full it tells the connection, which disconnects the client.
 */
public final class ClientSubscription extends AbstractBehavior<ClientSubscription.Command> {

  /** What it receives; {@link EventBatch}, from the topic, is one. */
  public interface Command {}

  private static final class Start implements Command {
    final long nextOffset;
    /** Set when the partition is unavailable (away from its home node). */
    final String error;

    Start(long nextOffset, String error) {
      this.nextOffset = nextOffset;
      this.error = error;
    }
  }

  private enum CatchUp implements Command {
    INSTANCE
  }

  private static final class CaughtUp implements Command {
    final long nextOffset;

    CaughtUp(long nextOffset) {
      this.nextOffset = nextOffset;
    }
  }

  private static final class FillReply implements Command {
    final StreamPartition.ResendReply reply;
    final String failure;

    FillReply(StreamPartition.ResendReply reply, String failure) {
      this.reply = reply;
      this.failure = failure;
    }
  }

  private static final class Filled implements Command {
    final List<StreamMessage> missing;
    final String failure;

    Filled(List<StreamMessage> missing, String failure) {
      this.missing = missing;
      this.failure = failure;
    }
  }

  /**
   * @param stream the stream id as the client named it (echoed in {@code subscribed})
   */
  public static Behavior<Command> create(String stream, int partition,
      ActorRef<Topic.Command<EventBatch>> topic,
      ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions, StreamsSettings settings,
      Outgoing outgoing, ActorRef<ClientConnection.Command> connection) {
    return Behaviors.setup(ctx -> new ClientSubscription(ctx, stream, partition, topic,
        partitions, settings, outgoing, connection));
  }

  private final String stream;
  private final int partition;
  private final String entityId;
  private final ActorRef<Topic.Command<EventBatch>> topic;
  private final ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions;
  private final StreamsSettings settings;
  private final ActorRef<EventBatch> events;
  private final Outgoing outgoing;
  private final ActorRef<ClientConnection.Command> connection;
  /** Highest offset delivered (or, before the first event, the one before the start). */
  private long lastOffset = -1;
  private boolean started;
  /** Whether lastOffset is known (the partition told its next offset, or an event came). */
  private boolean baseline;
  private boolean filling;
  /** Events that arrived while starting or filling a gap; at most outgoing-buffer of them. */
  private final List<StreamMessage> waiting = new ArrayList<>();

  private ClientSubscription(ActorContext<Command> ctx, String stream, int partition,
      ActorRef<Topic.Command<EventBatch>> topic,
      ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions, StreamsSettings settings,
      Outgoing outgoing, ActorRef<ClientConnection.Command> connection) {
    super(ctx);
    this.stream = stream;
    this.partition = partition;
    this.entityId = StreamPartition.entityId(stream, partition);
    this.topic = topic;
    this.partitions = partitions;
    this.settings = settings;
    this.outgoing = outgoing;
    this.connection = connection;
    // The topic's messages come straight in (no message adapter: one less ref per subscription).
    this.events = ctx.getSelf().narrow();
    topic.tell(Topic.subscribe(events));
    ctx.ask(StreamPartition.NextOffset.class, partitions, settings.askTimeout,
        replyTo -> new ShardingEnvelope<>(entityId, new StreamPartition.GetNextOffset(replyTo)),
        (next, failure) -> failure == null ? new Start(next.offset, next.error)
            : new Start(-1, null));
  }

  @Override
  public Receive<Command> createReceive() {
    // One case that dispatches on the type (see ClientConnection.createReceive: it is built
    // for every subscription).
    return newReceiveBuilder()
        .onMessage(Command.class, this::onCommand)
        .onSignal(PostStop.class, s -> {
          topic.tell(Topic.unsubscribe(events));
          return this;
        })
        .build();
  }

  private Behavior<Command> onCommand(Command c) {
    if (c instanceof EventBatch) return onEvents((EventBatch) c);
    if (c instanceof Start) return onStart((Start) c);
    if (c == CatchUp.INSTANCE) return onCatchUp();
    if (c instanceof CaughtUp) return onCaughtUp((CaughtUp) c);
    if (c instanceof FillReply) return onFillReply((FillReply) c);
    if (c instanceof Filled) return onFilled((Filled) c);
    return Behaviors.unhandled();
  }

  private Behavior<Command> onStart(Start s) {
    started = true;
    if (s.error != null) {
      // The client learns it now; the subscription stays, and delivers from the first event
      // once the partition is back.
      send(ServerMessages.error(s.error, "subscribe"));
      return drainWaiting();
    }
    if (s.nextOffset < 0) {
      // The partition did not answer in time: deliver from the first event that arrives.
      getContext().getLog().info("partition {} did not tell its next offset; subscription "
          + "starts at the first event it receives", entityId);
    }
    baseline = s.nextOffset >= 0;
    lastOffset = s.nextOffset - 1;
    send(ServerMessages.subscribed(stream, partition));
    getContext().scheduleOnce(settings.subscriptionCatchUp, getContext().getSelf(),
        CatchUp.INSTANCE);
    return drainWaiting();
  }

  private Behavior<Command> onEvents(EventBatch batch) {
    for (StreamMessage m : batch.events) {
      onEvent(m);
    }
    return this;
  }

  private Behavior<Command> onEvent(StreamMessage m) {
    if (!started || filling) {
      return hold(m);
    }
    if (!baseline) {
      baseline = true; // the start was unknown: this first event is the start
    } else if (m.offset() <= lastOffset) {
      return this; // already delivered
    } else if (m.offset() > lastOffset + 1) {
      fill(lastOffset + 1, m.offset() - 1);
      return hold(m);
    }
    deliver(m);
    return this;
  }

  private Behavior<Command> onCatchUp() {
    getContext().ask(StreamPartition.NextOffset.class, partitions, settings.askTimeout,
        replyTo -> new ShardingEnvelope<>(entityId, new StreamPartition.GetNextOffset(replyTo)),
        (next, failure) -> new CaughtUp(failure == null ? next.offset : -1));
    return this;
  }

  /** Fetches what the partition stored but pub/sub has not delivered here (see class doc). */
  private Behavior<Command> onCaughtUp(CaughtUp c) {
    if (baseline && !filling && c.nextOffset - 1 > lastOffset) {
      fill(lastOffset + 1, c.nextOffset - 1);
    }
    return this;
  }

  private Behavior<Command> hold(StreamMessage m) {
    if (waiting.size() >= settings.outgoingBuffer) {
      connection.tell(ClientConnection.SlowConsumer.INSTANCE);
      return this;
    }
    waiting.add(m);
    return this;
  }

  /** Reads missed events [from, to] through the partition; at most outgoing-buffer of them. */
  private void fill(long from, long to) {
    filling = true;
    long until = Math.min(to, from + settings.outgoingBuffer - 1);
    if (until < to) {
      getContext().getLog().info("a subscription to {} missed {} events; only the first {} "
          + "are sent, the client sees a gap", entityId, to - from + 1, settings.outgoingBuffer);
    }
    getContext().ask(StreamPartition.ResendReply.class, partitions, settings.askTimeout,
        replyTo -> new ShardingEnvelope<>(entityId,
            new StreamPartition.Resend(EventRange.offsets(from, until), -1, replyTo)),
        (reply, failure) -> new FillReply(reply,
            failure == null ? null : String.valueOf(failure.getMessage())));
  }

  private Behavior<Command> onFillReply(FillReply r) {
    if (r.failure != null) {
      return onFilled(new Filled(List.of(), r.failure));
    }
    if (r.reply instanceof StreamPartition.ResendRejected) {
      return onFilled(new Filled(List.of(), ((StreamPartition.ResendRejected) r.reply).error));
    }
    getContext().pipeToSelf(((StreamPartition.ResendStream) r.reply).events.getSource()
            .take(settings.outgoingBuffer).runWith(Sink.seq(), getContext().getSystem()),
        (list, t) -> new Filled(t == null ? list : List.of(),
            t == null ? null : String.valueOf(t.getMessage())));
    return this;
  }

  private Behavior<Command> onFilled(Filled f) {
    filling = false;
    if (f.failure != null) {
      getContext().getLog().info("could not read the events missed by a subscription to {} "
          + "({}); the client sees a gap", entityId, f.failure);
    }
    for (StreamMessage m : f.missing) {
      if (m.offset() > lastOffset) deliver(m);
    }
    return drainWaiting();
  }

  private Behavior<Command> drainWaiting() {
    List<StreamMessage> held = new ArrayList<>(waiting);
    waiting.clear();
    held.sort(Comparator.comparingLong(StreamMessage::offset));
    for (int i = 0; i < held.size(); i++) {
      if (filling) {
        // a new gap: the rest waits again, in order
        waiting.addAll(held.subList(i, held.size()));
        break;
      }
      onEvent(held.get(i));
    }
    return this;
  }

  private void deliver(StreamMessage m) {
    lastOffset = m.offset();
    // The bytes are the event's own, shared by all its subscribers here, and never modified.
    offered(outgoing.offer(ByteString.fromArrayUnsafe(ServerMessages.broadcastUtf8(m))));
  }

  private void send(String text) {
    offered(outgoing.offer(text));
  }

  private void offered(Outgoing.Offer result) {
    if (result == Outgoing.Offer.FULL) {
      connection.tell(ClientConnection.SlowConsumer.INSTANCE);
    }
  }
}
