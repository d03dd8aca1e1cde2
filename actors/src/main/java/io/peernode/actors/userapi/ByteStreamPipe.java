package io.peernode.actors.userapi;

import akka.util.ByteString;
import java.util.ArrayDeque;

/**
 * The bytes of one stream end between its endpoint and the stages that move them: what arrived
 * and is unread ({@link #incoming}), and what was accepted and is not yet handed to the data
 * connection, with the credit for the peer's buffer and the credit due to the peer
 * ({@link #outgoing}).
 *
 * <p>The {@link ByteStreamEndpoint} owns it and decides open and close; the data connection
 * (the reader and writer threads of a {@link ByteStreamSocket}, or with {@code
 * stream-data-transport = akka-io} a {@link ByteStreamConnection} stage) and the Java API's
 * reader and writer stages
 * ({@link ByteStreamReader}, {@link ByteStreamWriter}) take and put bytes here directly, so a
 * chunk goes from stage to stage without a message to the endpoint. Each part is thread-safe
 * and wakes a waiting stage (an async callback) when it changes; nothing here blocks.
 *
 * <p>The credit loop is kept short on both sides. A Java writer may leave up to {@code
 * stream-write-ahead} bytes beyond its credit in {@code outgoing}, which the data connection
 * sends as soon as the peer's credit covers them, without waking the writer first. A Java
 * reader that waits for bytes leaves its demand here, and the data connection hands the next
 * bytes to it directly and gives their credit back in the same step, without waiting for the
 * reader to wake.
 *
 * <p>Bounds: credit keeps {@code incoming} within the announced buffer (a peer that sends more
 * breaks the protocol, and its connection is failed); bytes handed to a waiting reader are at
 * most its demand (one {@code stream-chunk}), as the bytes a reader took always were. {@code
 * outgoing} holds at most the peer's buffer plus the write-ahead.
 */
final class ByteStreamPipe {

  /** A stream end as the Java API's reader and writer stages find it: its pipe and its endpoint. */
  static final class End {
    final ByteStreamPipe pipe;
    final akka.actor.typed.ActorRef<ByteStreamEndpoint.Command> endpoint;

    End(ByteStreamPipe pipe, akka.actor.typed.ActorRef<ByteStreamEndpoint.Command> endpoint) {
      this.pipe = pipe;
      this.endpoint = endpoint;
    }
  }

  final Incoming incoming = new Incoming();
  final Outgoing outgoing = new Outgoing();
  /** Bytes taken from {@code incoming} whose credit is not yet handed to the data connection. */
  private long unreturned;

  /**
   * Up to {@code max} unread bytes for a reader: first those handed to its demand (their credit
   * is given back already), else from the unread queue, whose credit is given back once at least
   * {@code batch} bytes are due (1: at once). When there are none and {@code onMore} is given, it
   * is left as a demand for up to {@code max} bytes: the data connection hands the next bytes to
   * it and runs it.
   */
  ByteString read(int max, long batch, Runnable onMore) {
    ByteString taken;
    boolean credited;
    synchronized (incoming) {
      taken = incoming.take(max, onMore, batch);
      credited = incoming.lastTakeWasHanded;
    }
    if (!credited) {
      returnCredit(taken.size(), batch, true);
    }
    return taken;
  }

  /**
   * Bytes that arrived from the peer (the data connection; kept even after this side closed, so
   * that those in flight stay readable). When a reader waits with a demand they go to it at
   * once, and their credit is given back without waking the data connection (the caller sends
   * it: {@link Outgoing#takeCreditDue}).
   */
  void arrived(ByteString bytes) {
    long handed = incoming.offer(bytes);
    if (handed > 0) {
      returnCredit(handed, incoming.handedBatch(), false);
    }
  }

  /**
   * Gives back credit for {@code n} bytes taken from {@code incoming}, once at least {@code
   * batch} bytes are due: the data connection sends it to the peer in-band, ahead of the next
   * bytes it sends. Safe because {@code batch} is at most the peer's view of this buffer: a
   * writer with no credit left means at least that much is due here.
   */
  private void returnCredit(long n, long batch, boolean wake) {
    long due;
    synchronized (this) {
      unreturned += n;
      if (unreturned < batch || unreturned == 0) {
        return;
      }
      due = unreturned;
      unreturned = 0;
    }
    outgoing.giveCredit(due, wake);
  }

  /**
   * The unread bytes: a queue of pieces with an end, one producer (the data connection) and one
   * reader at a time, and the bytes handed to a waiting reader's demand, which are the reader's
   * and no longer unread.
   */
  static final class Incoming {
    private final ArrayDeque<ByteString> pieces = new ArrayDeque<>();
    private long size;
    private boolean ended;
    private Runnable waiter;
    /** The waiting reader's demand: how much it takes at once (0: no demand) and its credit batch. */
    private int demand;
    private long demandBatch;
    /** Bytes handed to the demand and not yet taken by the reader. */
    private ByteString handed = ByteString.emptyByteString();
    private long handedBatch;
    /** Whether the last {@link #take} returned bytes handed to the demand (credited already). */
    private boolean lastTakeWasHanded;

    /**
     * Adds {@code bytes} (nothing when empty); when a reader's demand waits and nothing is
     * queued, up to the demand goes to it instead (the rest is queued) and it is woken. Returns
     * how many bytes were handed to the demand (their credit is due).
     */
    long offer(ByteString bytes) {
      Runnable wake;
      long toDemand = 0;
      synchronized (this) {
        if (bytes.isEmpty()) {
          return 0;
        }
        if (demand > 0 && pieces.isEmpty()) {
          ByteString h = bytes.size() <= demand ? bytes : bytes.take(demand);
          handed = h;
          handedBatch = demandBatch;
          toDemand = h.size();
          demand = 0;
          bytes = h.size() == bytes.size() ? ByteString.emptyByteString() : bytes.drop(h.size());
        }
        if (!bytes.isEmpty()) {
          pieces.addLast(bytes);
          size += bytes.size();
        }
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
      return toDemand;
    }

    /** The credit batch of the demand last handed bytes (for {@link ByteStreamPipe#arrived}). */
    synchronized long handedBatch() {
      return handedBatch;
    }

    /**
     * The bytes handed to the reader's demand if any, else up to {@code max} bytes from the
     * front (pieces joined, not copied), or empty when there are none; when empty and {@code
     * onMore} is given, it is left as a demand for up to {@code max} bytes (credit batch {@code
     * batch}), run once the next bytes or the end come (one waiter: a new one replaces the old).
     */
    synchronized ByteString take(int max, Runnable onMore, long batch) {
      if (!handed.isEmpty()) {
        ByteString h = handed;
        handed = ByteString.emptyByteString();
        lastTakeWasHanded = true;
        return h;
      }
      lastTakeWasHanded = false;
      if (pieces.isEmpty()) {
        if (onMore != null && !ended) {
          waiter = onMore;
          demand = max;
          demandBatch = batch;
        }
        return ByteString.emptyByteString();
      }
      demand = 0;
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

    /** The reader is gone: no demand is left (bytes handed to it and not taken are dropped, as those it took). */
    synchronized void cancelDemand() {
      demand = 0;
      waiter = null;
      handed = ByteString.emptyByteString();
    }

    /** No more bytes will come (those queued stay); wakes the waiter. */
    void end() {
      Runnable wake;
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        demand = 0;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wake.run();
      }
    }

    /** Unread bytes (not those handed to a reader). */
    synchronized long size() {
      return size;
    }

    /** Ended and nothing left, handed or queued. */
    synchronized boolean drained() {
      return ended && pieces.isEmpty() && handed.isEmpty();
    }
  }

  /**
   * The bytes accepted for the peer and not yet handed to the data connection, and the credit
   * for the peer's buffer. Bytes are covered by credit when accepted, except a Java writer's
   * write-ahead at the tail, which the peer's next credit covers first; the data connection
   * takes only covered bytes. Also holds the credit due to the peer, which the data connection
   * sends along with the bytes.
   */
  static final class Outgoing {
    private final ArrayDeque<ByteString> pieces = new ArrayDeque<>();
    /** Queued bytes, covered and ahead. */
    private long size;
    /** Of {@code size}, the tail not yet covered by credit (a Java writer's write-ahead). */
    private long ahead;
    /** Credit for the peer's buffer not yet spent. */
    private long credit;
    private boolean ended;
    /** The data connection, waiting for bytes, credit due or the end. */
    private Runnable sender;
    /** A writer waiting for room (credit or write-ahead) or for its write-ahead to be covered. */
    private Runnable writer;
    private long creditDue;

    /**
     * Accepts the front of {@code bytes} as far as credit allows, and then up to {@code
     * aheadLimit} bytes in all beyond the credit (0 for stream_write, whose count must be what
     * the peer will hold); returns how many, or -1 when the stream is closed. When it accepts
     * nothing and {@code onRoom} is given, it runs once there is room or the stream closes.
     */
    long write(ByteString bytes, long aheadLimit, Runnable onRoom) {
      Runnable wake;
      long n;
      synchronized (this) {
        if (ended) {
          return -1;
        }
        long covered = Math.min(bytes.size(), credit);
        long beyond = Math.min(bytes.size() - covered, Math.max(0, aheadLimit - ahead));
        n = covered + beyond;
        if (n == 0) {
          if (onRoom != null && bytes.size() > 0) {
            writer = onRoom;
          }
          return 0;
        }
        credit -= covered;
        ahead += beyond;
        pieces.addLast(n == bytes.size() ? bytes : bytes.take((int) n));
        size += n;
        // Only covered bytes can go out: bytes all ahead wait for credit, not for the sender.
        wake = covered > 0 ? sender : null;
        if (wake != null) {
          sender = null;
        }
      }
      if (wake != null) {
        wake.run();
      }
      return n;
    }

    /**
     * Adds {@code n} bytes of credit (the peer's buffer announced, or what the peer's user
     * read): it covers the write-ahead first. Wakes a waiting writer, not the data connection
     * (which calls this itself and sends what is covered next); true when bytes became covered.
     */
    boolean addCredit(long n) {
      Runnable wake;
      boolean covered;
      synchronized (this) {
        long c = Math.min(n, ahead);
        ahead -= c;
        credit += n - c;
        covered = c > 0;
        wake = writer;
        writer = null;
      }
      if (wake != null) {
        wake.run();
      }
      return covered;
    }

    /**
     * 1 when nothing accepted waits for credit any more, 0 when some does (then {@code onCovered}
     * runs once credit comes or the stream closes), -1 when the stream is closed.
     */
    synchronized int awaitCovered(Runnable onCovered) {
      if (ended) {
        return -1;
      }
      if (ahead == 0) {
        return 1;
      }
      writer = onCovered;
      return 0;
    }

    /**
     * Up to {@code max} covered bytes from the front (pieces joined, not copied), or empty when
     * there are none; when empty and {@code onMore} is given, it runs once covered bytes, credit
     * due or the end come (at most one waiter: a new one replaces the old). No waiter is kept
     * while credit is due: take it ({@link #takeCreditDue}) and poll again.
     */
    ByteString poll(int max, Runnable onMore) {
      java.util.ArrayList<ByteString> taken = new java.util.ArrayList<>(4);
      poll(max, onMore, taken);
      ByteString out = ByteString.emptyByteString();
      for (ByteString b : taken) {
        out = out.isEmpty() ? b : out.concat(b);
      }
      return out;
    }

    /**
     * As {@link #poll(int, Runnable)}, but the pieces (at most {@code max} bytes in all) are
     * added to {@code into} as they are, not joined (a writer that copies them into its buffer
     * one by one needs no joined ByteString); returns how many bytes.
     */
    int poll(int max, Runnable onMore, java.util.List<ByteString> into) {
      synchronized (this) {
        long sendable = size - ahead;
        if (sendable == 0) {
          if (onMore != null && !ended && creditDue == 0) {
            sender = onMore;
          }
          return 0;
        }
        int limit = (int) Math.min(max, sendable);
        int n = 0;
        while (n < limit) {
          ByteString first = pieces.pollFirst();
          if (first.size() > limit - n) {
            into.add(first.take(limit - n));
            pieces.addFirst(first.drop(limit - n));
            n = limit;
          } else {
            into.add(first);
            n += first.size();
          }
        }
        size -= n;
        return n;
      }
    }

    /**
     * Adds {@code n} bytes of credit due to the peer (nothing once ended); wakes the data
     * connection when {@code wake} (false: the data connection is the caller and sends it next).
     */
    void giveCredit(long n, boolean wake) {
      Runnable w = null;
      synchronized (this) {
        if (ended) {
          return; // the stream is closed: the peer writes no more
        }
        creditDue += n;
        if (wake) {
          w = sender;
          sender = null;
        }
      }
      if (w != null) {
        w.run();
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

    /**
     * The stream is closed: no more bytes are accepted; those covered by credit still go out,
     * a write-ahead that credit did not cover is dropped (the peer never had room for it). Wakes
     * the data connection and a waiting writer.
     */
    void end() {
      Runnable s;
      Runnable w;
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        while (ahead > 0) {
          ByteString last = pieces.pollLast();
          if (last.size() > ahead) {
            pieces.addLast(last.take((int) (last.size() - ahead)));
            size -= ahead;
            ahead = 0;
          } else {
            size -= last.size();
            ahead -= last.size();
          }
        }
        s = sender;
        w = writer;
        sender = null;
        writer = null;
      }
      if (s != null) {
        s.run();
      }
      if (w != null) {
        w.run();
      }
    }

    /** Queued bytes, covered or not. */
    synchronized long size() {
      return size;
    }

    /** Ended and nothing left to send. */
    synchronized boolean drained() {
      return ended && pieces.isEmpty();
    }
  }
}
