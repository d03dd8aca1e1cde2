package io.peernode.actors.sync;

import io.peernode.protocol.sync.FrameEncoder;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncMessage;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The first steps of a pull, taken before the client's actor system is up, for a process that
 * starts one only to sync (the sync CLI: its actor system takes most of a second to start): the
 * connection is opened and {@code init} sent at once, so the server hashes its copy (a second or
 * more for a large file it has not hashed at this block size) while this side starts; the local
 * file is opened and looked up in the tree cache, and its staging copy begun
 * ({@code client.stage-while-hashing}), meanwhile. The {@link SyncClientSession} given
 * this ({@link SyncClient#pull(akka.actor.typed.ActorSystem, PullHeadStart, SyncProgress)})
 * goes on from there exactly as if it had taken these steps itself.
 *
 * <p>Only with {@code client.transport = blocking} (a socket of its own, no Akka IO). Each step
 * runs on a thread of its own that ends with it; the connection waits for the session, which
 * closes it at its stop. A head start that is not handed to a session must be {@link #abandon}ed.
 *
 * <p>The {@code init} carries the local file's size as it was before it was opened: for a pull
 * the server only reads the name and block size from it (the size is informational), and the
 * session works with what it opened, so a local file that changes in between is no error.
 */
public final class PullHeadStart {

  final String host;
  final int port;
  final String remotePath;
  final Path localPath;
  final int blockSize;
  final SyncSettings settings;
  final BlockingConnection connection;
  /** Bytes of the {@code init} frame written on the connection. */
  final long initBytes;
  /** The local file, opened and looked up in the tree cache, as the session would have done. */
  final CompletableFuture<SyncClientSession.LocalOpened> opened;
  /**
   * The staging copy ({@code client.stage-while-hashing}), begun once the local file is open,
   * or null when there is none to copy; {@link #stagingCopyLimit} and {@link #stagingStop} are
   * the session's handles on it.
   */
  final CompletableFuture<SyncClientSession.StagingReady> staging;
  final AtomicLong stagingCopyLimit;
  final AtomicBoolean stagingStop;

  private PullHeadStart(String host, int port, String remotePath, Path localPath, int blockSize,
      SyncSettings settings, BlockingConnection connection, long initBytes,
      CompletableFuture<SyncClientSession.LocalOpened> opened,
      CompletableFuture<SyncClientSession.StagingReady> staging, AtomicLong stagingCopyLimit,
      AtomicBoolean stagingStop) {
    this.host = host;
    this.port = port;
    this.remotePath = remotePath;
    this.localPath = localPath;
    this.blockSize = blockSize;
    this.settings = settings;
    this.connection = connection;
    this.initBytes = initBytes;
    this.opened = opened;
    this.staging = staging;
    this.stagingCopyLimit = stagingCopyLimit;
    this.stagingStop = stagingStop;
  }

  /**
   * Connects to {@code host:port} and sends {@code init} for a pull of {@code remotePath} into
   * {@code localPath}, and opens the local file, each on a new thread. Failures are reported by
   * the session that takes this over, as its own would be.
   *
   * @throws IllegalArgumentException when {@code settings} do not use the blocking transport or
   *     the block size is not one they allow
   */
  public static PullHeadStart begin(SyncSettings settings, String host, int port, String remotePath,
      Path localPath, int blockSize) {
    if (!settings.clientBlockingTransport) {
      throw new IllegalArgumentException("a head start needs client.transport = blocking");
    }
    if (!settings.validBlockSize(blockSize)) {
      throw new IllegalArgumentException("block size must be a power of two from "
          + settings.minBlockSize + " to " + settings.maxBlockSize);
    }
    long size;
    try {
      size = Files.isRegularFile(localPath) ? Files.size(localPath) : 0;
    } catch (IOException e) {
      size = 0; // opening it reports what is wrong
    }
    byte[] init = FrameEncoder.encode(new SyncMessage.Init(SyncMessage.VERSION, Action.PULL,
        remotePath, blockSize, HashTree.blockCount(size, blockSize), size));
    Executor ownThread = task -> {
      Thread t = new Thread(task, "sync-head-start");
      t.setDaemon(true);
      t.start();
    };
    BlockingConnection connection = BlockingConnection.open(host, port, settings.clientTimeout,
        ownThread, init);
    CompletableFuture<SyncClientSession.LocalOpened> opened = SyncClientSession.openLocal(
        localPath, Action.PULL, blockSize, settings, LocalTreeCache.of(settings), ownThread);
    AtomicLong limit = new AtomicLong(Long.MAX_VALUE);
    AtomicBoolean stop = new AtomicBoolean();
    CompletableFuture<SyncClientSession.StagingReady> staging = opened.thenCompose(o ->
        stagesWhileOpening(settings, o)
            ? SyncClientSession.startStaging(localPath, limit, true, o.version(), stop,
                settings.clientDirectStagingCopyChunk, ownThread)
            : CompletableFuture.completedFuture(null));
    return new PullHeadStart(host, port, remotePath, localPath, blockSize, settings, connection,
        init.length, opened, staging, limit, stop);
  }

  /** Whether the head start makes the staging copy of the local file {@code o}. */
  boolean stagesWhileOpening(SyncClientSession.LocalOpened o) {
    return stagesWhileOpening(settings, o);
  }

  private static boolean stagesWhileOpening(SyncSettings settings, SyncClientSession.LocalOpened o) {
    return settings.clientStageWhileHashing && o.exists();
  }

  /** Closes what was started, for a head start no session took over. */
  public void abandon() {
    connection.close();
    stagingStop.set(true);
    staging.thenAccept(r -> {
      if (r != null) {
        try {
          r.channel().close();
        } catch (IOException ignored) {
          // deleted next
        }
        SyncStore.deleteQuietly(r.staging());
      }
    });
    opened.thenAccept(o -> {
      if (o.channel() != null) {
        try {
          o.channel().close();
        } catch (IOException ignored) {
          // read-only
        }
      }
    });
  }
}
