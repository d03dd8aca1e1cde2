package io.peernode.actors.streams;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;

/**
 * Retention of one node's event store. Owns nothing but a timer. Every
 * {@code peer.streams.expiry-interval} it asks the store to delete events whose ttl has
 * passed, one run at a time; a failed run is logged and retried at the next tick.
 */
public final class EventExpiry {

  public interface Command {}

  private enum Tick implements Command {
    INSTANCE
  }

  private static final class Ran implements Command {
    final int deleted;
    final String failure;

    Ran(int deleted, String failure) {
      this.deleted = deleted;
      this.failure = failure;
    }
  }

  private EventExpiry() {}

  public static Behavior<Command> create(EventStore store, Duration interval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
      ctx.getSelf().tell(Tick.INSTANCE); // once at start: a node that was down catches up
      return idle(store);
    }));
  }

  private static Behavior<Command> idle(EventStore store) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Tick.INSTANCE, () -> Behaviors.setup(ctx -> {
          ctx.pipeToSelf(store.expire(System.currentTimeMillis()),
              (n, t) -> new Ran(n == null ? 0 : n, t == null ? null : String.valueOf(t.getMessage())));
          return running(store);
        }))
        .onMessage(Ran.class, r -> Behaviors.same())
        .build();
  }

  private static Behavior<Command> running(EventStore store) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Tick.INSTANCE, Behaviors::same) // the previous run is still going
        .onMessage(Ran.class, r -> Behaviors.setup(ctx -> {
          if (r.failure != null) {
            ctx.getLog().warn("deleting expired events failed ({}); retrying at the next tick",
                r.failure);
          } else if (r.deleted > 0) {
            ctx.getLog().info("deleted {} expired events", r.deleted);
          }
          return idle(store);
        }))
        .build();
  }
}
