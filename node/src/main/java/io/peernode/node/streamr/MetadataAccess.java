package io.peernode.node.streamr;

import io.peernode.actors.streams.StreamAccess;
import io.peernode.actors.streams.StreamsSettings;
import io.peernode.node.storage.MetadataStore;
import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may do what on a stream, from the metadata store: the node's admin key and admin keys may
 * do everything; other keys hold the permissions granted to them (a stream key exactly one);
 * anyone holds the permissions granted to anonymous. Decisions are cached briefly
 * ({@code peer.streams.access-cache-ttl}) so publishing does not read the database each time.
 */
public final class MetadataAccess implements StreamAccess {

  /** Operations of the permission model; READ and WRITE are the data API's. */
  public enum Op {
    READ("read"),
    WRITE("write"),
    SHARE("share");

    public final String wire;

    Op(String wire) {
      this.wire = wire;
    }

    public static Optional<Op> of(String wire) {
      for (Op o : values()) if (o.wire.equals(wire)) return Optional.of(o);
      return Optional.empty();
    }
  }

  /** Who is calling: anonymous, a known key, or an admin. */
  public record Caller(Optional<KeyRecord> key, boolean admin) {
    public static final Caller ANONYMOUS = new Caller(Optional.empty(), false);

    public Optional<String> keyId() {
      return key.map(KeyRecord::key);
    }
  }

  private record Cached(Object value, long expiresAt) {}

  private final MetadataStore store;
  private final String adminKey;
  private final long ttlNanos;
  private final int maxEntries;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

  public MetadataAccess(MetadataStore store, String adminKey, StreamsSettings settings) {
    this.store = store;
    this.adminKey = adminKey;
    this.ttlNanos = settings.accessCacheTtl.toNanos();
    this.maxEntries = settings.accessCacheSize;
  }

  /** Forgets cached decisions (after a permission, key or stream changed on this node). */
  public void invalidate() {
    cache.clear();
  }

  @SuppressWarnings("unchecked")
  private <T> CompletionStage<T> cached(String key, java.util.function.Supplier<CompletionStage<T>> load) {
    Cached c = cache.get(key);
    if (c != null && c.expiresAt() - System.nanoTime() > 0) {
      return CompletableFuture.completedFuture((T) c.value());
    }
    return load.get().thenApply(v -> {
      if (cache.size() >= maxEntries) cache.clear();
      cache.put(key, new Cached(v, System.nanoTime() + ttlNanos));
      return v;
    });
  }

  /** Resolves a key: empty for anonymous, a Caller, or null when the key is unknown. */
  public CompletionStage<Caller> caller(Optional<String> key) {
    if (key.isEmpty()) return CompletableFuture.completedFuture(Caller.ANONYMOUS);
    if (key.get().equals(adminKey)) {
      return CompletableFuture.completedFuture(new Caller(
          Optional.of(new KeyRecord(adminKey, "admin", true, null, 0)), true));
    }
    return cached("key|" + key.get(), () -> store.key(key.get())
        .thenApply(k -> k.map(r -> new Caller(Optional.of(r), r.admin())).orElse(null)));
  }

  /** The operations a caller holds on a stream. */
  public CompletionStage<Set<Op>> operations(Caller caller, String streamId) {
    if (caller.admin()) return CompletableFuture.completedFuture(EnumSet.allOf(Op.class));
    return cached("perm|" + streamId, () -> store.permissions(streamId))
        .thenApply(perms -> {
          Set<Op> ops = EnumSet.noneOf(Op.class);
          for (PermissionRecord p : (List<PermissionRecord>) perms) {
            boolean mine = p.anonymous()
                || (caller.keyId().isPresent() && caller.keyId().get().equals(p.key()));
            if (mine) Op.of(p.operation()).ifPresent(ops::add);
          }
          return ops;
        });
  }

  public CompletionStage<Optional<StreamRecord>> stream(String streamId) {
    return cached("stream|" + streamId, () -> store.stream(streamId));
  }

  @Override
  public CompletionStage<Decision> check(Optional<String> authKey, String streamId,
      Operation operation) {
    Op op = operation == Operation.READ ? Op.READ : Op.WRITE;
    return stream(streamId).thenCompose(s -> {
      if (s.isEmpty()) {
        return CompletableFuture.completedFuture(
            (Decision) new Decision.NotFound("stream " + streamId + " not found"));
      }
      StreamRecord stream = s.get();
      return caller(authKey).thenCompose(caller -> {
        if (caller == null) {
          return CompletableFuture.completedFuture(
              (Decision) new Decision.Denied("unknown API key"));
        }
        return operations(caller, streamId).thenApply(ops -> ops.contains(op)
            ? new Decision.Allowed(new StreamInfo(stream.id(), stream.partitions(),
                stream.ttlSeconds()))
            : (Decision) new Decision.Denied((caller.key().isEmpty() ? "anonymous access has"
                : "the key has") + " no " + op.wire + " permission on stream " + streamId));
      });
    });
  }
}
