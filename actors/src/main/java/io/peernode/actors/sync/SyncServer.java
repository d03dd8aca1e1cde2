package io.peernode.actors.sync;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.SyncMessage;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The block sync server of one node: listens on {@code peer.sync.port} and serves the sync root.
 *
 * <p>Owns: the session actors (one child per accepted connection) and the count of open ones.
 * Receives: accepted TCP connections from the listening stream, and the end of each session.
 * Guarantees: at most {@code max-sessions} sessions at once; the next connection gets
 * {@code deny 503} with {@code retry} and is closed without a session. Stale staging copies are
 * removed before the port is bound.
 *
 * <p>The node calls {@link #bind} once at start and {@link Binding#unbind()} at shutdown.
 */
public final class SyncServer extends AbstractBehavior<SyncServer.Command> {

  public interface Command {}

  private record Accept(Tcp.IncomingConnection connection) implements Command {}

  private record SessionEnded() implements Command {}

  private enum Stop implements Command { INSTANCE }

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  /** A bound server: its port (useful with port 0) and how to stop it. */
  public static final class Binding {
    private final Tcp.ServerBinding binding;
    private final ActorRef<Command> server;
    private final java.nio.file.Path root;

    private Binding(Tcp.ServerBinding binding, ActorRef<Command> server, java.nio.file.Path root) {
      this.binding = binding;
      this.server = server;
      this.root = root;
    }

    public int port() {
      return binding.localAddress().getPort();
    }

    public InetSocketAddress localAddress() {
      return binding.localAddress();
    }

    /** The real path of the served root. */
    public java.nio.file.Path root() {
      return root;
    }

    /** Stops accepting, then stops every session (pushes in progress are dropped, not committed). */
    public CompletionStage<Done> unbind() {
      return binding.unbind().handle((d, t) -> {
        server.tell(Stop.INSTANCE);
        return Done.getInstance();
      });
    }
  }

  /**
   * Binds the sync server.
   *
   * @param registry where the {@code peer_sync_*} metrics go (one binding per registry)
   */
  public static CompletionStage<Binding> bind(
      ActorSystem<?> system, SyncSettings settings, CollectorRegistry registry) {
    if (settings.root == null) {
      throw new IllegalArgumentException("a sync server needs a sync root");
    }
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("peer.blocking-dispatcher"));
    SyncMetrics metrics = new SyncMetrics(registry);
    Materializer mat = Materializer.matFromSystem(system);
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new SyncStore(settings, blocking, metrics);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot prepare the sync root " + settings.root, e);
      }
    }, blocking).thenCompose(store -> {
      ActorRef<Command> server = system.systemActorOf(
          create(store, settings, metrics, blocking),
          "sync-server-" + INSTANCES.incrementAndGet(), Props.empty());
      // halfClose: a client may send its last command and shut its side; we still answer.
      return Tcp.get(system)
          .bind(settings.host, settings.port, 128, List.of(), true, Optional.empty())
          .to(Sink.foreach(c -> server.tell(new Accept(c))))
          .run(mat)
          .thenApply(b -> new Binding(b, server, store.root()))
          .whenComplete((b, t) -> {
            if (t != null) {
              server.tell(Stop.INSTANCE);
            }
          });
    });
  }

  static Behavior<Command> create(SyncStore store, SyncSettings settings, SyncMetrics metrics,
      Executor blocking) {
    return Behaviors.setup(ctx -> new SyncServer(ctx, store, settings, metrics, blocking));
  }

  private final SyncStore store;
  private final SyncSettings settings;
  private final SyncMetrics metrics;
  private final Executor blocking;
  private final Materializer mat;
  private final ByteString busyDeny;
  private int open;
  private long sessionCounter;

  private SyncServer(ActorContext<Command> ctx, SyncStore store, SyncSettings settings,
      SyncMetrics metrics, Executor blocking) {
    super(ctx);
    this.store = store;
    this.settings = settings;
    this.metrics = metrics;
    this.blocking = blocking;
    this.mat = Materializer.matFromSystem(ctx.getSystem());
    int retry = (int) Math.max(1, (settings.busyRetry.toMillis() + 999) / 1000);
    this.busyDeny = ByteString.fromArrayUnsafe(FrameEncoder.encode(new SyncMessage.Deny(retry, 503,
        "busy: " + settings.maxSessions + " sync sessions are open; retry in " + retry + "s")));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Accept.class, this::onAccept)
        .onMessage(SessionEnded.class, m -> {
          open--;
          return this;
        })
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onAccept(Accept a) {
    if (open >= settings.maxSessions) {
      metrics.denials.labels("503").inc();
      metrics.bytesOut.inc(busyDeny.size());
      a.connection().handleWith(
          Flow.fromSinkAndSourceCoupled(Sink.ignore(), Source.single(busyDeny)), mat);
      return this;
    }
    open++;
    ActorRef<SyncSession.Command> session = getContext().spawn(
        SyncSession.create(a.connection(), store, settings, metrics, blocking),
        "session-" + (++sessionCounter));
    getContext().watchWith(session, new SessionEnded());
    return this;
  }
}
