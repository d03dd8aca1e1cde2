package io.peernode.actors.sync;

import akka.NotUsed;
import akka.stream.ActorAttributes;
import akka.stream.Attributes;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One client connection over a blocking {@link SocketChannel}, as the same kind of
 * {@code Flow<ByteString, ByteString>} as Akka's {@code Tcp.outgoingConnection}
 * ({@code client.transport = blocking}).
 *
 * <p>Why: a pull's bytes through Akka IO cost, per read of at most
 * {@code akka.io.tcp.direct-buffer-size}, a round of messages between the stream stage, the
 * connection actor and the selector (resume reading, readable, received) and an epoll update;
 * for a single connection in a fresh JVM (the CLI) that machinery, and the compilation of it, is a
 * large part of the client's CPU. Here one thread of Akka's blocking-I/O dispatcher reads the
 * socket in {@code readBytes} pieces and pushes each into the stream, and one writes what the
 * session sends; a thread pair per connection, so it is for clients with few connections.
 *
 * <p>Bounds: each read is at most {@code readBytes}; at most {@code readAhead} reads wait for the
 * decoder (the async boundary's buffer), then the reader waits for demand (back-pressure reaches
 * the socket, as with Akka IO). The connection is closed by {@link #close} (the session's stop,
 * which also unblocks a read in progress), and its sending side is shut down (half-close) once
 * the session's outbound stream completes.
 */
final class BlockingConnection {

  /** Akka's dispatcher for blocking I/O in streams ({@code akka.stream.materializer.blocking-io-dispatcher}). */
  private static final Attributes IO_DISPATCHER = Attributes.none().and(ActorAttributes.IODispatcher());

  private final CompletableFuture<SocketChannel> channel;

  private BlockingConnection(CompletableFuture<SocketChannel> channel) {
    this.channel = channel;
  }

  /** Starts connecting on {@code connector} (a blocking executor); {@link #connected} says how it went. */
  static BlockingConnection open(String host, int port, Duration connectTimeout, Executor connector) {
    return open(host, port, connectTimeout, connector, new byte[0]);
  }

  /**
   * As {@link #open(String, int, Duration, Executor)}, and writes {@code first} as soon as it is
   * connected (a {@link PullHeadStart}'s {@code init}), before anything the flow is given.
   */
  static BlockingConnection open(String host, int port, Duration connectTimeout, Executor connector,
      byte[] first) {
    CompletableFuture<SocketChannel> f = CompletableFuture.supplyAsync(() -> {
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.socket().connect(new InetSocketAddress(host, port),
            (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis())));
        ByteBuffer b = ByteBuffer.wrap(first);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        return ch;
      } catch (IOException | RuntimeException e) {
        closeQuietly(ch);
        throw new CompletionException(e);
      }
    }, connector);
    return new BlockingConnection(f);
  }

  /** Completes when connected, exceptionally when the connect failed or timed out. */
  CompletionStage<Void> connected() {
    return channel.thenApply(ch -> null);
  }

  /**
   * The connection as a flow: bytes in are written to the socket, bytes read come out. Use it
   * once. {@code readBytes}: the largest read; {@code readAhead}: reads buffered ahead of the
   * consumer.
   */
  Flow<ByteString, ByteString, NotUsed> flow(int readBytes, int readAhead) {
    Sink<ByteString, NotUsed> writes = Sink.<ByteString>foreach(this::write)
        .mapMaterializedValue(done -> {
          // Everything the session sent is written: half-close, as Akka IO does with halfClose.
          done.whenComplete((d, t) -> {
            if (t == null) {
              shutdownOutput();
            }
          });
          return NotUsed.getInstance();
        })
        .withAttributes(IO_DISPATCHER)
        .async();
    Source<ByteString, NotUsed> reads = Source.<ByteString, Reader>unfoldResource(
            // Connected at the first read, not here: a failure there fails the stream quietly
            // (the session reports it), one in the resource's creation would be logged as an error.
            () -> new Reader(this, readBytes),
            Reader::read,
            r -> { }) // the socket is closed by close(), also when it ends well
        .withAttributes(IO_DISPATCHER)
        .async()
        // The first stage after the boundary sets its buffer: at most readAhead reads wait there.
        .via(Flow.<ByteString>create().map(b -> b)
            .withAttributes(Attributes.inputBuffer(1, Math.max(1, Integer.highestOneBit(readAhead)))));
    return Flow.fromSinkAndSource(writes, reads);
  }

  /** Closes the socket (an idempotent no-op before it is connected: then it is closed on arrival). */
  void close() {
    channel.whenComplete((ch, t) -> closeQuietly(ch));
  }

  private SocketChannel awaitChannel() {
    try {
      // Connected before anything is read or written; the connect has its own timeout.
      return channel.get(1, TimeUnit.DAYS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new CompletionException(e.getCause());
    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
      throw new CompletionException(e);
    }
  }

  private void write(ByteString bytes) throws IOException {
    SocketChannel ch = awaitChannel();
    for (ByteBuffer b : bytes.getByteBuffers()) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
  }

  private void shutdownOutput() {
    channel.thenAccept(ch -> {
      try {
        ch.shutdownOutput();
      } catch (IOException e) {
        // closed meanwhile: nothing left to half-close
      }
    });
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /** The reading side: one direct buffer per connection, a fresh ByteString per read. */
  private static final class Reader {
    private final BlockingConnection connection;
    private final ByteBuffer buffer;
    private SocketChannel channel;

    Reader(BlockingConnection connection, int readBytes) {
      this.connection = connection;
      this.buffer = ByteBuffer.allocateDirect(readBytes);
    }

    Optional<ByteString> read() throws IOException {
      if (channel == null) {
        channel = connection.awaitChannel();
      }
      buffer.clear();
      int n = channel.read(buffer);
      if (n < 0) {
        return Optional.empty();
      }
      buffer.flip();
      return Optional.of(ByteString.fromByteBuffer(buffer));
    }
  }
}
