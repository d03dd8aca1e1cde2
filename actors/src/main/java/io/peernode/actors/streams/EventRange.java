package io.peernode.actors.streams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Which stored events of a partition to read: offsets and timestamps both inclusive.
 * Unbounded ends are 0 and {@link Long#MAX_VALUE}.
 */
public final class EventRange implements io.peernode.actors.JsonSerializable {

  public final long fromOffset;
  public final long toOffset;
  public final long fromTimestamp;
  public final long toTimestamp;

  @JsonCreator
  public EventRange(
      @JsonProperty("fromOffset") long fromOffset,
      @JsonProperty("toOffset") long toOffset,
      @JsonProperty("fromTimestamp") long fromTimestamp,
      @JsonProperty("toTimestamp") long toTimestamp) {
    this.fromOffset = fromOffset;
    this.toOffset = toOffset;
    this.fromTimestamp = fromTimestamp;
    this.toTimestamp = toTimestamp;
  }

  public static EventRange all() {
    return new EventRange(0, Long.MAX_VALUE, 0, Long.MAX_VALUE);
  }

  public static EventRange offsets(long from, long to) {
    return new EventRange(from, to, 0, Long.MAX_VALUE);
  }

  public static EventRange timestamps(long from, long to) {
    return new EventRange(0, Long.MAX_VALUE, from, to);
  }

  /** The same range, starting at {@code offset} (paging). */
  public EventRange fromOffset(long offset) {
    return new EventRange(Math.max(offset, fromOffset), toOffset, fromTimestamp, toTimestamp);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof EventRange)) return false;
    EventRange r = (EventRange) o;
    return fromOffset == r.fromOffset && toOffset == r.toOffset
        && fromTimestamp == r.fromTimestamp && toTimestamp == r.toTimestamp;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(fromOffset * 31 + toOffset) ^ Long.hashCode(fromTimestamp * 17 + toTimestamp);
  }

  @Override
  public String toString() {
    return "EventRange[offsets " + fromOffset + ".." + toOffset
        + ", timestamps " + fromTimestamp + ".." + toTimestamp + "]";
  }
}
