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
  private final java.util.concurrent.atomic.AtomicBoolean ended =
      new java.util.concurrent.atomic.AtomicBoolean();

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
    if (ended.get()) return Offer.CLOSED;
    QueueOfferResult r;
    try {
      r = queue.offer(text);
    } catch (IllegalStateException closed) {
      return Offer.CLOSED;
    }
    if (r == QueueOfferResult.enqueued()) return Offer.SENT;
    if (r == QueueOfferResult.dropped()) return Offer.FULL;
    return Offer.CLOSED;
  }

  public Sink<String, NotUsed> resendSink() {
    return resends;
  }

  /** Ends the connection's output normally; does nothing if it has ended already. */
  public void complete() {
    if (ended.compareAndSet(false, true)) {
      try {
        queue.complete();
      } catch (IllegalStateException alreadyEnded) {
        // the stream ended from the client's side first
      }
    }
  }

  /** Ends the connection's output with an error (closes the WebSocket), once. */
  public void fail(Throwable reason) {
    if (ended.compareAndSet(false, true)) {
      try {
        queue.fail(reason);
      } catch (IllegalStateException alreadyEnded) {
        // the stream ended from the client's side first
      }
    }
  }
}
