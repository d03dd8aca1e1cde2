package io.peernode.node.streamr;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ddata.Key;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.LWWMapKey;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.typesafe.config.Config;
import io.peernode.actors.JsonSerializable;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.actors.streams.PartitionHomes;
import io.peernode.node.storage.JdbcMetadataStore;
import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.Replicated;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import io.peernode.node.storage.MetadataStore;
import io.peernode.protocol.NodeId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams, API keys and permissions on every node of a cluster whose nodes each have their own
 * embedded store: three Akka Distributed Data {@link LWWMap}s (streams, keys, permissions, by
 * id), mirrored into this node's SQLite ({@link JdbcMetadataStore}), which serves every read.
 *
 * <p>Each value carries a version (milliseconds, above the previous version of the same id) that
 * is also its last-writer-wins clock, so a stale value never replaces a newer one, whichever node
 * gossips it and when. A delete writes a tombstone (a value with {@code deleted}), never removes
 * the id: a node that was down, restarted from its SQLite copy, re-gossips its old values and
 * they lose to the tombstone. Writes go to a majority ({@code peer.streams.metadata.write-timeout}),
 * then on (the change is on this node and spreads by gossip). A restarted node serves its SQLite
 * copy at once and puts it back into the replicated maps.
 *
 * <p>Also the {@link PartitionHomes} of the cluster: a stream's home is the node that created it.
 */
public final class ReplicatedMetadata implements MetadataStore, PartitionHomes {

  private static final Logger log = LoggerFactory.getLogger(ReplicatedMetadata.class);

  static final Key<LWWMap<String, StreamEntry>> STREAMS = LWWMapKey.create("streamr-streams");
  static final Key<LWWMap<String, KeyEntry>> KEYS = LWWMapKey.create("streamr-keys");
  static final Key<LWWMap<String, PermissionEntry>> PERMISSIONS =
      LWWMapKey.create("streamr-permissions");

  static final String STREAM = "stream";
  static final String KEY = "key";
  static final String PERMISSION = "permission";

  /** A replicated value: its version (LWW clock) and whether it is a tombstone. */
  interface Entry extends JsonSerializable {
    long version();

    boolean deleted();
  }

  /** A stream, or its tombstone, with its home node. */
  public static final class StreamEntry implements Entry {
    public final String id;
    public final String name;
    public final String description;
    public final String config;
    public final int partitions;
    public final int ttl;
    public final String owner;
    public final long created;
    public final long updated;
    /** Hex id of the home node: its embedded store holds the stream's history. */
    public final String home;
    public final long version;
    public final boolean deleted;

    @JsonCreator
    public StreamEntry(@JsonProperty("id") String id, @JsonProperty("name") String name,
        @JsonProperty("description") String description, @JsonProperty("config") String config,
        @JsonProperty("partitions") int partitions, @JsonProperty("ttl") int ttl,
        @JsonProperty("owner") String owner, @JsonProperty("created") long created,
        @JsonProperty("updated") long updated, @JsonProperty("home") String home,
        @JsonProperty("version") long version, @JsonProperty("deleted") boolean deleted) {
      this.id = id;
      this.name = name;
      this.description = description;
      this.config = config;
      this.partitions = partitions;
      this.ttl = ttl;
      this.owner = owner;
      this.created = created;
      this.updated = updated;
      this.home = home;
      this.version = version;
      this.deleted = deleted;
    }

    static StreamEntry of(StreamRecord s, String home, long version) {
      return new StreamEntry(s.id(), s.name(), s.description(), s.config(), s.partitions(),
          s.ttlSeconds(), s.owner(), s.created(), s.updated(), home, version, false);
    }

    public StreamEntry tombstone(long version) {
      return new StreamEntry(id, name, description, config, partitions, ttl, owner, created,
          updated, home, version, true);
    }

    StreamRecord record() {
      return new StreamRecord(id, name, description, config, partitions, ttl, owner, created,
          updated);
    }

    @Override
    public long version() {
      return version;
    }

    @Override
    public boolean deleted() {
      return deleted;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof StreamEntry && ((StreamEntry) o).record().equals(record())
          && Objects.equals(((StreamEntry) o).home, home) && ((StreamEntry) o).version == version
          && ((StreamEntry) o).deleted == deleted;
    }

    @Override
    public int hashCode() {
      return Objects.hash(id, version, deleted);
    }
  }

  /** An API key, or its tombstone. */
  public static final class KeyEntry implements Entry {
    public final String key;
    public final String name;
    public final boolean admin;
    public final String streamId;
    public final long created;
    public final long version;
    public final boolean deleted;

    @JsonCreator
    public KeyEntry(@JsonProperty("key") String key, @JsonProperty("name") String name,
        @JsonProperty("admin") boolean admin, @JsonProperty("streamId") String streamId,
        @JsonProperty("created") long created, @JsonProperty("version") long version,
        @JsonProperty("deleted") boolean deleted) {
      this.key = key;
      this.name = name;
      this.admin = admin;
      this.streamId = streamId;
      this.created = created;
      this.version = version;
      this.deleted = deleted;
    }

    static KeyEntry of(KeyRecord k, long version) {
      return new KeyEntry(k.key(), k.name(), k.admin(), k.streamId(), k.created(), version, false);
    }

    KeyEntry tombstone(long version) {
      return new KeyEntry(key, name, admin, streamId, created, version, true);
    }

    KeyRecord record() {
      return new KeyRecord(key, name, admin, streamId, created);
    }

    @Override
    public long version() {
      return version;
    }

    @Override
    public boolean deleted() {
      return deleted;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof KeyEntry && ((KeyEntry) o).record().equals(record())
          && ((KeyEntry) o).version == version && ((KeyEntry) o).deleted == deleted;
    }

    @Override
    public int hashCode() {
      return Objects.hash(key, version, deleted);
    }
  }

  /** A stream permission, or its tombstone. */
  public static final class PermissionEntry implements Entry {
    public final long id;
    public final String streamId;
    public final String operation;
    /** The key holding it; null for anonymous. */
    public final String apiKey;
    public final long version;
    public final boolean deleted;

    @JsonCreator
    public PermissionEntry(@JsonProperty("id") long id, @JsonProperty("streamId") String streamId,
        @JsonProperty("operation") String operation, @JsonProperty("apiKey") String apiKey,
        @JsonProperty("version") long version, @JsonProperty("deleted") boolean deleted) {
      this.id = id;
      this.streamId = streamId;
      this.operation = operation;
      this.apiKey = apiKey;
      this.version = version;
      this.deleted = deleted;
    }

    static PermissionEntry of(PermissionRecord p, long version) {
      return new PermissionEntry(p.id(), p.streamId(), p.operation(), p.key(), version, false);
    }

    PermissionEntry tombstone(long version) {
      return new PermissionEntry(id, streamId, operation, apiKey, version, true);
    }

    PermissionRecord record() {
      return new PermissionRecord(id, streamId, operation, apiKey);
    }

    @Override
    public long version() {
      return version;
    }

    @Override
    public boolean deleted() {
      return deleted;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PermissionEntry && ((PermissionEntry) o).record().equals(record())
          && ((PermissionEntry) o).version == version && ((PermissionEntry) o).deleted == deleted;
    }

    @Override
    public int hashCode() {
      return Objects.hash(id, version, deleted);
    }
  }

  private final ActorSystem<?> system;
  private final JdbcMetadataStore local;
  private final NodeId self;
  private final SelfUniqueAddress selfAddress;
  private final ActorRef<Replicator.Command> replicator;
  private final Duration writeTimeout;
  private final Duration readTimeout;
  /** The latest entry of each id ({@code kind|id}) this node has applied. */
  private final ConcurrentHashMap<String, Entry> applied = new ConcurrentHashMap<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();
  private final Consumer<String> onStreamDeleted;

  private ReplicatedMetadata(ActorSystem<?> system, JdbcMetadataStore local, NodeId self,
      Config config, Consumer<String> onStreamDeleted) {
    this.system = system;
    this.local = local;
    this.self = self;
    this.selfAddress = DistributedData.get(system).selfUniqueAddress();
    this.replicator = DistributedData.get(system).replicator();
    this.writeTimeout = config.getDuration("peer.streams.metadata.write-timeout");
    this.readTimeout = config.getDuration("peer.streams.metadata.read-timeout");
    this.onStreamDeleted = onStreamDeleted;
  }

  /**
   * Loads this node's copy (metadata stored before replication existed becomes this node's, with
   * this node as home), puts it into the replicated maps and starts mirroring changes.
   *
   * @param onStreamDeleted called with a stream's id when its deletion reaches this node (to
   *     delete its stored events here)
   */
  public static ReplicatedMetadata start(ActorSystem<?> system, JdbcMetadataStore local,
      Config config, Consumer<String> onStreamDeleted) {
    akka.cluster.Cluster cluster =
        akka.cluster.Cluster.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
    // A PeerNode always has its node-<id> role; a bare ActorSystem (tests, embedding) has
    // none: its streams get no home, and its partitions are not pinned (see isPinning).
    NodeId self = NodeRoles.nodeIdOf(cluster.selfMember()).orElse(null);
    ReplicatedMetadata m = new ReplicatedMetadata(system, local, self, config, onStreamDeleted);
    m.load().toCompletableFuture().join();
    system.systemActorOf(m.mirror(), "streamr-metadata-mirror", Props.empty());
    return m;
  }

  /** Whether partitions are placed on their home nodes (this node has a node id). */
  public boolean isPinning() {
    return self != null;
  }

  /** Called after a change from another node reached this node's copy. */
  public void onChange(Runnable listener) {
    changeListeners.add(listener);
  }

  // ---- loading and mirroring ------------------------------------------------------------------

  private CompletionStage<Void> load() {
    return local.replicated().thenCompose(rows -> local.streams(Optional.empty())
        .thenCompose(streams -> local.allKeys()
            .thenCompose(keys -> local.allPermissions().thenApply(perms -> {
              Map<String, Replicated> byId = new HashMap<>();
              rows.forEach(r -> byId.put(r.kind() + "|" + r.id(), r));
              Map<String, StreamEntry> s = new HashMap<>();
              Map<String, KeyEntry> k = new HashMap<>();
              Map<String, PermissionEntry> p = new HashMap<>();
              for (StreamRecord r : streams) {
                Replicated v = byId.remove(STREAM + "|" + r.id());
                s.put(r.id(), StreamEntry.of(r, v == null ? selfHex() : v.home(),
                    v == null ? Math.max(1, r.updated()) : v.version()));
              }
              for (KeyRecord r : keys) {
                Replicated v = byId.remove(KEY + "|" + r.key());
                k.put(r.key(), KeyEntry.of(r, v == null ? Math.max(1, r.created()) : v.version()));
              }
              for (PermissionRecord r : perms) {
                Replicated v = byId.remove(PERMISSION + "|" + r.id());
                p.put(Long.toString(r.id()), PermissionEntry.of(r, v == null ? 1 : v.version()));
              }
              // What is left are tombstones.
              for (Replicated v : byId.values()) {
                if (!v.deleted()) continue;
                switch (v.kind()) {
                  case STREAM -> s.put(v.id(), new StreamEntry(v.id(), "", "", "{}", 1, 1, null,
                      0, 0, v.home(), v.version(), true));
                  case KEY -> k.put(v.id(), new KeyEntry(v.id(), "", false, null, 0, v.version(),
                      true));
                  case PERMISSION -> p.put(v.id(), new PermissionEntry(Long.parseLong(v.id()), "",
                      "", null, v.version(), true));
                  default -> { }
                }
              }
              s.forEach((id, e) -> applied.put(STREAM + "|" + id, e));
              k.forEach((id, e) -> applied.put(KEY + "|" + id, e));
              p.forEach((id, e) -> applied.put(PERMISSION + "|" + id, e));
              putAll(STREAMS, s);
              putAll(KEYS, k);
              putAll(PERMISSIONS, p);
              return null;
            }))));
  }

  /** Puts entries into a replicated map (locally; gossip spreads them), newer versions only. */
  private <E extends Entry> void putAll(Key<LWWMap<String, E>> key, Map<String, E> entries) {
    if (entries.isEmpty()) return;
    replicator.tell(new Replicator.Update<>(key, LWWMap.create(), Replicator.writeLocal(),
        system.ignoreRef(), map -> {
          LWWMap<String, E> m = map;
          for (Map.Entry<String, E> e : entries.entrySet()) {
            m = putIfNewer(m, e.getKey(), e.getValue());
          }
          return m;
        }));
  }

  private <E extends Entry> LWWMap<String, E> putIfNewer(LWWMap<String, E> map, String id, E e) {
    scala.Option<E> current = map.get(id);
    if (current.isDefined() && current.get().version() >= e.version()) {
      return map;
    }
    long version = e.version();
    return map.put(selfAddress, id, e, (currentTimestamp, value) -> version);
  }

  /** Subscribes to the three maps and applies what changed to this node's copy. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private Behavior<Object> mirror() {
    return Behaviors.setup(ctx -> {
      ActorRef self = ctx.getSelf();
      replicator.tell(new Replicator.Subscribe<>(STREAMS, self));
      replicator.tell(new Replicator.Subscribe<>(KEYS, self));
      replicator.tell(new Replicator.Subscribe<>(PERMISSIONS, self));
      return Behaviors.receive(Object.class)
          .onMessage(Replicator.Changed.class, changed -> {
            Object key = changed.key();
            LWWMap<String, Entry> map = (LWWMap<String, Entry>) changed.dataValue();
            String kind = key.equals(STREAMS) ? STREAM : key.equals(KEYS) ? KEY : PERMISSION;
            for (Map.Entry<String, Entry> e : map.getEntries().entrySet()) {
              Entry seen = applied.get(kind + "|" + e.getKey());
              if (seen == null || (!seen.equals(e.getValue())
                  && e.getValue().version() >= seen.version())) {
                applyLocally(kind, e.getKey(), e.getValue(), true);
              }
            }
            return Behaviors.same();
          })
          .onAnyMessage(m -> Behaviors.same())
          .build();
    });
  }

  /** Stores an entry in this node's copy (unless it has a newer one). */
  private CompletionStage<Boolean> applyLocally(String kind, String id, Entry e, boolean remote) {
    applied.merge(kind + "|" + id, e, (old, now) -> now.version() >= old.version() ? now : old);
    CompletionStage<Boolean> done;
    switch (kind) {
      case STREAM -> {
        StreamEntry s = (StreamEntry) e;
        done = local.applyStream(new Replicated(kind, id, s.version, s.deleted, s.home),
            s.deleted ? null : s.record());
      }
      case KEY -> {
        KeyEntry k = (KeyEntry) e;
        done = local.applyKey(new Replicated(kind, id, k.version, k.deleted, null),
            k.deleted ? null : k.record());
      }
      default -> {
        PermissionEntry p = (PermissionEntry) e;
        done = local.applyPermission(new Replicated(kind, id, p.version, p.deleted, null),
            p.deleted ? null : p.record());
      }
    }
    return done.whenComplete((applied, failure) -> {
      if (failure != null) {
        log.warn("could not store replicated {} {} on this node: {}", kind, id,
            failure.toString());
        return;
      }
      if (remote && applied) {
        if (kind.equals(STREAM) && e.deleted()) {
          onStreamDeleted.accept(id);
        }
        changeListeners.forEach(Runnable::run);
      }
    });
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** A version above any this node has seen for the id, from the clock when possible. */
  private long nextVersion(String kind, String id) {
    Entry seen = applied.get(kind + "|" + id);
    return Math.max(System.currentTimeMillis(), seen == null ? 0 : seen.version() + 1);
  }

  /** Replicates to a majority (or until the write timeout), then stores on this node. */
  private <E extends Entry> CompletionStage<Boolean> write(Key<LWWMap<String, E>> key,
      String kind, String id, E entry) {
    CompletionStage<Replicator.UpdateResponse<LWWMap<String, E>>> reply = AskPattern.ask(
        replicator,
        replyTo -> new Replicator.Update<>(key, LWWMap.create(),
            new Replicator.WriteMajority(writeTimeout), replyTo,
            map -> putIfNewer(map, id, entry)),
        writeTimeout.plusSeconds(2), system.scheduler());
    return reply.handle((r, failure) -> {
      if (failure != null || !(r instanceof Replicator.UpdateSuccess)) {
        log.info("{} {}: not confirmed by a majority of nodes ({}); stored here, spreading by"
            + " gossip", kind, id, failure != null ? failure.toString() : r.getClass().getSimpleName());
      }
      return null;
    }).thenCompose(x -> applyLocally(kind, id, entry, false));
  }

  private static <T> CompletionStage<T> done(T value) {
    return CompletableFuture.completedFuture(value);
  }

  @Override
  public String newKeySecret() {
    return local.newKeySecret();
  }

  @Override
  public CompletionStage<StreamRecord> createStream(StreamRecord s) {
    return write(STREAMS, STREAM, s.id(),
        StreamEntry.of(s, selfHex(), nextVersion(STREAM, s.id()))).thenApply(x -> s);
  }

  @Override
  public CompletionStage<Boolean> updateStream(StreamRecord s) {
    Entry seen = applied.get(STREAM + "|" + s.id());
    if (!(seen instanceof StreamEntry) || seen.deleted()) return done(false);
    return write(STREAMS, STREAM, s.id(), StreamEntry.of(s, ((StreamEntry) seen).home,
        nextVersion(STREAM, s.id()))).thenApply(x -> true);
  }

  @Override
  public CompletionStage<Boolean> deleteStream(String id) {
    Entry seen = applied.get(STREAM + "|" + id);
    if (!(seen instanceof StreamEntry) || seen.deleted()) return done(false);
    // Its permissions and stream keys go with it, each with its own tombstone.
    return local.permissions(id).thenCompose(perms -> local.allKeys().thenCompose(keys -> {
      List<CompletableFuture<Boolean>> all = new ArrayList<>();
      for (PermissionRecord p : perms) {
        all.add(revokeEntry(p).toCompletableFuture());
      }
      for (KeyRecord k : keys) {
        if (id.equals(k.streamId())) all.add(deleteKeyEntry(k).toCompletableFuture());
      }
      return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
    })).thenCompose(x -> write(STREAMS, STREAM, id,
        ((StreamEntry) seen).tombstone(nextVersion(STREAM, id)))).thenApply(x -> true);
  }

  @Override
  public CompletionStage<KeyRecord> createKey(KeyRecord k) {
    return write(KEYS, KEY, k.key(), KeyEntry.of(k, nextVersion(KEY, k.key())))
        .thenApply(x -> k);
  }

  @Override
  public CompletionStage<Boolean> deleteKey(String key) {
    return local.key(key).thenCompose(k -> k.isEmpty() ? done(false)
        : local.allPermissions().thenCompose(perms -> {
          List<CompletableFuture<Boolean>> all = new ArrayList<>();
          for (PermissionRecord p : perms) {
            if (key.equals(p.key())) all.add(revokeEntry(p).toCompletableFuture());
          }
          return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
        }).thenCompose(x -> deleteKeyEntry(k.get())).thenApply(x -> true));
  }

  private CompletionStage<Boolean> deleteKeyEntry(KeyRecord k) {
    return write(KEYS, KEY, k.key(), KeyEntry.of(k, 0).tombstone(nextVersion(KEY, k.key())));
  }

  /**
   * The id of a permission is derived from what it grants, so the same grant made on two nodes
   * at once is one permission, and granting again after a revoke revives it.
   */
  static long permissionId(String streamId, String operation, String key) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((streamId + "\n" + operation + "\n"
          + (key == null ? "" : "key:" + key)).getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) v = (v << 8) | (h[i] & 0xff);
      return (v >>> 11) & ((1L << 53) - 1); // safe in JavaScript numbers
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always there", e);
    }
  }

  @Override
  public CompletionStage<PermissionRecord> grant(String streamId, String operation, String key) {
    return local.permissions(streamId).thenCompose(perms -> {
      for (PermissionRecord p : perms) {
        if (p.operation().equals(operation) && Objects.equals(p.key(), key)) {
          return done(p);
        }
      }
      PermissionRecord p = new PermissionRecord(permissionId(streamId, operation, key), streamId,
          operation, key);
      String id = Long.toString(p.id());
      return write(PERMISSIONS, PERMISSION, id, PermissionEntry.of(p, nextVersion(PERMISSION, id)))
          .thenApply(x -> p);
    });
  }

  @Override
  public CompletionStage<Boolean> revoke(String streamId, long permissionId) {
    return local.permissions(streamId).thenCompose(perms -> {
      for (PermissionRecord p : perms) {
        if (p.id() == permissionId) return revokeEntry(p).thenApply(x -> true);
      }
      return done(false);
    });
  }

  private CompletionStage<Boolean> revokeEntry(PermissionRecord p) {
    String id = Long.toString(p.id());
    return write(PERMISSIONS, PERMISSION, id,
        PermissionEntry.of(p, 0).tombstone(nextVersion(PERMISSION, id)));
  }

  // ---- reads: this node's copy ----------------------------------------------------------------

  @Override
  public CompletionStage<Optional<StreamRecord>> stream(String id) {
    return local.stream(id);
  }

  @Override
  public CompletionStage<List<StreamRecord>> streams(Optional<String> name) {
    return local.streams(name);
  }

  @Override
  public CompletionStage<Optional<KeyRecord>> key(String key) {
    return local.key(key);
  }

  @Override
  public CompletionStage<List<KeyRecord>> keys() {
    return local.keys();
  }

  @Override
  public CompletionStage<List<PermissionRecord>> permissions(String streamId) {
    return local.permissions(streamId);
  }

  @Override
  public void close() {
    local.close();
  }

  // ---- homes ----------------------------------------------------------------------------------

  private String selfHex() {
    return self == null ? null : self.hex();
  }

  @Override
  public NodeId self() {
    return self;
  }

  @Override
  public Optional<NodeId> homeOf(String streamId) {
    Entry e = applied.get(STREAM + "|" + streamId);
    return e == null || e.deleted() ? Optional.empty() : homeIn((StreamEntry) e);
  }

  private static Optional<NodeId> homeIn(StreamEntry e) {
    return e.home != null && NodeId.isValid(e.home) ? Optional.of(NodeId.parse(e.home))
        : Optional.empty();
  }

  @Override
  public CompletionStage<Optional<NodeId>> lookup(String streamId) {
    Optional<NodeId> known = homeOf(streamId);
    if (known.isPresent()) return done(known);
    CompletionStage<Replicator.GetResponse<LWWMap<String, StreamEntry>>> reply = AskPattern.ask(
        replicator, replyTo -> new Replicator.Get<>(STREAMS,
            new Replicator.ReadMajority(readTimeout), replyTo),
        readTimeout.plusSeconds(2), system.scheduler());
    return reply.thenApply(r -> {
      if (r instanceof Replicator.GetSuccess) {
        scala.Option<StreamEntry> e =
            ((Replicator.GetSuccess<LWWMap<String, StreamEntry>>) r).dataValue().get(streamId);
        if (e.isDefined() && !e.get().deleted) return homeIn(e.get());
      }
      return Optional.<NodeId>empty();
    });
  }
}
