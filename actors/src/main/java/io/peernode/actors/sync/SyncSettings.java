package io.peernode.actors.sync;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Every bound of the sync server and client, read once from {@code peer.sync} (defaults and
 * comments in {@code peer-sync.conf}). Immutable.
 */
public final class SyncSettings {

  public final Path root;
  public final String host;
  public final int port;
  public final int maxJsonBytes;
  public final int maxBinBytes;
  public final int maxIndices;
  public final long maxAnswerBytes;
  public final int maxSessions;
  public final Duration busyRetry;
  public final Duration idleTimeout;
  public final int minBlockSize;
  public final int maxBlockSize;
  public final int maxTreeLeaves;
  public final int treeCacheEntries;
  public final long treeCacheBytes;
  public final int ioChunkBytes;
  public final int hashThreads;
  public final String stagingDir;
  public final int clientDefaultBlockSize;
  public final int clientMinAutoBlockSize;
  public final int clientBatchBytes;
  public final Duration clientTimeout;
  public final int clientRecentTransfers;
  public final int clientMaxRunningTransfers;
  public final int clientPipeline;
  public final boolean clientFullVerify;
  public final boolean clientStageWhileHashing;
  public final boolean clientFlushBeforeInit;
  public final Duration clientHashTimeout;
  public final Duration clientKeepAlive;
  /** Where the client's tree cache lives; null: no cache. */
  public final Path clientTreeCacheDir;
  public final int clientTreeCacheEntries;
  public final long clientTreeCacheBytes;
  public final Duration clientTreeCacheRacyWindow;
  public final int clientTreeCacheSpotCheckBlocks;
  /** {@code client.transport = blocking}: a {@link BlockingConnection} instead of Akka's TCP. */
  public final boolean clientBlockingTransport;
  /** {@code client.head-start}: the sync CLI's pulls begin before its actor system starts. */
  public final boolean clientHeadStart;
  /**
   * {@code client.direct-staging-copy}: the piece size ({@code client.direct-staging-copy-bytes})
   * of a pull's staging copy written past the page cache, 0 when off.
   */
  public final int clientDirectStagingCopyChunk;
  public final int clientBlockingReadBytes;
  public final int clientBlockingReadAhead;

  private SyncSettings(Config c, Path root) {
    this.root = root == null ? null : root.toAbsolutePath().normalize();
    this.host = c.getString("host");
    this.port = c.getInt("port");
    this.maxJsonBytes = intBytes(c, "max-json-bytes");
    this.maxBinBytes = intBytes(c, "max-bin-bytes");
    this.maxIndices = c.getInt("max-indices");
    this.maxAnswerBytes = c.getBytes("max-answer-bytes");
    this.maxSessions = c.getInt("max-sessions");
    this.busyRetry = c.getDuration("busy-retry");
    this.idleTimeout = c.getDuration("idle-timeout");
    this.minBlockSize = intBytes(c, "min-block-size");
    this.maxBlockSize = intBytes(c, "max-block-size");
    this.maxTreeLeaves = c.getInt("max-tree-leaves");
    this.treeCacheEntries = c.getInt("tree-cache-entries");
    this.treeCacheBytes = c.getBytes("tree-cache-bytes");
    this.ioChunkBytes = intBytes(c, "io-chunk-bytes");
    int ht = c.getInt("hash-threads");
    this.hashThreads = ht > 0 ? ht : Math.min(8, Runtime.getRuntime().availableProcessors());
    this.stagingDir = c.getString("staging-dir");
    this.clientDefaultBlockSize = intBytes(c, "client.default-block-size");
    this.clientMinAutoBlockSize = intBytes(c, "client.min-auto-block-size");
    this.clientBatchBytes = intBytes(c, "client.batch-bytes");
    this.clientTimeout = c.getDuration("client.timeout");
    this.clientRecentTransfers = c.getInt("client.recent-transfers");
    this.clientMaxRunningTransfers = c.getInt("client.max-running-transfers");
    this.clientPipeline = Math.max(1, c.getInt("client.pipeline"));
    this.clientFullVerify = c.getBoolean("client.full-verify");
    this.clientStageWhileHashing = c.getBoolean("client.stage-while-hashing");
    this.clientFlushBeforeInit = c.getBoolean("client.flush-before-init");
    this.clientHashTimeout = c.getDuration("client.hash-timeout");
    this.clientKeepAlive = c.getDuration("client.keep-alive");
    String cacheDir = c.getString("client.tree-cache.dir");
    this.clientTreeCacheDir = c.getBoolean("client.tree-cache.enabled") && !cacheDir.isEmpty()
        ? Path.of(cacheDir).toAbsolutePath().normalize() : null;
    this.clientTreeCacheEntries = c.getInt("client.tree-cache.max-entries");
    this.clientTreeCacheBytes = c.getBytes("client.tree-cache.max-bytes");
    this.clientTreeCacheRacyWindow = c.getDuration("client.tree-cache.racy-window");
    this.clientTreeCacheSpotCheckBlocks = c.getInt("client.tree-cache.spot-check-blocks");
    String transport = c.getString("client.transport");
    if (!transport.equals("akka") && !transport.equals("blocking")) {
      throw new IllegalArgumentException("peer.sync.client.transport must be akka or blocking, not '"
          + transport + "'");
    }
    this.clientBlockingTransport = transport.equals("blocking");
    this.clientHeadStart = c.getBoolean("client.head-start");
    this.clientDirectStagingCopyChunk = c.getBoolean("client.direct-staging-copy")
        ? intBytes(c, "client.direct-staging-copy-bytes") : 0;
    this.clientBlockingReadBytes = intBytes(c, "client.blocking.read-bytes");
    this.clientBlockingReadAhead = c.getInt("client.blocking.read-ahead");
    if (clientBlockingReadAhead < 1) {
      throw new IllegalArgumentException("peer.sync.client.blocking.read-ahead must be at least 1");
    }
    if (clientTreeCacheRacyWindow.isNegative()) {
      throw new IllegalArgumentException("peer.sync.client.tree-cache.racy-window must not be negative");
    }
    if (clientKeepAlive.isZero() || clientKeepAlive.isNegative()) {
      throw new IllegalArgumentException("peer.sync.client.keep-alive must be positive");
    }
    if (maxIndices < 1 || maxSessions < 1 || clientMaxRunningTransfers < 1 || ioChunkBytes < 1
        || maxJsonBytes < 256) {
      throw new IllegalArgumentException("peer.sync: limits must be positive (max-json-bytes >= 256)");
    }
    if (maxBlockSize > maxBinBytes) {
      throw new IllegalArgumentException("peer.sync: max-block-size must fit in max-bin-bytes");
    }
  }

  /**
   * @param peerSync the {@code peer.sync} section
   * @param syncRoot the directory served (may be null for a client-only use)
   */
  public static SyncSettings fromConfig(Config peerSync, Path syncRoot) {
    return new SyncSettings(peerSync, syncRoot);
  }

  /**
   * As {@link #fromConfig(Config, Path)} with the port given apart (the node's {@code --sync-port}).
   */
  public static SyncSettings fromConfig(Config peerSync, Path syncRoot, int port) {
    return new SyncSettings(
        peerSync.withValue("port", com.typesafe.config.ConfigValueFactory.fromAnyRef(port)), syncRoot);
  }

  /** As {@link #fromConfig(Config, Path, int)}, also binding to the node's {@code host}. */
  public static SyncSettings fromConfig(Config peerSync, Path syncRoot, String host, int port) {
    return fromConfig(peerSync.withValue("host", com.typesafe.config.ConfigValueFactory.fromAnyRef(host)),
        syncRoot, port);
  }

  /** Client-only settings (CLI, Java client). */
  public static SyncSettings clientFromConfig(Config peerSync) {
    return new SyncSettings(peerSync, null);
  }

  /** True when {@code blockSize} is a power of two within the configured bounds. */
  public boolean validBlockSize(long blockSize) {
    return blockSize >= minBlockSize && blockSize <= maxBlockSize && Long.bitCount(blockSize) == 1;
  }

  private static int intBytes(Config c, String path) {
    long v = c.getBytes(path);
    if (v <= 0 || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("peer.sync." + path + " must be between 1 and 2 GiB");
    }
    return (int) v;
  }

  /**
   * The block size when none is given, for a local copy of {@code localSize} bytes (negative: no
   * local copy). As rsync does, the power of two nearest the square root of the size, so a delta
   * moves little more than what changed, between {@code client.min-auto-block-size} and
   * {@code client.default-block-size}; with no local copy nothing can be reused, and the largest
   * block size costs the fewest hashes.
   */
  public int blockSizeFor(long localSize) {
    if (localSize < 0) {
      return clientDefaultBlockSize;
    }
    long root = (long) Math.ceil(Math.sqrt((double) localSize));
    long size = Long.highestOneBit(Math.max(1, root));
    if (size < root && root - size > size * 2 - root) {
      size *= 2;
    }
    return (int) Math.max(clientMinAutoBlockSize, Math.min(clientDefaultBlockSize, size));
  }
}
