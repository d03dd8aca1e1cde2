package io.peernode.actors.streams;

import akka.Done;
import akka.NotUsed;
import akka.stream.javadsl.Source;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Stored history of stream partitions. Implementations (embedded, PostgreSQL) live in the node
 * module and run their blocking I/O on {@code peer.blocking-dispatcher}; every method returns at
 * once.
 *
 * <p>Offsets are assigned by the partition's single writer ({@link StreamPartition}); the store
 * keeps them durable and refuses an offset that is already taken, so two writers can never
 * both succeed with the same offset. It also keeps each partition's next offset on its own, so
 * offsets continue after restarts and after every stored event has expired.
 */
public interface EventStore {

  /** One past the highest offset ever stored in the partition; 0 for a new partition. */
  CompletionStage<Long> nextOffset(String streamId, int partition);

  /**
   * Stores events of one partition with consecutive offsets. Completes once they are durable
   * (per {@code peer.streams.durability}); appends that arrive within the commit window share
   * one commit. Fails, storing none of them, if any offset is already taken.
   */
  CompletionStage<Done> append(String streamId, int partition, List<StreamMessage> events);

  /** One page of stored events in the range, oldest (lowest offset) first, at most {@code limit}. */
  CompletionStage<List<StreamMessage>> read(
      String streamId, int partition, EventRange range, int limit);

  /** Deletes a stream's events and offsets of all partitions. */
  CompletionStage<Done> deleteStream(String streamId);

  /** Deletes events whose ttl has passed at {@code nowMillis}; returns how many. */
  CompletionStage<Integer> expire(long nowMillis);

  /**
   * The range as a back-pressured source: one page is read when the previous one has been
   * consumed, so memory stays at about one page however long the range is.
   */
  default Source<StreamMessage, NotUsed> source(
      String streamId, int partition, EventRange range, int pageSize) {
    return Source.unfoldAsync(
            Optional.of(range),
            next -> {
              if (next.isEmpty()) {
                return java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());
              }
              EventRange r = next.get();
              return read(streamId, partition, r, pageSize)
                  .thenApply(page -> {
                    if (page.isEmpty()) {
                      return Optional.empty();
                    }
                    long last = page.get(page.size() - 1).offset();
                    Optional<EventRange> rest =
                        page.size() < pageSize || last >= r.toOffset
                            ? Optional.empty()
                            : Optional.of(r.fromOffset(last + 1));
                    return Optional.of(akka.japi.Pair.create(rest, page));
                  });
            })
        .mapConcat(page -> page);
  }
}
