package io.peernode.actors.streams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.List;

/**
 * What a {@link StreamPartition} broadcasts on its pub/sub topic: the events of one stored
 * append, in offset order, consecutive. One topic message (and one message per subscriber) per
 * group commit instead of per event; each subscriber still delivers event by event.
 */
public final class EventBatch implements JsonSerializable, ClientSubscription.Command {

  public final List<StreamMessage> events;

  @JsonCreator
  public EventBatch(@JsonProperty("events") List<StreamMessage> events) {
    this.events = List.copyOf(events);
  }

  public static EventBatch of(StreamMessage... events) {
    return new EventBatch(List.of(events));
  }

  @Override
  public String toString() {
    return "EventBatch[" + events.size() + " events"
        + (events.isEmpty() ? "" : ", offsets " + events.get(0).offset() + ".."
            + events.get(events.size() - 1).offset()) + "]";
  }
}
