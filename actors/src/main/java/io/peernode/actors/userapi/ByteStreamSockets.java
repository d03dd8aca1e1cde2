package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import akka.util.ByteString;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's blocking transport for byte stream data connections ({@code stream-data-transport
 * = blocking}, the default): a pool of at most {@code stream-data-threads} threads of its own
 * (never the default dispatcher: every thread here blocks in socket I/O), the listener for
 * incoming data connections, and the connections open, which it closes when the actor system
 * terminates.
 *
 * <p>Each attached connection ({@link ByteStreamSocket}) holds two threads (its reader and its
 * writer) for as long as it is open; the listener holds one, and a connection reading its
 * handshake one (at most {@code stream-data-max-handshakes} at once: the listener closes one
 * beyond that at once, so silent connections cannot take the threads that streams need). The pool has no queue: a connection that finds no thread free is closed with a
 * logged reason (an opening node's {@code stream_open} then gives null), so a task never waits
 * without bound. With the defaults ({@code max-open-streams} 512: a node holds at most 512
 * attached connections) 2 × 512 plus a few for the listener and handshakes suffice; threads
 * are started as needed and end after a minute idle.
 */
final class ByteStreamSockets implements Extension {

  private static final Logger log = LoggerFactory.getLogger(ByteStreamSockets.class);

  static final ExtensionId<ByteStreamSockets> ID = new ExtensionId<>() {
    @Override
    public ByteStreamSockets createExtension(ActorSystem<?> system) {
      return new ByteStreamSockets(system);
    }
  };

  /** The pool's threads are {@code <system>-sdata-N} (renamed while they read or write a connection). */
  static final String THREAD_JOB = "-sdata-";

  static ByteStreamSockets get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final ActorSystem<?> system;
  private final ThreadPoolExecutor pool;
  private final Buffers buffers;
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  /** Accepted connections reading their handshake (at most stream-data-max-handshakes). */
  private final AtomicInteger handshaking = new AtomicInteger();
  private volatile boolean terminated;

  private ByteStreamSockets(ActorSystem<?> system) {
    this.system = system;
    UserApiSettings settings = UserApiSettings.from(system.settings().config().getConfig("peer.userapi"));
    int threads = settings.streamDataThreads;
    buffers = new Buffers(settings.streamDataDirectBuffers,
        Math.max(settings.streamDataReadSize, settings.streamChunk + 2 * io.peernode.protocol.userapi.StreamDataFrames.HEADER_BYTES),
        settings.streamDataIdleBuffer);
    AtomicInteger n = new AtomicInteger();
    String prefix = system.name() + THREAD_JOB;
    pool = new ThreadPoolExecutor(0, threads, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    system.getWhenTerminated().thenRun(this::terminate);
  }

  /**
   * Connects to {@code address} within {@code timeout}, sends {@code handshake} and carries the
   * stream's bytes from then on; completes once the handshake is written (exceptionally when the
   * connect fails, times out or no thread is free).
   */
  CompletionStage<Done> connect(InetSocketAddress address, ByteString handshake, ByteStreamPipe pipe,
      ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings, Duration timeout) {
    CompletableFuture<Done> connected = new CompletableFuture<>();
    Runnable task = () -> {
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open();
        track(ch);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.socket().connect(address, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())));
        ByteBuffer b = handshake.asByteBuffer();
        while (b.hasRemaining()) {
          ch.write(b);
        }
      } catch (IOException | RuntimeException e) {
        drop(ch);
        connected.completeExceptionally(e);
        return;
      }
      ByteStreamSocket socket = attached(ch, "to " + address, pipe, endpoint, settings);
      if (socket != null) {
        connected.complete(Done.getInstance());
        socket.readLoop();
      } else {
        connected.completeExceptionally(new IllegalStateException(
            "no thread free for the stream's data connection (peer.userapi.stream-data-threads)"));
      }
    };
    if (!run(task)) {
      connected.completeExceptionally(new IllegalStateException(
          "no thread free for the stream's data connection (peer.userapi.stream-data-threads)"));
    }
    return connected;
  }

  /**
   * Listens on {@code host:port} (0: any free port); each connection's handshake (within {@code
   * stream-data-handshake-timeout}) goes to {@code attach}, which answers the stream end it
   * carries or fails with the reason to refuse it (the connection is then closed, with the
   * reason logged).
   */
  ByteStreamDataServer.Binding bind(String host, int port, Function<StreamDataHandshake, CompletionStage<ByteStreamConnection.Attached>> attach,
      UserApiSettings settings) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    try {
      server.bind(new InetSocketAddress(host, port), settings.streamDataBacklog);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    track(server);
    InetSocketAddress local = (InetSocketAddress) server.getLocalAddress();
    CompletableFuture<Done> unbound = new CompletableFuture<>();
    if (!run(() -> accept(server, attach, settings, unbound))) {
      drop(server);
      throw new IOException("no thread free for the stream data listener (peer.userapi.stream-data-threads)");
    }
    return new ByteStreamDataServer.Binding() {
      @Override
      public InetSocketAddress localAddress() {
        return local;
      }

      @Override
      public CompletionStage<Done> unbind() {
        closeQuietly(server);
        return unbound;
      }
    };
  }

  private void accept(ServerSocketChannel server,
      Function<StreamDataHandshake, CompletionStage<ByteStreamConnection.Attached>> attach,
      UserApiSettings settings, CompletableFuture<Done> unbound) {
    try {
      while (server.isOpen()) {
        SocketChannel ch;
        try {
          ch = server.accept();
        } catch (IOException e) {
          if (server.isOpen()) {
            log.warn("stream data listener: accept failed: {}", e.getMessage());
            continue;
          }
          break;
        }
        track(ch);
        InetSocketAddress remote = remoteOf(ch);
        if (handshaking.incrementAndGet() > settings.streamDataMaxHandshakes) {
          handshaking.decrementAndGet();
          log.warn("stream data connection from {} refused: {} connections are reading their handshake already"
              + " (peer.userapi.stream-data-max-handshakes)", remote, settings.streamDataMaxHandshakes);
          drop(ch);
          continue;
        }
        if (!run(() -> accepted(ch, remote, attach, settings))) {
          handshaking.decrementAndGet();
          log.warn("stream data connection from {} refused: no thread free (peer.userapi.stream-data-threads = {})",
              remote, pool.getMaximumPoolSize());
          drop(ch);
        }
      }
    } finally {
      forget(server);
      unbound.complete(Done.getInstance());
    }
  }

  /** An accepted connection: its handshake, the attach, then the stream's bytes (reader on this thread). */
  private void accepted(SocketChannel ch, InetSocketAddress remote,
      Function<StreamDataHandshake, CompletionStage<ByteStreamConnection.Attached>> attach, UserApiSettings settings) {
    ByteBuffer head;
    try {
      head = handshake(ch, remote, settings);
    } finally {
      handshaking.decrementAndGet();
    }
    if (head == null) {
      return;
    }
    ByteStreamConnection.Attached a;
    try {
      StreamDataHandshake hs = StreamDataHandshake.decode(head.array());
      a = attach.apply(hs).toCompletableFuture().get(settings.askTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (IllegalArgumentException e) {
      refuse(ch, remote, e.getMessage());
      return;
    } catch (ExecutionException e) {
      refuse(ch, remote, e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
      return;
    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
      refuse(ch, remote, "no answer from the stream's endpoint");
      return;
    }
    ByteStreamSocket socket = attached(ch, "from " + remote, a.pipe, a.endpoint, settings);
    if (socket != null) {
      socket.readLoop();
    }
  }

  /**
   * Reads exactly the handshake of an accepted connection (within {@code
   * stream-data-handshake-timeout}); null (the connection closed, the reason logged) when it
   * ends, fails or times out first.
   */
  private ByteBuffer handshake(SocketChannel ch, InetSocketAddress remote, UserApiSettings settings) {
    Duration timeout = settings.streamDataHandshakeTimeout;
    // Closing the socket ends a read of the handshake that takes too long.
    akka.actor.Cancellable timer = system.scheduler().scheduleOnce(timeout, () -> {
      if (ch.isOpen()) {
        log.info("stream data connection from {} closed: no handshake within {}", remote, timeout);
        drop(ch);
      }
    }, system.executionContext());
    // Exactly the handshake: what follows is the stream's, read by the reader loop (and a heap
    // buffer this small leaves only a small temporary direct buffer with the thread).
    ByteBuffer head = ByteBuffer.allocate(StreamDataHandshake.SIZE);
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      while (head.hasRemaining()) {
        if (ch.read(head) < 0) {
          log.info("stream data connection from {} closed before its handshake", remote);
          drop(ch);
          return null;
        }
      }
    } catch (IOException e) {
      if (ch.isOpen()) {
        log.info("stream data connection from {} failed before its handshake: {}", remote, e.getMessage());
      }
      drop(ch);
      return null;
    } finally {
      timer.cancel();
    }
    return head;
  }

  private void refuse(SocketChannel ch, InetSocketAddress remote, String why) {
    log.warn("stream data connection from {} refused: {}", remote, why);
    drop(ch);
  }

  /**
   * The connection carries the stream from now on: its writer on a thread of its own; null
   * (the connection closed and the endpoint told) when no thread is free.
   */
  private ByteStreamSocket attached(SocketChannel ch, String name, ByteStreamPipe pipe,
      ActorRef<ByteStreamEndpoint.Command> endpoint, UserApiSettings settings) {
    ByteStreamSocket socket = new ByteStreamSocket(ch, name, pipe, endpoint, settings, buffers, () -> forget(ch));
    if (!run(socket::writeLoop)) {
      log.warn("stream data connection {} closed: no thread free for its writer (peer.userapi.stream-data-threads = {})",
          name, pool.getMaximumPoolSize());
      socket.tell(new IllegalStateException("no thread free for the data connection"));
      socket.close();
      return null;
    }
    if (terminated) {
      socket.close();
    }
    return socket;
  }

  private boolean run(Runnable task) {
    if (terminated) {
      return false;
    }
    try {
      pool.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private void track(AutoCloseable c) {
    open.add(c);
    if (terminated) {
      closeQuietly(c);
    }
  }

  private void forget(AutoCloseable c) {
    open.remove(c);
  }

  private void drop(AutoCloseable c) {
    closeQuietly(c);
    forget(c);
  }

  /**
   * The node's large direct buffers for the data connections' reads and writes: at most {@code
   * stream-data-direct-buffers} of {@code max(stream-data-read-size, stream-chunk + 10)} bytes,
   * made as needed, each lent for one read or write and given back. None free: the caller uses
   * its connection's small buffer ({@code stream-data-idle-buffer}) instead, so nothing waits.
   */
  static final class Buffers {
    final int size;
    final int idleSize;
    private final java.util.concurrent.ArrayBlockingQueue<ByteBuffer> free;
    private final AtomicInteger made = new AtomicInteger();
    private final int max;

    Buffers(int max, int size, int idleSize) {
      this.max = max;
      this.size = size;
      this.idleSize = idleSize;
      this.free = new java.util.concurrent.ArrayBlockingQueue<>(max);
    }

    /** A large buffer, or null when all are lent. */
    ByteBuffer take() {
      ByteBuffer b = free.poll();
      if (b != null) {
        return b;
      }
      if (made.incrementAndGet() <= max) {
        return ByteBuffer.allocateDirect(size);
      }
      made.decrementAndGet();
      return null;
    }

    /** Gives back a buffer from {@link #take} (null: nothing). */
    void give(ByteBuffer b) {
      if (b != null) {
        free.offer(b);
      }
    }

    /** Large buffers made so far, for tests. */
    int made() {
      return made.get();
    }
  }

  /** The node's large direct buffers, for tests. */
  Buffers buffers() {
    return buffers;
  }

  /** Accepted connections reading their handshake now, for tests. */
  int handshakesInProgress() {
    return handshaking.get();
  }

  /** Sockets open (listeners and connections), for tests. */
  int openSockets() {
    return open.size();
  }

  /** The actor system is gone: close every socket (which ends their threads) and the pool. */
  private void terminate() {
    terminated = true;
    for (AutoCloseable c : open) {
      closeQuietly(c);
    }
    open.clear();
    pool.shutdown();
  }

  private static InetSocketAddress remoteOf(SocketChannel ch) {
    try {
      return (InetSocketAddress) ch.getRemoteAddress();
    } catch (IOException e) {
      return null;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // closing anyway
      }
    }
  }
}
