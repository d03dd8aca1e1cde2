package io.peernode.actors.streams;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.pubsub.Topic;
import io.peernode.protocol.streamr.ServerMessages;
import io.peernode.protocol.streamr.StreamMessage;

/**
 * One client's subscription to one stream partition, a child of its {@link ClientConnection}.
 *
 * <p>Owns its place on the partition's pub/sub topic. Receives the partition's stored events.
 * Guarantees: each event goes to the client once, as a broadcast, in offset order (an event
 * at or below the last offset sent is dropped, so a duplicate delivery, e.g. while the
 * partition moves between nodes, is not seen twice). If the client's outgoing buffer is full
 * it tells the connection, which disconnects the client.
 */
public final class ClientSubscription extends AbstractBehavior<ClientSubscription.Command> {

  public interface Command {}

  private static final class Event implements Command {
    final StreamMessage message;

    Event(StreamMessage message) {
      this.message = message;
    }
  }

  public static Behavior<Command> create(ActorRef<Topic.Command<StreamMessage>> topic,
      Outgoing outgoing, ActorRef<ClientConnection.Command> connection) {
    return Behaviors.setup(ctx -> new ClientSubscription(ctx, topic, outgoing, connection));
  }

  private final ActorRef<Topic.Command<StreamMessage>> topic;
  private final ActorRef<StreamMessage> events;
  private final Outgoing outgoing;
  private final ActorRef<ClientConnection.Command> connection;
  private long lastOffset = -1;

  private ClientSubscription(ActorContext<Command> ctx,
      ActorRef<Topic.Command<StreamMessage>> topic, Outgoing outgoing,
      ActorRef<ClientConnection.Command> connection) {
    super(ctx);
    this.topic = topic;
    this.outgoing = outgoing;
    this.connection = connection;
    this.events = ctx.messageAdapter(StreamMessage.class, Event::new);
    topic.tell(Topic.subscribe(events));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Event.class, this::onEvent)
        .onSignal(PostStop.class, s -> {
          topic.tell(Topic.unsubscribe(events));
          return this;
        })
        .build();
  }

  private Behavior<Command> onEvent(Event e) {
    if (e.message.offset() <= lastOffset) {
      return this;
    }
    lastOffset = e.message.offset();
    if (outgoing.offer(ServerMessages.broadcast(e.message)) == Outgoing.Offer.FULL) {
      connection.tell(ClientConnection.SlowConsumer.INSTANCE);
    }
    return this;
  }
}
