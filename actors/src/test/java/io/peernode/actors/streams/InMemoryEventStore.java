package io.peernode.actors.streams;

import akka.Done;
import io.peernode.protocol.streamr.StreamMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An EventStore in memory for behavior tests, shared by several ActorSystems in one JVM (as a
 * PostgreSQL store would be). It can hold appends back ({@link #hold()}) and fail the next ones.
 */
final class InMemoryEventStore implements EventStore {

  private final Map<String, NavigableMap<Long, StreamMessage>> events = new ConcurrentHashMap<>();
  private final Map<String, Long> next = new ConcurrentHashMap<>();
  /** Sizes of the appends received, in order. */
  final List<Integer> appendSizes = new CopyOnWriteArrayList<>();
  private final AtomicReference<CompletableFuture<Done>> gate = new AtomicReference<>();
  volatile boolean failAppends;

  private static String key(String stream, int partition) {
    return stream + "#" + partition;
  }

  /** Appends from now on complete only when the returned future is completed. */
  CompletableFuture<Done> hold() {
    CompletableFuture<Done> g = new CompletableFuture<>();
    gate.set(g);
    return g;
  }

  void release() {
    CompletableFuture<Done> g = gate.getAndSet(null);
    if (g != null) g.complete(Done.getInstance());
  }

  void setNextOffset(String stream, int partition, long offset) {
    next.put(key(stream, partition), offset);
  }

  @Override
  public CompletionStage<Long> nextOffset(String streamId, int partition) {
    return CompletableFuture.completedFuture(next.getOrDefault(key(streamId, partition), 0L));
  }

  @Override
  public CompletionStage<Done> append(String streamId, int partition, List<StreamMessage> batch) {
    appendSizes.add(batch.size());
    CompletableFuture<Done> g = gate.get();
    CompletionStage<Done> before = g == null ? CompletableFuture.completedFuture(Done.getInstance()) : g;
    return before.thenCompose(d -> {
      if (failAppends) {
        return CompletableFuture.failedFuture(new IllegalStateException("disk on fire"));
      }
      synchronized (this) {
        NavigableMap<Long, StreamMessage> p =
            events.computeIfAbsent(key(streamId, partition), k -> new ConcurrentSkipListMap<>());
        for (StreamMessage m : batch) {
          if (p.containsKey(m.offset())) {
            return CompletableFuture.failedFuture(
                new IllegalStateException("offset " + m.offset() + " taken"));
          }
        }
        batch.forEach(m -> p.put(m.offset(), m));
        next.merge(key(streamId, partition), batch.get(batch.size() - 1).offset() + 1, Math::max);
      }
      return CompletableFuture.completedFuture(Done.getInstance());
    });
  }

  @Override
  public CompletionStage<List<StreamMessage>> read(String streamId, int partition,
      EventRange range, int limit) {
    List<StreamMessage> out = new ArrayList<>();
    NavigableMap<Long, StreamMessage> p = events.get(key(streamId, partition));
    if (p != null && range.fromOffset <= range.toOffset) {
      for (StreamMessage m : p.subMap(range.fromOffset, true, range.toOffset, true).values()) {
        if (out.size() >= limit) break;
        if (m.timestamp() >= range.fromTimestamp && m.timestamp() <= range.toTimestamp) {
          out.add(m);
        }
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  List<StreamMessage> all(String streamId, int partition) {
    NavigableMap<Long, StreamMessage> p = events.get(key(streamId, partition));
    return p == null ? List.of() : new ArrayList<>(p.values());
  }

  @Override
  public CompletionStage<Done> deleteStream(String streamId) {
    events.keySet().removeIf(k -> k.startsWith(streamId + "#"));
    next.keySet().removeIf(k -> k.startsWith(streamId + "#"));
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  @Override
  public CompletionStage<Integer> expire(long nowMillis) {
    int[] n = {0};
    events.values().forEach(p -> p.values().removeIf(m -> {
      boolean old = m.expiresAt() < nowMillis;
      if (old) n[0]++;
      return old;
    }));
    return CompletableFuture.completedFuture(n[0]);
  }
}
