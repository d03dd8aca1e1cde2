package io.peernode.actors.streams;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code peer.streams} (see peer-streams.conf for what each limit means), read once. */
public final class StreamsSettings {

  /** How commits reach the disk. */
  public enum Durability {
    /** fsync per group commit. */
    FSYNC,
    /** Written to the OS, no fsync. */
    OS
  }

  public final Duration commitWindow;
  public final Durability durability;
  public final int maxCommitBatch;
  public final int maxPendingAppends;
  public final int maxMessageBytes;
  public final int maxPartitions;
  public final int defaultTtlSeconds;
  public final Duration expiryInterval;
  public final int maxPendingPublishes;
  public final int maxBatch;
  public final int stashCapacity;
  public final Duration recoveryRetry;
  public final Duration passivateAfter;
  public final int resendPageSize;
  public final Duration resendSubscriptionTimeout;
  public final int maxResendsPerConnection;
  public final int outgoingBuffer;
  public final int readAhead;
  public final long readAheadChars;
  public final int writeBatch;
  public final int maxSubscriptions;
  public final Duration askTimeout;
  public final Duration subscriptionCatchUp;
  public final int readConnections;
  public final long maxStoredBatchBytes;
  public final Duration accessCacheTtl;
  public final int accessCacheSize;
  public final int restMaxEvents;

  public StreamsSettings(Config root) {
    Config c = root.getConfig("peer.streams");
    commitWindow = c.getDuration("commit-window");
    String d = c.getString("durability");
    switch (d) {
      case "fsync":
        durability = Durability.FSYNC;
        break;
      case "os":
        durability = Durability.OS;
        break;
      default:
        throw new IllegalArgumentException(
            "peer.streams.durability must be fsync or os, got '" + d + "'");
    }
    maxCommitBatch = c.getInt("max-commit-batch");
    maxPendingAppends = c.getInt("max-pending-appends");
    maxMessageBytes = Math.toIntExact(c.getBytes("max-message-bytes"));
    maxPartitions = c.getInt("max-partitions");
    defaultTtlSeconds = Math.toIntExact(c.getDuration("default-ttl").toSeconds());
    expiryInterval = c.getDuration("expiry-interval");
    maxPendingPublishes = c.getInt("partition.max-pending-publishes");
    maxBatch = c.getInt("partition.max-batch");
    stashCapacity = c.getInt("partition.stash-capacity");
    recoveryRetry = c.getDuration("partition.recovery-retry");
    passivateAfter = c.getDuration("partition.passivate-after");
    resendPageSize = c.getInt("resend.page-size");
    resendSubscriptionTimeout = c.getDuration("resend.subscription-timeout");
    maxResendsPerConnection = c.getInt("resend.max-per-connection");
    outgoingBuffer = c.getInt("connection.outgoing-buffer");
    readAhead = c.getInt("connection.read-ahead");
    readAheadChars = c.getBytes("connection.read-ahead-chars");
    writeBatch = (int) Math.min(Integer.MAX_VALUE, c.getBytes("connection.write-batch"));
    if (readAhead < 1) {
      throw new IllegalArgumentException("peer.streams.connection.read-ahead must be at least 1");
    }
    maxSubscriptions = c.getInt("connection.max-subscriptions");
    askTimeout = c.getDuration("connection.ask-timeout");
    subscriptionCatchUp = c.getDuration("connection.subscription-catch-up");
    readConnections = c.getInt("store.read-connections");
    maxStoredBatchBytes = c.getBytes("store.max-batch-bytes");
    accessCacheTtl = c.getDuration("access-cache-ttl");
    accessCacheSize = c.getInt("access-cache-size");
    restMaxEvents = c.getInt("rest.max-events");
  }
}
