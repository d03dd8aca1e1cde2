package io.peernode.actors.streams;

import akka.util.ByteString;

/**
 * The outgoing side of one WebSocket connection as its subscriptions see it: a bounded buffer
 * of server messages, each the UTF-8 of one text message (a broadcast is encoded once for all
 * its subscribers), that never blocks the sender (a full buffer means the client does not
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

  /** Queues one message for the client, its text in UTF-8. Thread-safe; never blocks. */
  Offer offer(ByteString utf8);

  /** Queues one message for the client. Thread-safe; never blocks. */
  default Offer offer(String text) {
    return offer(ByteString.fromString(text));
  }
}
