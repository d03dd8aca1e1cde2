package io.peernode.actors.streams;

/**
 * The outgoing side of one WebSocket connection as its subscriptions see it: a bounded buffer
 * of server messages that never blocks the sender (a full buffer means the client does not
 * read, and the connection is then closed rather than buffered without bound).
 */
@FunctionalInterface
public interface Outgoing {

  /** Outcome of {@link #offer}. */
  enum Offer {
    SENT,
    /** The buffer is full: the client is too slow and must be disconnected. */
    FULL,
    /** The connection is gone. */
    CLOSED
  }

  /** Queues one message for the client. Thread-safe; never blocks. */
  Offer offer(String text);
}
