package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.util.ByteString;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.Counter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One subscription of this node: the events its schema matched, not yet read.
 *
 * <p>Owns a bounded queue of matched events (canonical JSON text). Receives {@link Offer} from
 * the node's {@link PubSubNode} for every event that matched, {@link Drain} from
 * {@code pubsub_events}, and {@link Attach} from {@link UserApi#eventSource}: an attached stream
 * is pushed the queued events as one {@link Batch} (at most {@code event-source-batch}) whenever
 * it has acknowledged the previous one, so a slow consumer leaves events in the bounded queue
 * and the queue's limit still holds. Guarantees: events come out oldest first and each at most
 * once (to a drain or to the stream); when the queue is full the newest event is refused and
 * counted, nothing already queued is dropped. Unsubscribing stops the actor, its unread events go
 * with it and an attached stream completes.
 */
public final class Subscription extends AbstractBehavior<Subscription.Command> {

  public interface Command {}

  /** Matched events, as canonical JSON text (a String, or its UTF-8 bytes as it came from another node), oldest first. Local only. */
  public static final class Offer implements Command {
    final List<?> events;

    public Offer(String event) {
      this.events = List.of(event);
    }

    public Offer(List<String> events) {
      this.events = List.copyOf(events);
    }

    private Offer(List<?> events, boolean owned) {
      this.events = events;
    }

    /** Events as String or UTF-8 bytes; the list is the Offer's from now on (not copied). */
    static Offer of(List<Object> events) {
      return new Offer(events, true);
    }
  }

  /** Hand over all unread events and forget them. */
  public static final class Drain implements Command {
    final ActorRef<Events> replyTo;

    public Drain(ActorRef<Events> replyTo) {
      this.replyTo = replyTo;
    }
  }

  /** The events of a drain, oldest first; {@code subscribed} is false when there was no such subscription. */
  public static final class Events {
    public final boolean subscribed;
    public final List<JsonNode> events;

    public Events(boolean subscribed, List<JsonNode> events) {
      this.subscribed = subscribed;
      this.events = List.copyOf(events);
    }
  }

  /**
   * Attach the stream {@code stream} (an {@code ActorSource.actorRefWithBackpressure} whose ack
   * is {@code new StreamAck(token)}); it replaces (and completes) a stream attached before.
   */
  public static final class Attach implements Command {
    final ActorRef<Delivery> stream;
    final Object token;

    public Attach(ActorRef<Delivery> stream, Object token) {
      this.stream = stream;
      this.token = token;
    }
  }

  /** The attached stream took the last batch and wants the next. */
  public static final class StreamAck implements Command {
    final Object token;

    public StreamAck(Object token) {
      this.token = token;
    }
  }

  private static final class StreamGone implements Command {
    final Object token;

    StreamGone(Object token) {
      this.token = token;
    }
  }

  /** What a subscription sends to its attached stream. Local only. */
  public interface Delivery {}

  /** Events taken from the queue, oldest first: canonical JSON as String or UTF-8 bytes. */
  public static final class Batch implements Delivery {
    final Object[] events;

    Batch(Object[] events) {
      this.events = events;
    }

    /** The events as JSON trees, parsed here (on the consumer's side, not on the actor). */
    public List<JsonNode> parse() {
      List<JsonNode> out = new ArrayList<>(events.length);
      for (Object event : events) {
        try {
          out.add(parseOne(event));
        } catch (IllegalArgumentException e) {
          // Only a broken peer could queue text that is not JSON; skip it, keep the rest.
        }
      }
      return out;
    }

    /** The events as their canonical JSON text in UTF-8, not parsed (the arrays are not copied: nothing writes to them). */
    public List<ByteString> bytes() {
      List<ByteString> out = new ArrayList<>(events.length);
      for (Object event : events) {
        out.add(event instanceof byte[]
            ? ByteString.fromArrayUnsafe((byte[]) event)
            : ByteString.fromString((String) event, java.nio.charset.StandardCharsets.UTF_8));
      }
      return out;
    }
  }

  /** The subscription ended (unsubscribed, or another stream attached): complete the stream. */
  public static final class Completed implements Delivery {
    public static final Completed INSTANCE = new Completed();

    private Completed() {}
  }

  public static Behavior<Command> create(String schema, int capacity, Counter.Child refused) {
    return create(schema, capacity, refused, new AtomicInteger());
  }

  /**
   * With {@code unread}: the events offered to this subscription and not yet drained or refused.
   * The sender adds to it before it sends an Offer, this actor takes off what it refuses and
   * what a drain hands over; so 0 means nothing is queued or on its way, and a drain may be
   * answered without asking (see {@link UserApi#events}).
   */
  static Behavior<Command> create(String schema, int capacity, Counter.Child refused, AtomicInteger unread) {
    return create(schema, capacity, 1024, refused, unread);
  }

  /** With {@code streamBatch}: the most events one {@link Batch} to an attached stream holds. */
  static Behavior<Command> create(String schema, int capacity, int streamBatch, Counter.Child refused, AtomicInteger unread) {
    return Behaviors.setup(ctx -> new Subscription(ctx, schema, capacity, streamBatch, refused, unread));
  }

  private final String schema;
  private final int capacity;
  private final Counter.Child refused;
  /** Canonical event text: String, or byte[] of UTF-8 (parsed only when drained). */
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean refusing;

  private final AtomicInteger unread;
  private final int streamBatch;
  /** The attached stream, its token, and whether it still has to acknowledge the last batch. */
  private ActorRef<Delivery> stream;
  private Object streamToken;
  private boolean awaitingAck;

  private Subscription(ActorContext<Command> ctx, String schema, int capacity, int streamBatch, Counter.Child refused, AtomicInteger unread) {
    super(ctx);
    this.unread = unread;
    this.streamBatch = streamBatch;
    this.schema = schema;
    this.capacity = capacity;
    this.refused = refused;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Offer.class, this::onOffer)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Attach.class, this::onAttach)
        .onMessage(StreamAck.class, this::onStreamAck)
        .onMessage(StreamGone.class, this::onStreamGone)
        .onSignal(akka.actor.typed.PostStop.class, signal -> {
          if (stream != null) {
            stream.tell(Completed.INSTANCE);
          }
          return this;
        })
        .build();
  }

  private Behavior<Command> onAttach(Attach a) {
    if (stream != null) {
      getContext().unwatch(stream);
      stream.tell(Completed.INSTANCE);
    }
    stream = a.stream;
    streamToken = a.token;
    awaitingAck = false; // an actorRefWithBackpressure source takes its first element unasked
    getContext().watchWith(stream, new StreamGone(a.token));
    push();
    return this;
  }

  private Behavior<Command> onStreamAck(StreamAck ack) {
    if (stream != null && ack.token == streamToken) {
      awaitingAck = false;
      push();
    }
    return this;
  }

  private Behavior<Command> onStreamGone(StreamGone gone) {
    if (gone.token == streamToken) {
      stream = null;
      streamToken = null;
    }
    return this;
  }

  /** Hands the oldest queued events to the attached stream, when it is ready for them. */
  private void push() {
    if (stream == null || awaitingAck || queue.isEmpty()) {
      return;
    }
    Object[] events = new Object[Math.min(queue.size(), streamBatch)];
    for (int i = 0; i < events.length; i++) {
      events[i] = queue.pollFirst();
    }
    unread.addAndGet(-events.length);
    refusing = false;
    awaitingAck = true;
    stream.tell(new Batch(events));
  }

  private Behavior<Command> onOffer(Offer offer) {
    for (Object event : offer.events) {
      if (queue.size() >= capacity) {
        refused.inc();
        unread.decrementAndGet();
        if (!refusing) {
          // Logged once per full spell, not once per event: a flood must not flood the log too.
          getContext().getLog().warn("subscription queue full ({} events), refusing new events for schema {}", capacity, schema);
          refusing = true;
        }
      } else {
        queue.addLast(event);
      }
    }
    push();
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    List<JsonNode> out = new ArrayList<>(queue.size());
    for (Object event : queue) {
      try {
        out.add(parseOne(event));
      } catch (IllegalArgumentException e) {
        // Only a broken peer could queue text that is not JSON; skip it, keep the rest.
        getContext().getLog().warn("dropping an unreadable event: {}", e.getMessage());
      }
    }
    unread.addAndGet(-queue.size());
    queue.clear();
    refusing = false;
    drain.replyTo.tell(new Events(true, out));
    return this;
  }

  static JsonNode parseOne(Object event) {
    return event instanceof byte[] ? CanonicalJson.parse((byte[]) event) : CanonicalJson.parse((String) event);
  }
}
