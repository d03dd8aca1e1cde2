package io.peernode.actors.streams;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether a key may read or write a stream, and tells the data API what it needs to
 * know about the stream. The node implements it on its metadata (streams, keys, permissions);
 * tests use an in-memory one. Must answer quickly (cache) and never throw: problems are
 * {@link Decision}s.
 */
public interface StreamAccess {

  enum Operation {
    READ,
    WRITE
  }

  /** @param authKey the key sent with the request; empty for anonymous */
  CompletionStage<Decision> check(Optional<String> authKey, String streamId, Operation operation);

  /** What the data API needs of a stream. */
  record StreamInfo(String id, int partitions, int ttlSeconds) {}

  sealed interface Decision {
    record Allowed(StreamInfo stream) implements Decision {}

    /** No such stream. */
    record NotFound(String error) implements Decision {}

    /** The key is unknown or lacks the permission. */
    record Denied(String error) implements Decision {}
  }
}
