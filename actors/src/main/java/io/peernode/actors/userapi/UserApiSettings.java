package io.peernode.actors.userapi;

import com.typesafe.config.Config;
import java.time.Duration;

/** The {@code peer.userapi} settings, read once (see peer-userapi.conf for meaning and defaults). */
public final class UserApiSettings {

  public final int maxEventsPerSubscription;
  public final int eventSourceBatch;
  public final int inboxSize;
  public final int maxOpenStreams;
  public final int streamBuffer;
  public final int streamChunk;
  public final int streamSourceChunk;
  public final int streamCreditBatch;
  public final int streamWriteAhead;
  /** The byte streams' data connections: over blocking sockets of their own, or over akka.io. */
  public final boolean streamDataBlocking;
  /** The blocking transport's threads (at most). */
  public final int streamDataThreads;
  /** The blocking transport's largest read. */
  public final int streamDataReadSize;
  /** The blocking transport's large direct buffers (node-wide, at most). */
  public final int streamDataDirectBuffers;
  /** The blocking transport's small direct buffer per connection direction. */
  public final int streamDataIdleBuffer;
  /** The dispatcher of the byte streams' data connections over akka.io (empty: the materializer's). */
  public final String streamDataDispatcher;
  public final String streamDataHost;
  public final int streamDataPort;
  public final int streamDataBacklog;
  public final Duration streamDataHandshakeTimeout;
  public final int streamDataMaxHandshakes;
  public final Duration closedStreamLinger;
  public final int maxMessageBytes;
  public final Duration sendTimeout;
  public final Duration openTimeout;
  public final Duration askTimeout;
  public final int dedupHistory;
  public final Duration indexWriteTimeout;
  public final long maxPublishBytesInFlight;

  private UserApiSettings(Config c) {
    maxEventsPerSubscription = positive(c, "max-events-per-subscription", c.getInt("max-events-per-subscription"));
    eventSourceBatch = positive(c, "event-source-batch", c.getInt("event-source-batch"));
    inboxSize = positive(c, "inbox-size", c.getInt("inbox-size"));
    maxOpenStreams = positive(c, "max-open-streams", c.getInt("max-open-streams"));
    streamBuffer = positive(c, "stream-buffer", Math.toIntExact(c.getBytes("stream-buffer")));
    streamChunk = positive(c, "stream-chunk", Math.toIntExact(c.getBytes("stream-chunk")));
    streamSourceChunk = positive(c, "stream-source-chunk", Math.toIntExact(c.getBytes("stream-source-chunk")));
    streamCreditBatch = positive(c, "stream-credit-batch", Math.toIntExact(c.getBytes("stream-credit-batch")));
    streamWriteAhead = Math.toIntExact(c.getBytes("stream-write-ahead"));
    if (streamWriteAhead < 0) {
      throw new IllegalArgumentException("peer.userapi.stream-write-ahead must be 0 or more, got " + streamWriteAhead);
    }
    String transport = c.getString("stream-data-transport");
    if (!transport.equals("blocking") && !transport.equals("akka-io")) {
      throw new IllegalArgumentException("peer.userapi.stream-data-transport must be blocking or akka-io, got " + transport);
    }
    streamDataBlocking = transport.equals("blocking");
    streamDataThreads = positive(c, "stream-data-threads", c.getInt("stream-data-threads"));
    streamDataReadSize = positive(c, "stream-data-read-size", Math.toIntExact(c.getBytes("stream-data-read-size")));
    streamDataDirectBuffers = positive(c, "stream-data-direct-buffers", c.getInt("stream-data-direct-buffers"));
    streamDataIdleBuffer = positive(c, "stream-data-idle-buffer", Math.toIntExact(c.getBytes("stream-data-idle-buffer")));
    streamDataDispatcher = c.getString("stream-data-dispatcher");
    streamDataHost = c.getString("stream-data-host");
    streamDataPort = c.getInt("stream-data-port");
    if (streamDataPort < 0 || streamDataPort > 65535) {
      throw new IllegalArgumentException("peer.userapi.stream-data-port must be 0 (any free port) to 65535, got " + streamDataPort);
    }
    streamDataBacklog = positive(c, "stream-data-backlog", c.getInt("stream-data-backlog"));
    streamDataHandshakeTimeout = c.getDuration("stream-data-handshake-timeout");
    streamDataMaxHandshakes = positive(c, "stream-data-max-handshakes", c.getInt("stream-data-max-handshakes"));
    closedStreamLinger = c.getDuration("closed-stream-linger");
    maxMessageBytes = positive(c, "max-message-bytes", Math.toIntExact(c.getBytes("max-message-bytes")));
    sendTimeout = c.getDuration("send-timeout");
    openTimeout = c.getDuration("open-timeout");
    askTimeout = c.getDuration("ask-timeout");
    dedupHistory = positive(c, "dedup-history", c.getInt("dedup-history"));
    indexWriteTimeout = c.getDuration("index-write-timeout");
    maxPublishBytesInFlight = c.getBytes("max-publish-bytes-in-flight");
    if (maxPublishBytesInFlight <= 0) {
      throw new IllegalArgumentException("peer.userapi.max-publish-bytes-in-flight must be positive, got " + maxPublishBytesInFlight);
    }
  }

  /** The attributes a data connection runs with: its dispatcher, when one is set. */
  akka.stream.Attributes streamDataAttributes() {
    return streamDataDispatcher.isEmpty() ? akka.stream.Attributes.none()
        : akka.stream.ActorAttributes.dispatcher(streamDataDispatcher);
  }

  /** Reads the settings from the {@code peer.userapi} section (pass that section, not the root). */
  public static UserApiSettings from(Config peerUserApi) {
    return new UserApiSettings(peerUserApi);
  }

  private static int positive(Config c, String path, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("peer.userapi." + path + " must be positive, got " + value);
    }
    return value;
  }
}
