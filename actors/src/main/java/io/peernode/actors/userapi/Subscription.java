package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
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
 * the node's {@link PubSubNode} for every event that matched, and {@link Drain} from
 * {@code pubsub_events}. Guarantees: events come out oldest first and each at most once; when
 * the queue is full the newest event is refused and counted, nothing already queued is dropped.
 * Unsubscribing stops the actor, and its unread events go with it.
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
    return Behaviors.setup(ctx -> new Subscription(ctx, schema, capacity, refused, unread));
  }

  private final String schema;
  private final int capacity;
  private final Counter.Child refused;
  /** Canonical event text: String, or byte[] of UTF-8 (parsed only when drained). */
  private final ArrayDeque<Object> queue = new ArrayDeque<>();
  private boolean refusing;

  private final AtomicInteger unread;

  private Subscription(ActorContext<Command> ctx, String schema, int capacity, Counter.Child refused, AtomicInteger unread) {
    super(ctx);
    this.unread = unread;
    this.schema = schema;
    this.capacity = capacity;
    this.refused = refused;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Offer.class, this::onOffer)
        .onMessage(Drain.class, this::onDrain)
        .build();
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
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    List<JsonNode> out = new ArrayList<>(queue.size());
    for (Object event : queue) {
      try {
        out.add(event instanceof byte[] ? CanonicalJson.parse((byte[]) event) : CanonicalJson.parse((String) event));
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
}
