package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.userapi.CanonicalJson;
import io.prometheus.client.Counter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's inbox of direct messages, one per node at {@code /system/userapi-inbox}.
 *
 * <p>Owns the messages received and not yet listed, grouped by sender node id. Receives
 * {@link Deliver} from other nodes' {@code message_send} (and this node's own) and {@link Drain}
 * from {@code message_list}. Guarantees: every delivery is answered (accepted or not), so the
 * sender never waits for nothing; at most {@code inbox-size} messages are held, a message
 * arriving at a full inbox is refused (the sender sees false) and counted; per sender, messages
 * are listed in arrival order, each once.
 */
public final class Inbox extends AbstractBehavior<Inbox.Command> {

  public static final String NAME = "userapi-inbox";

  public interface Command {}

  /** A direct message from node {@code from}; the JSON text of the message. Crosses the cluster. */
  public static final class Deliver implements Command, JsonSerializable {
    public final String from;
    public final String message;
    public final ActorRef<Accepted> replyTo;

    @JsonCreator
    public Deliver(
        @JsonProperty("from") String from,
        @JsonProperty("message") String message,
        @JsonProperty("replyTo") ActorRef<Accepted> replyTo) {
      this.from = from;
      this.message = message;
      this.replyTo = replyTo;
    }
  }

  /** The inbox's answer to a delivery. Crosses the cluster. */
  public static final class Accepted implements JsonSerializable {
    public final boolean accepted;

    @JsonCreator
    public Accepted(@JsonProperty("accepted") boolean accepted) {
      this.accepted = accepted;
    }
  }

  /** Hand over all messages, by sender, and forget them. Local only. */
  public static final class Drain implements Command {
    final ActorRef<Map<String, List<JsonNode>>> replyTo;

    public Drain(ActorRef<Map<String, List<JsonNode>>> replyTo) {
      this.replyTo = replyTo;
    }
  }

  public static Behavior<Command> create(int capacity, Counter.Child refused) {
    return Behaviors.setup(ctx -> new Inbox(ctx, capacity, refused));
  }

  private final int capacity;
  private final Counter.Child refused;
  // Insertion order = order in which senders first wrote since the last drain.
  private final Map<String, ArrayDeque<String>> bySender = new LinkedHashMap<>();
  private int size;
  private boolean refusing;

  private Inbox(ActorContext<Command> ctx, int capacity, Counter.Child refused) {
    super(ctx);
    this.capacity = capacity;
    this.refused = refused;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Drain.class, this::onDrain)
        .build();
  }

  private Behavior<Command> onDeliver(Deliver d) {
    if (size >= capacity) {
      refused.inc();
      if (!refusing) {
        getContext().getLog().warn("inbox full ({} messages), refusing direct messages until message_list drains it", capacity);
        refusing = true;
      }
      d.replyTo.tell(new Accepted(false));
      return this;
    }
    bySender.computeIfAbsent(d.from, k -> new ArrayDeque<>()).addLast(d.message);
    size++;
    d.replyTo.tell(new Accepted(true));
    return this;
  }

  private Behavior<Command> onDrain(Drain drain) {
    Map<String, List<JsonNode>> out = new LinkedHashMap<>();
    bySender.forEach((from, messages) -> {
      List<JsonNode> list = new ArrayList<>(messages.size());
      for (String m : messages) {
        try {
          list.add(CanonicalJson.parse(m));
        } catch (IllegalArgumentException e) {
          // Only a broken peer could send text that is not JSON; skip it, keep the rest.
          getContext().getLog().warn("dropping an unreadable message from {}: {}", from, e.getMessage());
        }
      }
      out.put(from, list);
    });
    bySender.clear();
    size = 0;
    refusing = false;
    drain.replyTo.tell(out);
    return this;
  }
}
