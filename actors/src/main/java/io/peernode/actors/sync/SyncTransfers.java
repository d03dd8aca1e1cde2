package io.peernode.actors.sync;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's client-side transfers (what {@code sync_pull}, {@code sync_push} and
 * {@code sync_status} talk to).
 *
 * <p>Owns: the table of running transfers and the last {@code recent} finished ones, with their
 * progress. Receives: {@link Start} (runs one {@link SyncClient} transfer and answers
 * {@link Finished} when it ends), {@link GetStatus}, and progress/completion reports of its own
 * transfers. Guarantees: every {@link Start} gets exactly one {@link Finished}; the table is bounded:
 * at most {@code client.max-running-transfers} run at once (one more is answered at once with
 * status 503) and {@code recent} finished ones are kept.
 * Messages are local only (the node resolves the peer's host and sync port before it asks).
 */
public final class SyncTransfers extends AbstractBehavior<SyncTransfers.Command> {

  public interface Command {}

  /** Runs a transfer; {@code replyTo} gets {@link Finished} when it ends. */
  public record Start(Action action, String host, int port, String remotePath, Path localPath,
      int blockSize, String peer, ActorRef<Finished> replyTo) implements Command {}

  /** The end of a transfer: {@code result} when it worked, else {@code error} (and a deny status). */
  public record Finished(long id, SyncResult result, String error, int status) {
    public boolean ok() {
      return result != null;
    }
  }

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** Running transfers first, then the recent finished ones, newest first. */
  public record Status(List<Transfer> transfers) {}

  /** One row of {@link Status}. {@code state}: running, done or failed. */
  public record Transfer(long id, String action, String peer, String remotePath, String localPath,
      int blockSize, String state, String phase, long done, long total, long bytesOnWire,
      Instant started, Instant finished, SyncResult result, String error) {}

  private record Progress(long id, SyncProgress.Phase phase, long done, long total, long bytes)
      implements Command {}

  private record Ended(long id, SyncResult result, Throwable error) implements Command {}

  /** Keeps {@code peer.sync.client.recent-transfers} finished transfers. */
  public static Behavior<Command> create(SyncSettings settings) {
    return create(settings, settings.clientRecentTransfers);
  }

  public static Behavior<Command> create(SyncSettings settings, int recent) {
    return Behaviors.setup(ctx -> new SyncTransfers(ctx, settings, recent));
  }

  private final SyncSettings settings;
  private final int recent;
  private final Map<Long, Transfer> running = new LinkedHashMap<>();
  private final Map<Long, ActorRef<Finished>> waiting = new LinkedHashMap<>();
  private final java.util.ArrayDeque<Transfer> finished = new java.util.ArrayDeque<>();
  private long nextId;

  private SyncTransfers(ActorContext<Command> ctx, SyncSettings settings, int recent) {
    super(ctx);
    this.settings = settings;
    this.recent = Math.max(0, recent);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Start.class, this::onStart)
        .onMessage(Progress.class, this::onProgress)
        .onMessage(Ended.class, this::onEnded)
        .onMessage(GetStatus.class, this::onStatus)
        .build();
  }

  private Behavior<Command> onStart(Start s) {
    long id = ++nextId;
    if (running.size() >= settings.clientMaxRunningTransfers) {
      s.replyTo().tell(new Finished(id, null, "too many transfers running ("
          + settings.clientMaxRunningTransfers + "); try again when one has ended", 503));
      return this;
    }
    ActorRef<Command> self = getContext().getSelf();
    running.put(id, new Transfer(id, s.action().wire(), s.peer(), s.remotePath(),
        s.localPath().toString(), s.blockSize(), "running", "start", 0, 0, 0, Instant.now(), null,
        null, null));
    waiting.put(id, s.replyTo());
    SyncProgress progress = (phase, done, total, bytes) ->
        self.tell(new Progress(id, phase, done, total, bytes));
    var stage = SyncClient.run(getContext().getSystem(), settings, s.action(), s.host(), s.port(),
        s.remotePath(), s.localPath(), s.blockSize(), progress);
    getContext().pipeToSelf(stage, (r, t) -> new Ended(id, r, t));
    return this;
  }

  private Behavior<Command> onProgress(Progress p) {
    Transfer t = running.get(p.id());
    if (t != null) {
      running.put(p.id(), new Transfer(t.id(), t.action(), t.peer(), t.remotePath(), t.localPath(),
          t.blockSize(), t.state(), p.phase().name().toLowerCase(), p.done(), p.total(), p.bytes(),
          t.started(), null, null, null));
    }
    return this;
  }

  private Behavior<Command> onEnded(Ended e) {
    Transfer t = running.remove(e.id());
    ActorRef<Finished> replyTo = waiting.remove(e.id());
    Throwable err = e.error() instanceof java.util.concurrent.CompletionException && e.error().getCause() != null
        ? e.error().getCause() : e.error();
    String msg = err == null ? null : (err.getMessage() == null ? err.toString() : err.getMessage());
    int status = err instanceof SyncFailedException f ? f.status() : 0;
    if (t != null) {
      SyncResult r = e.result();
      Transfer done = new Transfer(t.id(), t.action(), t.peer(), t.remotePath(), t.localPath(),
          t.blockSize(), err == null ? "done" : "failed", t.phase(),
          r != null ? r.blocksTransferred() : t.done(), r != null ? r.blocksTransferred() : t.total(),
          r != null ? r.bytesOnWire() : t.bytesOnWire(), t.started(), Instant.now(), r, msg);
      finished.addFirst(done);
      while (finished.size() > recent) {
        finished.removeLast();
      }
    }
    if (replyTo != null) {
      replyTo.tell(new Finished(e.id(), e.result(), msg, status));
    }
    return this;
  }

  private Behavior<Command> onStatus(GetStatus g) {
    List<Transfer> all = new ArrayList<>(running.values());
    all.addAll(finished);
    g.replyTo().tell(new Status(List.copyOf(all)));
    return this;
  }
}
