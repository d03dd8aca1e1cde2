package io.peernode.protocol.streamr;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * One stored event of a stream partition, as clients see it inside broadcast (0) and unicast (1)
 * messages: {@code [28, streamId, partition, timestamp, ttl, offset, previousOffset, 27, content]}.
 *
 * <p>Immutable. The Jackson annotations let the actors module send it across the cluster
 * (it is bound to Jackson CBOR there); this module itself never serializes it that way.
 */
public final class StreamMessage {

  /** Message version of the payload array, as in the 2018 protocol. */
  public static final int VERSION = 28;
  /** Content type: {@link #content()} is JSON text. */
  public static final int CONTENT_TYPE_JSON = 27;

  private final String streamId;
  private final int partition;
  private final long timestamp;
  private final int ttl;
  private final long offset;
  private final Long previousOffset;
  private final String content;
  /** {@link #content} as a JSON string literal, when known; not sent across the cluster. */
  private final String contentJson;
  /**
   * The UTF-8 of this event's broadcast frame, encoded on first use by {@link
   * ServerMessages#broadcastUtf8} and then shared by every subscriber on this node that the
   * same instance reaches (pub/sub hands one instance to all local subscribers; the broadcast
   * frame has subId "", so it is the same for each of them). A single-check cache: the array
   * is never modified, so a thread that sees null merely encodes it once more; volatile, so
   * that a thread that sees the array sees its contents.
   */
  private volatile byte[] broadcastUtf8;

  /**
   * @param timestamp epoch millis (publisher's {@code ts} or the node's clock)
   * @param ttl seconds this event is kept
   * @param previousOffset the offset before this one in the partition, null for the first event
   * @param content the event as JSON text, exactly what the publisher sent in {@code msg}
   */
  @JsonCreator
  public StreamMessage(
      @JsonProperty("streamId") String streamId,
      @JsonProperty("partition") int partition,
      @JsonProperty("timestamp") long timestamp,
      @JsonProperty("ttl") int ttl,
      @JsonProperty("offset") long offset,
      @JsonProperty("previousOffset") Long previousOffset,
      @JsonProperty("content") String content) {
    this(streamId, partition, timestamp, ttl, offset, previousOffset, content, null);
  }

  /**
   * @param contentJson {@code content} as the JSON string literal the publisher sent (quotes
   *     and escapes included, e.g. {@link StreamrRequest.Publish#msgJson}), or null. Trusted:
   *     it must be a valid literal of exactly {@code content}; broadcasts embed it as is.
   */
  public StreamMessage(String streamId, int partition, long timestamp, int ttl, long offset,
      Long previousOffset, String content, String contentJson) {
    this.streamId = Objects.requireNonNull(streamId, "streamId");
    this.partition = partition;
    this.timestamp = timestamp;
    this.ttl = ttl;
    this.offset = offset;
    this.previousOffset = previousOffset;
    this.content = Objects.requireNonNull(content, "content");
    this.contentJson = contentJson;
  }

  @JsonProperty("streamId")
  public String streamId() {
    return streamId;
  }

  @JsonProperty("partition")
  public int partition() {
    return partition;
  }

  @JsonProperty("timestamp")
  public long timestamp() {
    return timestamp;
  }

  @JsonProperty("ttl")
  public int ttl() {
    return ttl;
  }

  @JsonProperty("offset")
  public long offset() {
    return offset;
  }

  /** Null for the first event of a partition. */
  @JsonProperty("previousOffset")
  public Long previousOffset() {
    return previousOffset;
  }

  @JsonProperty("content")
  public String content() {
    return content;
  }

  /** {@link #content} as a JSON string literal, or null when not known. */
  String contentJson() {
    return contentJson;
  }

  byte[] cachedBroadcastUtf8() {
    return broadcastUtf8;
  }

  void cacheBroadcastUtf8(byte[] utf8) {
    broadcastUtf8 = utf8;
  }

  /** Epoch millis after which the event may be deleted. */
  public long expiresAt() {
    return timestamp + ttl * 1000L;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) return true;
    if (!(o instanceof StreamMessage)) return false;
    StreamMessage m = (StreamMessage) o;
    return partition == m.partition
        && timestamp == m.timestamp
        && ttl == m.ttl
        && offset == m.offset
        && streamId.equals(m.streamId)
        && Objects.equals(previousOffset, m.previousOffset)
        && content.equals(m.content);
  }

  @Override
  public int hashCode() {
    return Objects.hash(streamId, partition, offset, timestamp);
  }

  @Override
  public String toString() {
    return "StreamMessage[" + streamId + "#" + partition + " offset=" + offset
        + " prev=" + previousOffset + " ts=" + timestamp + " ttl=" + ttl
        + " content=" + content.length() + " chars]";
  }
}
