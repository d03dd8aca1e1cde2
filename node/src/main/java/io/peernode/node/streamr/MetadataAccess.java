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

  /** What {@link #fresh} answers for an entry that is not cached or has expired. */
  private static final Object MISSING = new Object();

  private final MetadataStore store;
  private final String adminKey;
  private final Caller admin;
  private final long ttlNanos;
  private final int maxEntries;
  // One map per kind, keyed by the id itself: a lookup on a publish's path builds no key.
  private final ConcurrentHashMap<String, Cached> streams = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Cached> keys = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Cached> permissions = new ConcurrentHashMap<>();

  public MetadataAccess(MetadataStore store, String adminKey, StreamsSettings settings) {
    this.store = store;
    this.adminKey = adminKey;
    this.admin = new Caller(Optional.of(new KeyRecord(adminKey, "admin", true, null, 0)), true);
    this.ttlNanos = settings.accessCacheTtl.toNanos();
    this.maxEntries = settings.accessCacheSize;
  }

  /** Forgets cached decisions (after a permission, key or stream changed on this node). */
  public void invalidate() {
    streams.clear();
    keys.clear();
    permissions.clear();
  }

  /** The cached value of {@code id} if it has not expired at {@code now}, else {@link #MISSING}. */
  private static Object fresh(ConcurrentHashMap<String, Cached> cache, String id, long now) {
    Cached c = cache.get(id);
    return c != null && c.expiresAt() - now > 0 ? c.value() : MISSING;
  }

  @SuppressWarnings("unchecked")
  private <T> CompletionStage<T> cached(ConcurrentHashMap<String, Cached> cache, String id,
      java.util.function.Supplier<CompletionStage<T>> load) {
    Object v = fresh(cache, id, System.nanoTime());
    if (v != MISSING) {
      return CompletableFuture.completedFuture((T) v);
    }
    return load.get().thenApply(loaded -> {
      if (streams.size() + keys.size() + permissions.size() >= maxEntries) invalidate();
      cache.put(id, new Cached(loaded, System.nanoTime() + ttlNanos));
      return loaded;
    });
  }

  /** Resolves a key: empty for anonymous, a Caller, or null when the key is unknown. */
  public CompletionStage<Caller> caller(Optional<String> key) {
    if (key.isEmpty()) return CompletableFuture.completedFuture(Caller.ANONYMOUS);
    if (key.get().equals(adminKey)) return CompletableFuture.completedFuture(admin);
    return cached(keys, key.get(), () -> store.key(key.get())
        .thenApply(k -> k.map(r -> new Caller(Optional.of(r), r.admin())).orElse(null)));
  }

  /** The operations a caller holds on a stream. */
  public CompletionStage<Set<Op>> operations(Caller caller, String streamId) {
    if (caller.admin()) return CompletableFuture.completedFuture(EnumSet.allOf(Op.class));
    return cached(permissions, streamId, () -> store.permissions(streamId))
        .thenApply(perms -> operations(caller, perms));
  }

  private static Set<Op> operations(Caller caller, List<PermissionRecord> perms) {
    Set<Op> ops = EnumSet.noneOf(Op.class);
    for (PermissionRecord p : perms) {
      boolean mine = p.anonymous()
          || (caller.keyId().isPresent() && caller.keyId().get().equals(p.key()));
      if (mine) Op.of(p.operation()).ifPresent(ops::add);
    }
    return ops;
  }

  public CompletionStage<Optional<StreamRecord>> stream(String streamId) {
    return cached(streams, streamId, () -> store.stream(streamId));
  }

  @Override
  public CompletionStage<Decision> check(Optional<String> authKey, String streamId,
      Operation operation) {
    Op op = operation == Operation.READ ? Op.READ : Op.WRITE;
    Decision known = checkCached(authKey, streamId, op);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    return stream(streamId).thenCompose(s -> {
      if (s.isEmpty()) {
        return CompletableFuture.completedFuture(notFound(streamId));
      }
      StreamRecord stream = s.get();
      return caller(authKey).thenCompose(caller -> {
        if (caller == null) {
          return CompletableFuture.completedFuture(UNKNOWN_KEY);
        }
        return operations(caller, streamId).thenApply(ops -> decide(stream, caller, ops, op));
      });
    });
  }

  /**
   * The decision from cache entries that have not expired, without a future and a lambda per
   * step (a publish is checked each time; that chain of stages was among the largest things C2
   * compiled in a fresh node's first seconds); null when one of them must be loaded.
   */
  @SuppressWarnings("unchecked")
  private Decision checkCached(Optional<String> authKey, String streamId, Op op) {
    long now = System.nanoTime();
    Object s = fresh(streams, streamId, now);
    if (s == MISSING) return null;
    Optional<StreamRecord> stream = (Optional<StreamRecord>) s;
    if (stream.isEmpty()) return notFound(streamId);
    Caller caller;
    if (authKey.isEmpty()) {
      caller = Caller.ANONYMOUS;
    } else if (authKey.get().equals(adminKey)) {
      caller = admin;
    } else {
      Object k = fresh(keys, authKey.get(), now);
      if (k == MISSING) return null;
      caller = (Caller) k;
    }
    if (caller == null) return UNKNOWN_KEY;
    if (caller.admin()) return allowed(stream.get());
    Object perms = fresh(permissions, streamId, now);
    if (perms == MISSING) return null;
    return decide(stream.get(), caller, operations(caller, (List<PermissionRecord>) perms), op);
  }

  private static final Decision UNKNOWN_KEY = new Decision.Denied("unknown API key");

  private static Decision notFound(String streamId) {
    return new Decision.NotFound("stream " + streamId + " not found");
  }

  private static Decision allowed(StreamRecord stream) {
    return new Decision.Allowed(new StreamInfo(stream.id(), stream.partitions(), stream.ttlSeconds()));
  }

  private static Decision decide(StreamRecord stream, Caller caller, Set<Op> ops, Op op) {
    return ops.contains(op)
        ? allowed(stream)
        : new Decision.Denied((caller.key().isEmpty() ? "anonymous access has" : "the key has")
            + " no " + op.wire + " permission on stream " + stream.id());
  }
}
