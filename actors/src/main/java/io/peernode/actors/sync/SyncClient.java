package io.peernode.actors.sync;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java client of the block sync protocol. Each call runs one {@link SyncClientSession} actor
 * (a system actor of {@code system}) and completes with a {@link SyncResult}, or exceptionally with
 * a {@link SyncFailedException} (a {@code deny} carries its status and retry).
 */
public final class SyncClient {

  private static final AtomicLong COUNTER = new AtomicLong();

  private SyncClient() {}

  /** Makes {@code localPath} equal to the server's {@code remotePath}. */
  public static CompletionStage<SyncResult> pull(ActorSystem<?> system, String host, int port,
      String remotePath, Path localPath, int blockSize, SyncProgress progress) {
    return run(system, defaults(system), Action.PULL, host, port, remotePath, localPath, blockSize, progress);
  }

  /** Makes the server's {@code remotePath} equal to {@code localPath}. */
  public static CompletionStage<SyncResult> push(ActorSystem<?> system, String host, int port,
      Path localPath, String remotePath, int blockSize, SyncProgress progress) {
    return run(system, defaults(system), Action.PUSH, host, port, remotePath, localPath, blockSize, progress);
  }

  /** Either direction, with explicit settings (limits, batch size, timeout). */
  public static CompletionStage<SyncResult> run(ActorSystem<?> system, SyncSettings settings,
      Action action, String host, int port, String remotePath, Path localPath, int blockSize,
      SyncProgress progress) {
    CompletableFuture<SyncResult> result = new CompletableFuture<>();
    if (!settings.validBlockSize(blockSize)) {
      result.completeExceptionally(new SyncFailedException(0, 0, "block size must be a power of two from "
          + settings.minBlockSize + " to " + settings.maxBlockSize));
      return result;
    }
    return start(system, new SyncClientSession.Request(action, host, port, remotePath, localPath,
        blockSize, settings, progress == null ? SyncProgress.NONE : progress, null), result);
  }

  /**
   * The pull {@code headStart} began (its connection, {@code init} and local file), taken over by
   * a session in {@code system}; its settings are the ones it began with.
   */
  public static CompletionStage<SyncResult> pull(ActorSystem<?> system, PullHeadStart headStart,
      SyncProgress progress) {
    PullHeadStart h = headStart;
    return start(system, new SyncClientSession.Request(Action.PULL, h.host, h.port, h.remotePath,
        h.localPath, h.blockSize, h.settings, progress == null ? SyncProgress.NONE : progress, h),
        new CompletableFuture<>());
  }

  private static CompletionStage<SyncResult> start(ActorSystem<?> system,
      SyncClientSession.Request request, CompletableFuture<SyncResult> result) {
    Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("peer.blocking-dispatcher"));
    system.systemActorOf(SyncClientSession.create(request, result, blocking),
        "sync-client-" + COUNTER.incrementAndGet(), Props.empty());
    return result;
  }

  private static SyncSettings defaults(ActorSystem<?> system) {
    return SyncSettings.clientFromConfig(system.settings().config().getConfig("peer.sync"));
  }
}
