package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.util.ByteString;
import io.peernode.protocol.userapi.StreamDataFrames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A byte stream's data connection over a blocking {@link SocketChannel} ({@code
 * stream-data-transport = blocking}): after the handshake, a reader thread and a writer thread
 * of {@link ByteStreamSockets}' pool move the stream's {@link StreamDataFrames} between the
 * socket and the stream end's {@link ByteStreamPipe}, with no actor or stream stage between.
 *
 * <p>The reader reads up to {@code stream-data-read-size} at a time (one copy out of a direct
 * buffer into an array of what was read, which the pipe holds as slices), puts data into the
 * pipe's {@code incoming} (straight to a waiting Java reader's demand, whose credit then falls
 * due at once) and credit into its {@code outgoing}, which covers a Java writer's write-ahead and
 * wakes a waiting writer. When that made credit due or bytes sendable it unparks the writer,
 * which sends the credit (one frame, first) and up to {@code stream-chunk} of covered bytes per
 * data frame (one copy into a direct buffer), and parks when there is nothing to send (the
 * pipe unparks it when bytes, credit due or the end come). Only the writer writes to the socket,
 * so the reader never waits on a full socket and always reads: with both directions in use,
 * neither side can stop the other's reader (which a reader that also wrote could, once both
 * sockets' buffers are full).
 *
 * <p>Off-heap memory: each direction has a small direct buffer of its own ({@code
 * stream-data-idle-buffer}), which a read waiting for bytes uses; a read of bytes that are there
 * and a write take a large one from the node's pool ({@link ByteStreamSockets.Buffers}) for the
 * length of that call, so idle connections hold no large buffer, and when the pool has none
 * free the small one serves (in more calls) rather than anything waiting for one.
 *
 * <p>Credit keeps what the peer may send within this end's buffer: a peer that sends more, or a
 * frame of an unknown type, of 0 bytes or over the buffer, breaks the protocol: the connection
 * is closed with a logged reason and the endpoint told (only this stream closes). The end of the
 * peer's bytes (TCP half-close) or a failure is told to the endpoint once ({@link
 * ByteStreamEndpoint.ConnectionEnded}), which closes the stream; once the pipe's outgoing bytes
 * are ended and sent, the writer half-closes, and the socket is closed when both directions are
 * done (or at once on a failure).
 */
final class ByteStreamSocket {

  private static final Logger log = LoggerFactory.getLogger(ByteStreamSocket.class);

  private final SocketChannel channel;
  private final String name;
  private final ByteStreamPipe pipe;
  private final ActorRef<ByteStreamEndpoint.Command> endpoint;
  private final int chunk;
  private final long limit;
  private final int readSize;
  private final Runnable onClosed;
  private final ByteStreamSockets.Buffers buffers;
  private final StreamDataFrames.Decoder decoder;
  private final AtomicBoolean told = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The two directions still running; the socket closes when both are done. */
  private final AtomicInteger running = new AtomicInteger(2);
  private volatile Thread writer;
  private final Runnable wakeWriter = () -> {
    Thread w = writer;
    if (w != null) {
      LockSupport.unpark(w);
    }
  };

  /** The writer's pieces of the data frame it sends (reused: only the writer thread uses it). */
  private final java.util.ArrayList<ByteString> pieces = new java.util.ArrayList<>();
  /** The piece being decoded, for the decoder's positions. */
  private ByteString received;
  /** Whether the piece being decoded made bytes sendable (credit covering a write-ahead). */
  private boolean covered;
  private final StreamDataFrames.Frames frames = new StreamDataFrames.Frames() {
    @Override
    public void data(int from, int to) {
      pipe.arrived(from == 0 && to == received.size() ? received : received.slice(from, to));
    }

    @Override
    public void credit(int bytes) {
      covered |= pipe.outgoing.addCredit(bytes);
    }
  };

  /**
   * {@code name}: for the log ("to host:port", "from host:port"); {@code onClosed} runs once the
   * socket is closed.
   */
  ByteStreamSocket(SocketChannel channel, String name, ByteStreamPipe pipe,
      ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings, ByteStreamSockets.Buffers buffers,
      Runnable onClosed) {
    this.channel = channel;
    this.name = name;
    this.pipe = pipe;
    this.endpoint = endpoint;
    this.chunk = settings.streamChunk;
    this.limit = settings.streamBuffer;
    this.readSize = settings.streamDataReadSize;
    this.onClosed = onClosed;
    this.buffers = buffers;
    this.decoder = new StreamDataFrames.Decoder(settings.streamBuffer);
  }

  /**
   * The reading direction, on the calling thread (one of the pool's) until the peer ends its
   * bytes or the connection fails.
   */
  void readLoop() {
    String threadName = rename("-sread-");
    try {
      java.io.InputStream unread = channel.socket().getInputStream(); // for available(): FIONREAD
      ByteBuffer idle = ByteBuffer.allocateDirect(buffers.idleSize);
      for (;;) {
        // Waiting for bytes, a read holds only this connection's small buffer; a large one of
        // the node's pool only when bytes are there (the read returns at once), and then
        // every byte read is copied out into one array before the buffer goes back.
        ByteBuffer buffer = unread.available() > idle.capacity() ? buffers.take() : null;
        ByteBuffer into = buffer != null ? buffer : idle;
        byte[] bytes;
        try {
          into.clear();
          if (into.capacity() > readSize) {
            into.limit(readSize);
          }
          int n = channel.read(into);
          if (n < 0) {
            tell(null); // the peer ended its bytes; ours may still be on their way
            break;
          }
          if (n == 0) {
            continue;
          }
          into.flip();
          bytes = new byte[n];
          into.get(bytes);
        } finally {
          buffers.give(buffer);
        }
        if (!take(ByteString.fromArrayUnsafe(bytes))) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      failed(e);
      return;
    } finally {
      Thread.currentThread().setName(threadName);
    }
    done();
  }

  /**
   * Names the pool thread after its job while it has it ({@code <system>-sread-N}, {@code
   * -swrite-N}: short enough for the 15 characters of /proc's thread names); returns the old name.
   */
  private static String rename(String job) {
    Thread t = Thread.currentThread();
    String old = t.getName();
    t.setName(old.replace(ByteStreamSockets.THREAD_JOB, job));
    return old;
  }

  /** Decodes {@code bytes} into the pipe; false (and the connection closed) when they break the protocol. */
  private boolean take(ByteString bytes) {
    received = bytes;
    covered = false;
    try {
      decoder.feed(bytes.asByteBuffer(), frames);
    } catch (IllegalArgumentException e) {
      broken("bad frame from the peer: " + e.getMessage());
      return false;
    } finally {
      received = null;
    }
    if (pipe.incoming.size() > limit) {
      broken("the peer sent more than this end's buffer of " + limit + " bytes (more than its credit)");
      return false;
    }
    // Credit that came may have covered bytes waiting to go out, and bytes handed to a waiting
    // reader made credit due: the writer sends both now.
    if (covered || pipe.outgoing.creditDue()) {
      wakeWriter.run();
    }
    return true;
  }

  /** The writing direction, on the calling thread (one of the pool's) until the pipe's outgoing bytes end. */
  void writeLoop() {
    writer = Thread.currentThread();
    String threadName = rename("-swrite-");
    try {
      ByteBuffer idle = ByteBuffer.allocateDirect(buffers.idleSize);
      while (!closed.get()) {
        long due = pipe.outgoing.takeCreditDue();
        int bytes = pipe.outgoing.poll(chunk, wakeWriter, pieces);
        if (due > 0 || bytes > 0) {
          // A large buffer of the node's pool while writing (none free: this connection's small
          // one, in pieces), given back before the writer waits for more.
          ByteBuffer buffer = buffers.take();
          try {
            send(due, bytes, buffer != null ? buffer : idle);
          } finally {
            buffers.give(buffer);
            pieces.clear();
          }
          continue;
        }
        if (pipe.outgoing.drained()) {
          channel.shutdownOutput(); // the close reaches the peer after every byte before it
          break;
        }
        if (!pipe.outgoing.creditDue()) {
          LockSupport.park(this); // unparked when there are bytes, credit or the end
        }
      }
    } catch (IOException | RuntimeException e) {
      failed(e);
      return;
    } finally {
      writer = null;
      Thread.currentThread().setName(threadName);
    }
    done();
  }

  /**
   * Writes a credit frame of {@code due} (if any) and a data frame of the {@code bytes} bytes in
   * {@link #pieces} (if any) through {@code buffer}: each piece is copied into it as it is (no
   * joined ByteString), the buffer written whenever it is full.
   */
  private void send(long due, int bytes, ByteBuffer buffer) throws IOException {
    buffer.clear();
    // Credit first: the peer's writer waits for it, the bytes behind it do not need it.
    if (due > 0) {
      buffer.put(StreamDataFrames.credit(Math.toIntExact(due)));
    }
    if (bytes > 0) {
      buffer.put(StreamDataFrames.dataHeader(bytes));
    }
    for (int i = 0; i < pieces.size(); i++) {
      ByteString piece = pieces.get(i);
      for (;;) {
        int copied = piece.copyToBuffer(buffer);
        if (copied == piece.size()) {
          break;
        }
        piece = piece.drop(copied); // the buffer is full (the small one): write it, go on
        flush(buffer);
      }
    }
    flush(buffer);
  }

  private void flush(ByteBuffer buffer) throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    buffer.clear();
  }

  private void broken(String why) {
    log.warn("stream data connection {} failed: {}", name, why);
    IllegalStateException e = new IllegalStateException(why);
    tell(e);
    close();
  }

  private void failed(Throwable e) {
    if (!closed.get()) {
      log.debug("stream data connection {} failed", name, e);
    }
    tell(e instanceof ClosedChannelException ? new IllegalStateException("the data connection was closed") : e);
    close();
  }

  /** One direction is done; the second one closes the socket. */
  private void done() {
    if (running.decrementAndGet() == 0) {
      close();
    }
  }

  /** Closes the socket (unblocking a read or write in progress) and stops the writer. */
  void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing anyway
      }
      wakeWriter.run();
      onClosed.run();
    }
  }

  /** Tells the endpoint once that the connection ended ({@code cause} null) or failed. */
  void tell(Throwable cause) {
    if (told.compareAndSet(false, true)) {
      endpoint.tell(new ByteStreamEndpoint.ConnectionEnded(cause));
    }
  }
}
