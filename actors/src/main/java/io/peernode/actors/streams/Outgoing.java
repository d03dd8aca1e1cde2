package io.peernode.actors.streams;

import akka.NotUsed;
import akka.stream.BoundedSourceQueue;
import akka.stream.QueueOfferResult;
import akka.stream.javadsl.Sink;

/**
 * The outgoing side of one WebSocket connection, shared by the connection and its
 * subscriptions: a bounded queue for realtime and control messages (offer never blocks; a full
 * queue means the client does not read) and a back-pressured sink for resend streams (a resend
 * waits for the client instead of filling the queue).
 */
public final class Outgoing {

  private final BoundedSourceQueue<String> queue;
  private final Sink<String, NotUsed> resends;

  public Outgoing(BoundedSourceQueue<String> queue, Sink<String, NotUsed> resends) {
    this.queue = queue;
    this.resends = resends;
  }

  /** Outcome of {@link #offer}. */
  public enum Offer {
    SENT,
    /** The buffer is full: the client is too slow and must be disconnected. */
    FULL,
    /** The connection is gone. */
    CLOSED
  }

  /** Thread-safe; never blocks. */
  public Offer offer(String text) {
    QueueOfferResult r = queue.offer(text);
    if (r == QueueOfferResult.enqueued()) return Offer.SENT;
    if (r == QueueOfferResult.dropped()) return Offer.FULL;
    return Offer.CLOSED;
  }

  public Sink<String, NotUsed> resendSink() {
    return resends;
  }

  /** Ends the connection's output normally. */
  public void complete() {
    queue.complete();
  }

  /** Ends the connection's output with an error (closes the WebSocket). */
  public void fail(Throwable reason) {
    queue.fail(reason);
  }
}
