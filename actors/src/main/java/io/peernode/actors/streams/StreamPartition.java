package io.peernode.actors.streams;

import akka.actor.typed.BehaviorInterceptor;
import akka.actor.typed.PostStop;
import akka.actor.typed.Signal;
import akka.actor.typed.TypedActorContext;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.pubsub.Topic;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.Entity;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import akka.stream.SourceRef;
import akka.stream.StreamRefAttributes;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.StreamRefs;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import akka.cluster.sharding.typed.ShardingMessageExtractor;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.NodeId;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One partition of a stream, a Cluster Sharding entity (id {@code streamId#partition}), so it
 * lives in exactly one place in the cluster at a time.
 *
 * <p>Owns the partition's next offset. Receives publishes and resend requests. Guarantees:
 * offsets are assigned in arrival order, strictly increasing without gaps, and never reused
 * (it starts from the store's next offset, and re-reads it after any failed write); an event
 * is durably stored before it is broadcast on the partition's {@link Topic} and before the
 * publisher gets its offset; events are broadcast in offset order. Publishes arriving while a
 * write is in flight go into the next write together (with the store's group commit across
 * partitions, one fsync serves many events). Every queue is bounded; beyond it a publish is
 * answered with an error instead.
 */
public final class StreamPartition extends AbstractBehavior<StreamPartition.Command> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "StreamPartition");

  // ---- protocol -------------------------------------------------------------------------------

  public interface Command extends JsonSerializable {}

  /**
   * Store and broadcast one event; the reply carries its offset. With {@code rejectionsOnly}
   * (a WebSocket publisher, whom the protocol tells nothing on success) only a
   * {@link PublishRejected} is sent back: one message less per event.
   */
  public static final class Publish implements Command {
    public final String content;
    public final long timestamp;
    public final int ttl;
    public final ActorRef<PublishReply> replyTo;
    public final boolean rejectionsOnly;
    /**
     * {@code content} as the publisher's JSON string literal, or null (see {@link
     * StreamMessage}); local only: not serialized, so a publish that crosses to another node
     * arrives without it and its broadcasts escape the content themselves.
     */
    @JsonIgnore
    public final String contentJson;

    public Publish(String content, long timestamp, int ttl, ActorRef<PublishReply> replyTo) {
      this(content, timestamp, ttl, replyTo, false);
    }

    @JsonCreator
    public Publish(@JsonProperty("content") String content,
        @JsonProperty("timestamp") long timestamp,
        @JsonProperty("ttl") int ttl,
        @JsonProperty("replyTo") ActorRef<PublishReply> replyTo,
        @JsonProperty("rejectionsOnly") boolean rejectionsOnly) {
      this(content, timestamp, ttl, replyTo, rejectionsOnly, null);
    }

    public Publish(String content, long timestamp, int ttl, ActorRef<PublishReply> replyTo,
        boolean rejectionsOnly, String contentJson) {
      this.content = content;
      this.timestamp = timestamp;
      this.ttl = ttl;
      this.replyTo = replyTo;
      this.rejectionsOnly = rejectionsOnly;
      this.contentJson = contentJson;
    }
  }

  /**
   * Publishes that one connection sent one after another, handled as if each came alone: one
   * message through sharding (region, shard, entity) for all of them.
   */
  public static final class PublishBatch implements Command {
    public final List<Publish> publishes;

    @JsonCreator
    public PublishBatch(@JsonProperty("publishes") List<Publish> publishes) {
      this.publishes = List.copyOf(publishes);
    }
  }

  public interface PublishReply extends JsonSerializable {}

  public static final class Published implements PublishReply {
    public final long offset;

    @JsonCreator
    public Published(@JsonProperty("offset") long offset) {
      this.offset = offset;
    }
  }

  /** The event was not stored; {@code error} says why (busy, store unavailable). */
  public static final class PublishRejected implements PublishReply {
    public final String error;

    @JsonCreator
    public PublishRejected(@JsonProperty("error") String error) {
      this.error = error;
    }
  }

  /**
   * Stream stored events: those in {@code range}, or when {@code last >= 0} the last
   * {@code last} events (range ignored). The reply is a stream reference the requester, on
   * any node, consumes with back-pressure.
   */
  public static final class Resend implements Command {
    public final EventRange range;
    public final long last;
    public final ActorRef<ResendReply> replyTo;

    @JsonCreator
    public Resend(@JsonProperty("range") EventRange range, @JsonProperty("last") long last,
        @JsonProperty("replyTo") ActorRef<ResendReply> replyTo) {
      this.range = range;
      this.last = last;
      this.replyTo = replyTo;
    }
  }

  public interface ResendReply extends JsonSerializable {}

  public static final class ResendStream implements ResendReply {
    public final SourceRef<StreamMessage> events;

    @JsonCreator
    public ResendStream(@JsonProperty("events") SourceRef<StreamMessage> events) {
      this.events = events;
    }
  }

  public static final class ResendRejected implements ResendReply {
    public final String error;

    @JsonCreator
    public ResendRejected(@JsonProperty("error") String error) {
      this.error = error;
    }
  }

  /** Asks for the offset the next stored event will get (subscriptions start from it). */
  public static final class GetNextOffset implements Command {
    public final ActorRef<NextOffset> replyTo;

    @JsonCreator
    public GetNextOffset(@JsonProperty("replyTo") ActorRef<NextOffset> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /**
   * The next offset; or, when the partition is unavailable (away from its home node),
   * {@code offset} -1 and {@code error} saying why.
   */
  public static final class NextOffset implements JsonSerializable {
    public final long offset;
    public final String error;

    public NextOffset(long offset) {
      this(offset, null);
    }

    @JsonCreator
    public NextOffset(@JsonProperty("offset") long offset, @JsonProperty("error") String error) {
      this.offset = offset;
      this.error = error;
    }
  }

  /** Sent by sharding on passivation: stop once nothing is in flight. */
  public static final class Stop implements Command {
    @JsonCreator
    public Stop() {}
  }

  // Internal messages: they never leave this node.
  private static final class Recovered implements Command {
    final long nextOffset;

    Recovered(long nextOffset) {
      this.nextOffset = nextOffset;
    }
  }

  private static final class RecoveryFailed implements Command {
    final String reason;

    RecoveryFailed(String reason) {
      this.reason = reason;
    }
  }

  private static final class RetryRecovery implements Command {}

  private static final class HomeFound implements Command {
    final Optional<NodeId> home;

    HomeFound(Optional<NodeId> home) {
      this.home = home;
    }
  }

  private static final class Stored implements Command {
    final List<Publish> publishes;
    final List<StreamMessage> events;
    /** Some publish of the append wants its offset (not every one is rejectionsOnly). */
    final boolean replies;

    Stored(List<Publish> publishes, List<StreamMessage> events, boolean replies) {
      this.publishes = publishes;
      this.events = events;
      this.replies = replies;
    }
  }

  private static final class StoreFailed implements Command {
    final List<Publish> publishes;
    final String reason;

    StoreFailed(List<Publish> publishes, String reason) {
      this.publishes = publishes;
      this.reason = reason;
    }
  }

  // ---- wiring ---------------------------------------------------------------------------------

  public static String entityId(String streamId, int partition) {
    return streamId + "#" + partition;
  }

  /**
   * Starts sharding of partitions on this node (call once per node, on every node) and returns
   * the region to send {@code ShardingEnvelope(entityId(stream, partition), command)} to.
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(ActorSystem<?> system,
      EventStore store, PartitionTopics topics, StreamsSettings settings, StreamsMetrics metrics) {
    return initSharding(system, store, topics, settings, metrics, null);
  }

  /**
   * As above; with {@code homes} (each node has its own embedded store) every partition is its
   * own shard, placed on its stream's home node by {@link HomeAllocationStrategy}, and a
   * partition started elsewhere answers "unavailable" instead of using that node's store.
   */
  public static ActorRef<ShardingEnvelope<Command>> initSharding(ActorSystem<?> system,
      EventStore store, PartitionTopics topics, StreamsSettings settings, StreamsMetrics metrics,
      PartitionHomes homes) {
    Entity<Command, ShardingEnvelope<Command>> entity = Entity.of(ENTITY_KEY,
        ctx -> create(ctx.getEntityId(), store, topics, settings, metrics, homes));
    if (homes != null) {
      entity = entity
          .withMessageExtractor(new ShardingMessageExtractor<ShardingEnvelope<Command>, Command>() {
            @Override
            public String entityId(ShardingEnvelope<Command> envelope) {
              return envelope.entityId();
            }

            @Override
            public String shardId(String entityId) {
              return entityId;
            }

            @Override
            public Command unwrapMessage(ShardingEnvelope<Command> envelope) {
              return envelope.message();
            }
          })
          .withAllocationStrategy(new HomeAllocationStrategy(system, homes));
    }
    return ClusterSharding.get(system).init(
        entity
            .withStopMessage(new Stop())
            .withSettings(akka.cluster.sharding.typed.ClusterShardingSettings.create(system)
                // PassivationStrategySettings$.MODULE$: the Scala companion (no static forwarder).
                .withPassivationStrategy(akka.cluster.sharding.typed.ClusterShardingSettings
                    .PassivationStrategySettings$.MODULE$.defaults()
                    .withIdleEntityPassivation(settings.passivateAfter))));
  }

  public static Behavior<Command> create(String entityId, EventStore store,
      PartitionTopics topics, StreamsSettings settings, StreamsMetrics metrics) {
    return create(entityId, store, topics, settings, metrics, null);
  }

  /** @param homes null when any node may host the partition (a shared store) */
  public static Behavior<Command> create(String entityId, EventStore store,
      PartitionTopics topics, StreamsSettings settings, StreamsMetrics metrics,
      PartitionHomes homes) {
    int hash = entityId.lastIndexOf('#');
    if (hash < 0) {
      throw new IllegalArgumentException("entity id must be streamId#partition: " + entityId);
    }
    String streamId = entityId.substring(0, hash);
    int partition = Integer.parseInt(entityId.substring(hash + 1));
    Behavior<Command> partitionBehavior = Behaviors.withStash(settings.stashCapacity, stash -> Behaviors.setup(ctx ->
        Behaviors.withTimers(timers -> new StreamPartition(ctx, stash, timers, streamId,
            partition, store, topics.topic(streamId, partition), settings, metrics)
            .recovering())));
    if (homes != null) {
      partitionBehavior = placing(streamId, partition, homes, settings, metrics, partitionBehavior);
    }
    Behavior<Command> counted = partitionBehavior;
    return Behaviors.setup(ctx -> {
      metrics.partitionsActive.inc();
      return Behaviors.intercept(() -> new CountedWhileAlive(metrics.partitionsActive), counted);
    });
  }

  /**
   * Before touching its store, a partition checks that this node is its stream's home (the
   * only store with its history); anywhere else it stays {@link #unavailable} until sharding
   * moves it home.
   */
  private static Behavior<Command> placing(String streamId, int partition, PartitionHomes homes,
      StreamsSettings settings, StreamsMetrics metrics, Behavior<Command> atHome) {
    return Behaviors.withStash(settings.stashCapacity, stash -> Behaviors.setup(ctx -> {
      Optional<NodeId> known = homes.homeOf(streamId);
      if (known.isPresent()) {
        return known.get().equals(homes.self()) ? atHome
            : unavailable(streamId, partition, known, metrics);
      }
      ctx.pipeToSelf(homes.lookup(streamId),
          (home, failure) -> new HomeFound(failure == null ? home : Optional.empty()));
      return Behaviors.receive(Command.class)
          .onMessage(HomeFound.class, f -> stash.unstashAll(
              f.home.isPresent() && f.home.get().equals(homes.self()) ? atHome
                  : unavailable(streamId, partition, f.home, metrics)))
          .onMessage(Stop.class, s -> Behaviors.stopped())
          .onAnyMessage(m -> {
            if (stash.isFull()) {
              reject(m, "partition " + partition + " of stream " + streamId
                  + " is busy (finding its home node); retry later", metrics);
            } else {
              stash.stash(m);
            }
            return Behaviors.same();
          })
          .build();
    }));
  }

  /** Away from its home: answers every request with an error, never touches this node's store. */
  private static Behavior<Command> unavailable(String streamId, int partition,
      Optional<NodeId> home, StreamsMetrics metrics) {
    String error = "partition " + partition + " of stream " + streamId + " is unavailable: "
        + home.map(h -> "its home node " + h.hex() + " is not in the cluster")
            .orElse("its home node is not known in the cluster");
    return Behaviors.receive(Command.class)
        .onMessage(GetNextOffset.class, g -> {
          g.replyTo.tell(new NextOffset(-1, error));
          return Behaviors.same();
        })
        .onMessage(Stop.class, s -> Behaviors.stopped())
        .onAnyMessage(m -> {
          reject(m, error, metrics);
          return Behaviors.same();
        })
        .build();
  }

  private static void reject(Command m, String error, StreamsMetrics metrics) {
    if (m instanceof PublishBatch) {
      for (Publish p : ((PublishBatch) m).publishes) reject(p, error, metrics);
    } else if (m instanceof Publish) {
      metrics.publishesRejected.inc();
      ((Publish) m).replyTo.tell(new PublishRejected(error));
    } else if (m instanceof Resend) {
      ((Resend) m).replyTo.tell(new ResendRejected(error));
    } else if (m instanceof GetNextOffset) {
      ((GetNextOffset) m).replyTo.tell(new NextOffset(-1, error));
    }
  }

  /** Keeps {@code streamr_partitions_active} right whichever state the partition stops in. */
  private static final class CountedWhileAlive extends BehaviorInterceptor<Command, Command> {
    private final io.prometheus.client.Gauge gauge;

    CountedWhileAlive(io.prometheus.client.Gauge gauge) {
      super(Command.class);
      this.gauge = gauge;
    }

    @Override
    public Behavior<Command> aroundReceive(TypedActorContext<Command> ctx, Command msg, ReceiveTarget<Command> target) {
      return target.apply(ctx, msg);
    }

    @Override
    public Behavior<Command> aroundSignal(TypedActorContext<Command> ctx, Signal signal, SignalTarget<Command> target) {
      if (signal instanceof PostStop) {
        gauge.dec();
      }
      return target.apply(ctx, signal);
    }
  }

  // ---- state ----------------------------------------------------------------------------------

  private final StashBuffer<Command> stash;
  private final akka.actor.typed.javadsl.TimerScheduler<Command> timers;
  private final String streamId;
  private final int partition;
  private final EventStore store;
  private final ActorRef<Topic.Command<EventBatch>> topic;
  private final StreamsSettings settings;
  private final StreamsMetrics metrics;

  /** Next offset to assign; valid once recovered. */
  private long nextOffset = -1;
  /** Publishes waiting for the write in flight to finish. */
  private final ArrayDeque<Publish> waiting = new ArrayDeque<>();
  private boolean writing;
  private boolean stopping;

  private StreamPartition(ActorContext<Command> ctx, StashBuffer<Command> stash,
      akka.actor.typed.javadsl.TimerScheduler<Command> timers, String streamId, int partition,
      EventStore store, ActorRef<Topic.Command<EventBatch>> topic, StreamsSettings settings,
      StreamsMetrics metrics) {
    super(ctx);
    this.stash = stash;
    this.timers = timers;
    this.streamId = streamId;
    this.partition = partition;
    this.store = store;
    this.topic = topic;
    this.settings = settings;
    this.metrics = metrics;
  }

  // ---- recovering: reading the next offset, everything else waits ---------------------------

  private Behavior<Command> recovering() {
    getContext().pipeToSelf(store.nextOffset(streamId, partition),
        (next, failure) -> failure == null
            ? new Recovered(next)
            : new RecoveryFailed(String.valueOf(failure.getMessage())));
    return Behaviors.receive(Command.class)
        .onMessage(Recovered.class, r -> {
          nextOffset = r.nextOffset;
          return stash.unstashAll(this);
        })
        .onMessage(RecoveryFailed.class, f -> {
          getContext().getLog().warn("partition {}#{} cannot read its next offset ({}); retrying",
              streamId, partition, f.reason);
          timers.startSingleTimer(new RetryRecovery(), settings.recoveryRetry);
          return Behaviors.same();
        })
        .onMessage(RetryRecovery.class, r -> recovering())
        .onMessage(Stop.class, s -> Behaviors.stopped())
        .onAnyMessage(m -> {
          if (stash.isFull()) {
            rejectWhileUnavailable(m);
          } else {
            stash.stash(m);
          }
          return Behaviors.same();
        })
        .build();
  }

  private void rejectWhileUnavailable(Command m) {
    String error = "partition " + partition + " of stream " + streamId
        + " is unavailable (its store cannot be read); retry later";
    reject(m, error, metrics);
  }

  // ---- running ------------------------------------------------------------------------------

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Publish.class, this::onPublish)
        .onMessage(PublishBatch.class, b -> {
          for (Publish p : b.publishes) onPublish(p);
          return this;
        })
        .onMessage(Stored.class, this::onStored)
        .onMessage(StoreFailed.class, this::onStoreFailed)
        .onMessage(Resend.class, this::onResend)
        .onMessage(GetNextOffset.class, g -> {
          // Offsets being written are not stored yet: they still count as "next".
          g.replyTo.tell(new NextOffset(nextOffset));
          return this;
        })
        .onMessage(Stop.class, s -> {
          stopping = true;
          return writing ? this : Behaviors.stopped();
        })
        .build();
  }

  private Behavior<Command> onPublish(Publish p) {
    if (waiting.size() >= settings.maxPendingPublishes) {
      metrics.publishesRejected.inc();
      p.replyTo.tell(new PublishRejected("partition " + partition + " of stream " + streamId
          + " is busy (" + waiting.size() + " publishes waiting); retry later"));
      return this;
    }
    waiting.add(p);
    if (!writing) {
      write();
    }
    return this;
  }

  /** Hands everything waiting (up to max-batch) to the store as one append. */
  private void write() {
    int n = Math.min(waiting.size(), settings.maxBatch);
    List<Publish> batch = new ArrayList<>(n);
    List<StreamMessage> events = new ArrayList<>(n);
    long offset = nextOffset;
    boolean anyReply = false;
    for (int i = 0; i < n; i++) {
      Publish p = waiting.poll();
      batch.add(p);
      anyReply |= !p.rejectionsOnly;
      events.add(new StreamMessage(streamId, partition, p.timestamp, p.ttl, offset,
          offset == 0 ? null : offset - 1, p.content, p.contentJson));
      offset++;
    }
    writing = true;
    boolean replies = anyReply;
    getContext().pipeToSelf(store.append(streamId, partition, events),
        (done, failure) -> failure == null
            ? new Stored(batch, events, replies)
            : new StoreFailed(batch, String.valueOf(failure.getMessage())));
  }

  private Behavior<Command> onStored(Stored s) {
    writing = false;
    nextOffset += s.events.size();
    // One broadcast for the whole append (consecutive offsets, in order).
    topic.tell(Topic.publish(new EventBatch(s.events)));
    // WebSocket publishers want no reply: then the append's publishes are not walked again (a
    // loop of hundreds of iterations per append that C2 compiled twice, on-stack and whole).
    if (s.replies) {
      for (int i = 0; i < s.events.size(); i++) {
        Publish p = s.publishes.get(i);
        if (!p.rejectionsOnly) {
          p.replyTo.tell(new Published(s.events.get(i).offset()));
        }
      }
    }
    metrics.eventsStored.inc(s.events.size());
    if (!waiting.isEmpty()) {
      write();
    } else if (stopping) {
      return Behaviors.stopped();
    }
    return this;
  }

  /**
   * The write's outcome is unknown (it may even have committed), so the offsets cannot be
   * trusted: everything in hand is refused and the next offset is read again from the store.
   */
  private Behavior<Command> onStoreFailed(StoreFailed f) {
    writing = false;
    getContext().getLog().warn("partition {}#{}: storing {} events failed ({}); re-reading offset",
        streamId, partition, f.publishes.size(), f.reason);
    String error = "storing the event failed (" + f.reason + "); it may be retried";
    for (Publish p : f.publishes) {
      p.replyTo.tell(new PublishRejected(error));
    }
    for (Publish p : waiting) {
      p.replyTo.tell(new PublishRejected(error));
    }
    metrics.publishesRejected.inc(f.publishes.size() + waiting.size());
    waiting.clear();
    if (stopping) {
      return Behaviors.stopped();
    }
    return recovering();
  }

  private Behavior<Command> onResend(Resend r) {
    EventRange range;
    long lastStored = nextOffset - 1;
    if (r.last >= 0) {
      range = EventRange.offsets(Math.max(0, nextOffset - r.last), lastStored);
    } else {
      // Only what is stored now: realtime events after this point reach subscribers anyway.
      range = new EventRange(r.range.fromOffset, Math.min(r.range.toOffset, lastStored),
          r.range.fromTimestamp, r.range.toTimestamp);
    }
    Source<StreamMessage, ?> events = range.fromOffset > range.toOffset || (r.last == 0)
        // lazily: a stream ref whose source completes before the consumer connects logs a
        // warning; this one completes only on the consumer's first demand.
        ? Source.lazySource(Source::<StreamMessage>empty)
        : store.source(streamId, partition, range, settings.resendPageSize);
    SourceRef<StreamMessage> ref = events.runWith(
        StreamRefs.<StreamMessage>sourceRef().addAttributes(
            StreamRefAttributes.subscriptionTimeout(settings.resendSubscriptionTimeout)),
        getContext().getSystem());
    r.replyTo.tell(new ResendStream(ref));
    return this;
  }
}
