package io.peernode.actors.userapi;

import akka.util.ByteString;
import java.util.ArrayDeque;

/**
 * The bytes of one stream end between its endpoint and the stages that move them: what arrived
 * and is unread ({@link #incoming}), what was accepted and is not yet handed to the data
 * connection ({@link #outgoing}), and the credit held for the peer's buffer ({@link #credit}).
 *
 * <p>The {@link ByteStreamEndpoint} owns it and decides open and close; the data connection's
 * stage ({@link ByteStreamConnection}) and the Java API's reader and writer stages
 * ({@link ByteStreamReader}, {@link ByteStreamWriter}) take and put bytes here directly, so a
 * chunk goes from stage to stage without a message to the endpoint. Each part is thread-safe
 * and wakes one waiting stage (an async callback) when it changes; nothing here blocks.
 *
 * <p>Bounds: credit keeps {@code incoming} within the announced buffer (a peer that sends more
 * breaks the protocol, and its connection is failed) and {@code outgoing} within the peer's
 * buffer, so neither needs a limit of its own.
 */
final class ByteStreamPipe {

  final Bytes incoming = new Bytes();
  final Bytes outgoing = new Bytes();
  final Credit credit;
  /** Bytes taken from {@code incoming} whose credit is not yet handed to the data connection. */
  private long unreturned;

  ByteStreamPipe(long initialCredit) {
    this.credit = new Credit(initialCredit);
  }

  /**
   * Gives back credit for {@code n} bytes taken from {@code incoming}, once at least {@code
   * batch} bytes are due (1: at once): the data connection sends it to the peer in-band, ahead of
   * the next bytes it sends. Safe because {@code batch} is at most the peer's view of this
   * buffer: a writer with no credit left means at least that much is due here.
   */
  void returnCredit(long n, long batch) {
    long due;
    synchronized (this) {
      unreturned += n;
      if (unreturned < batch || unreturned == 0) {
        return;
      }
      due = unreturned;
      unreturned = 0;
    }
    outgoing.giveCredit(due);
  }

  /**
   * A queue of byte pieces with an end, one producer side and one waiting consumer at a time.
   * The outgoing one also holds the credit due to the peer, which its consumer (the data
   * connection) sends along with the bytes.
   */
  static final class Bytes {
    private final ArrayDeque<ByteString> pieces = new ArrayDeque<>();
    private long size;
    private boolean ended;
    private Runnable waiter;
    private long creditDue;

    /**
     * Appends {@code bytes} (nothing when empty); false when ended and not {@code evenAfterEnd}
     * (the bytes are dropped). Incoming bytes are kept even after this side closed: those
     * that were in flight stay readable.
     */
    boolean offer(ByteString bytes, boolean evenAfterEnd) {
      Runnable wake;
      synchronized (this) {
        if (ended && !evenAfterEnd) {
          return false;
        }
        if (bytes.isEmpty()) {
          return true;
        }
        pieces.addLast(bytes);
        size += bytes.size();
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
      return true;
    }

    /**
     * Up to {@code max} bytes from the front (pieces joined, not copied), or empty when there
     * are none; when empty and {@code onMore} is given, it runs once the next bytes, credit due
     * or the end come (at most one waiter: a new one replaces the old). No waiter is kept while
     * credit is due: take it ({@link #takeCreditDue}) and poll again.
     */
    ByteString poll(int max, Runnable onMore) {
      synchronized (this) {
        if (pieces.isEmpty()) {
          if (onMore != null && !ended && creditDue == 0) {
            waiter = onMore;
          }
          return ByteString.emptyByteString();
        }
        ByteString first = pieces.pollFirst();
        ByteString out;
        if (first.size() > max) {
          out = first.take(max);
          pieces.addFirst(first.drop(max));
        } else {
          out = first;
          while (!pieces.isEmpty() && out.size() + pieces.peekFirst().size() <= max) {
            out = out.concat(pieces.pollFirst());
          }
        }
        size -= out.size();
        return out;
      }
    }

    /** Adds {@code n} bytes of credit due to the peer (nothing once ended); wakes the waiter. */
    void giveCredit(long n) {
      Runnable wake;
      synchronized (this) {
        if (ended) {
          return; // the stream is closed: the peer writes no more
        }
        creditDue += n;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
    }

    /** The credit due to the peer, now given to the caller to send; 0 when none. */
    synchronized long takeCreditDue() {
      long n = creditDue;
      creditDue = 0;
      return n;
    }

    synchronized boolean creditDue() {
      return creditDue > 0;
    }

    /** No more bytes will be offered (those queued stay); wakes the waiter. */
    void end() {
      Runnable wake;
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
    }

    synchronized long size() {
      return size;
    }

    synchronized boolean ended() {
      return ended;
    }

    /** Ended and nothing left. */
    synchronized boolean drained() {
      return ended && pieces.isEmpty();
    }
  }

  /** Credit for the peer's buffer: spent by writes, given back by the peer's reads. */
  static final class Credit {
    private long available;
    private boolean closed;
    private Runnable waiter;

    Credit(long initial) {
      this.available = initial;
    }

    /**
     * Spends up to {@code wanted} bytes of credit and returns how much; 0 when there is none
     * (then {@code onMore}, if given, runs once credit comes back or the stream closes) or the
     * stream is closed (-1).
     */
    long take(long wanted, Runnable onMore) {
      synchronized (this) {
        if (closed) {
          return -1;
        }
        long n = Math.min(wanted, available);
        if (n == 0 && wanted > 0 && onMore != null) {
          waiter = onMore;
        }
        available -= n;
        return n;
      }
    }

    /** Adds {@code n} bytes of credit (the peer's buffer announced, or what the peer's user read); wakes a waiting writer. */
    void add(long n) {
      Runnable wake;
      synchronized (this) {
        available += n;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
    }

    void close() {
      Runnable wake;
      synchronized (this) {
        closed = true;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
    }
  }
}
