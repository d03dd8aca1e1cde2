package io.peernode.actors.streams;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Permissions for behavior tests: key "writer" may read and write every stream, "reader" may
 * read every stream, "slow-reader" too but its decisions come 300 ms late (a check that is not
 * cached), anonymous requests may read public streams; other keys are unknown.
 */
final class TestAccess implements StreamAccess {

  final Map<String, StreamInfo> streams = new ConcurrentHashMap<>();
  final Set<String> publicStreams = ConcurrentHashMap.newKeySet();

  void add(String id, int partitions, boolean isPublic) {
    streams.put(id, new StreamInfo(id, partitions, 3600));
    if (isPublic) publicStreams.add(id);
  }

  @Override
  public CompletionStage<Decision> check(Optional<String> authKey, String streamId,
      Operation operation) {
    StreamInfo s = streams.get(streamId);
    if (s == null) {
      return done(new Decision.NotFound("stream " + streamId + " not found"));
    }
    boolean ok;
    if (authKey.isEmpty()) {
      ok = operation == Operation.READ && publicStreams.contains(streamId);
    } else if (authKey.get().equals("writer")) {
      ok = true;
    } else if (authKey.get().equals("reader")) {
      ok = operation == Operation.READ;
    } else if (authKey.get().equals("slow-reader")) {
      Decision d = operation == Operation.READ ? new Decision.Allowed(s)
          : new Decision.Denied("no " + operation.name().toLowerCase()
              + " permission on stream " + streamId);
      return CompletableFuture.supplyAsync(() -> d,
          CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
    } else {
      return done(new Decision.Denied("unknown key"));
    }
    return done(ok ? new Decision.Allowed(s)
        : new Decision.Denied("no " + operation.name().toLowerCase()
            + " permission on stream " + streamId));
  }

  private static CompletionStage<Decision> done(Decision d) {
    return CompletableFuture.completedFuture(d);
  }
}
