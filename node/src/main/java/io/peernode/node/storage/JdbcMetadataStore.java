package io.peernode.node.storage;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Streams, API keys and stream permissions of the data API, in the same database as the events
 * (SQLite in the data dir, or the shared PostgreSQL). Metadata changes are rare, so one
 * connection, used by one operation at a time on the blocking executor, is enough.
 */
public final class JdbcMetadataStore implements MetadataStore {

  /** A stream as stored; {@code config} is JSON text. */
  public record StreamRecord(String id, String name, String description, String config,
      int partitions, int ttlSeconds, String owner, long created, long updated) {}

  /**
   * An API key. {@code admin} keys may do everything; a stream key ({@code streamId} set)
   * holds one permission on one stream.
   */
  public record KeyRecord(String key, String name, boolean admin, String streamId, long created) {}

  /** One permission: a key, or anyone ({@code key} null, anonymous), may do {@code operation}. */
  public record PermissionRecord(long id, String streamId, String operation, String key) {
    public boolean anonymous() {
      return key == null;
    }
  }

  private static final List<String> SCHEMA = List.of(
      "CREATE TABLE IF NOT EXISTS streams (id VARCHAR(64) PRIMARY KEY, name TEXT NOT NULL,"
          + " description TEXT NOT NULL, config TEXT NOT NULL, partitions INTEGER NOT NULL,"
          + " ttl INTEGER NOT NULL, owner TEXT, created BIGINT NOT NULL, updated BIGINT NOT NULL)",
      "CREATE INDEX IF NOT EXISTS streams_name ON streams (name)",
      "CREATE TABLE IF NOT EXISTS api_keys (api_key VARCHAR(128) PRIMARY KEY, name TEXT NOT NULL,"
          + " admin INTEGER NOT NULL, stream_id VARCHAR(64), created BIGINT NOT NULL)",
      "CREATE TABLE IF NOT EXISTS stream_permissions (id BIGINT PRIMARY KEY,"
          + " stream_id VARCHAR(64) NOT NULL, operation VARCHAR(16) NOT NULL, api_key VARCHAR(128))",
      "CREATE INDEX IF NOT EXISTS stream_permissions_stream ON stream_permissions (stream_id)",
      // Replicated mode (embedded store in a cluster): the version of each stream, key and
      // permission, kept also for deleted ones (tombstones), and each stream's home node.
      "CREATE TABLE IF NOT EXISTS replicated_metadata (kind VARCHAR(16) NOT NULL,"
          + " id VARCHAR(128) NOT NULL, version BIGINT NOT NULL, deleted INTEGER NOT NULL,"
          + " home VARCHAR(64), PRIMARY KEY (kind, id))");

  private final String url;
  private final Executor blocking;
  private final SecureRandom random = new SecureRandom();
  private Connection connection;

  public JdbcMetadataStore(String url, Executor blocking) throws SQLException {
    this.url = url;
    this.blocking = blocking;
    this.connection = connect();
    try (Statement s = connection.createStatement()) {
      for (String ddl : SCHEMA) {
        s.execute(ddl);
      }
    }
  }

  private Connection connect() throws SQLException {
    boolean sqlite = url.startsWith("jdbc:sqlite:");
    java.util.Properties props = new java.util.Properties();
    if (sqlite) {
      // A transaction here reads (the version it may overwrite) before it writes. Begun deferred,
      // its upgrade to a writer fails at once (SQLITE_BUSY, no busy wait) whenever the event
      // store committed meanwhile; begun immediate, it waits for the write lock up front.
      props.setProperty("transaction_mode", "IMMEDIATE");
    }
    Connection c = DriverManager.getConnection(url, props);
    if (sqlite) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA busy_timeout=10000");
      }
    }
    c.setAutoCommit(true);
    return c;
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> CompletionStage<T> run(Work<T> work) {
    return CompletableFuture.supplyAsync(() -> {
      synchronized (this) {
        try {
          if (connection == null || connection.isClosed() || !connection.isValid(2)) {
            connection = connect();
          }
          return work.run(connection);
        } catch (SQLException e) {
          throw new CompletionException(e);
        }
      }
    }, blocking);
  }

  /** A random id safe in JavaScript numbers (53 bits). */
  private long newId() {
    return (random.nextLong() >>> 11) & ((1L << 53) - 1);
  }

  /** A new secret key: 256 random bits, URL-safe base64. */
  public String newKeySecret() {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  // ---- streams --------------------------------------------------------------------------------

  public CompletionStage<StreamRecord> createStream(StreamRecord s) {
    return run(c -> {
      insertStream(c, s);
      return s;
    });
  }

  public CompletionStage<Optional<StreamRecord>> stream(String id) {
    return run(c -> {
      List<StreamRecord> found = queryStreams(c, "SELECT * FROM streams WHERE id = ?", id);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    });
  }

  /** All streams, or those with exactly this name. */
  public CompletionStage<List<StreamRecord>> streams(Optional<String> name) {
    return run(c -> name.isPresent()
        ? queryStreams(c, "SELECT * FROM streams WHERE name = ? ORDER BY created", name.get())
        : queryStreams(c, "SELECT * FROM streams ORDER BY created"));
  }

  public CompletionStage<Boolean> updateStream(StreamRecord s) {
    return run(c -> {
      try (PreparedStatement p = c.prepareStatement("UPDATE streams SET name = ?, description = ?,"
          + " config = ?, partitions = ?, ttl = ?, updated = ? WHERE id = ?")) {
        p.setString(1, s.name());
        p.setString(2, s.description());
        p.setString(3, s.config());
        p.setInt(4, s.partitions());
        p.setInt(5, s.ttlSeconds());
        p.setLong(6, s.updated());
        p.setString(7, s.id());
        return p.executeUpdate() == 1;
      }
    });
  }

  /** Deletes the stream, its permissions and its stream keys (its events are the event store's). */
  public CompletionStage<Boolean> deleteStream(String id) {
    return run(c -> {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        int n = update(c, "DELETE FROM streams WHERE id = ?", id);
        update(c, "DELETE FROM stream_permissions WHERE stream_id = ?", id);
        update(c, "DELETE FROM api_keys WHERE stream_id = ?", id);
        c.commit();
        return n == 1;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    });
  }

  private static List<StreamRecord> queryStreams(Connection c, String sql, String... args)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) p.setString(i + 1, args[i]);
      List<StreamRecord> out = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(new StreamRecord(rs.getString("id"), rs.getString("name"),
              rs.getString("description"), rs.getString("config"), rs.getInt("partitions"),
              rs.getInt("ttl"), rs.getString("owner"), rs.getLong("created"),
              rs.getLong("updated")));
        }
      }
      return out;
    }
  }

  private static int update(Connection c, String sql, String arg) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(sql)) {
      p.setString(1, arg);
      return p.executeUpdate();
    }
  }

  // ---- keys -----------------------------------------------------------------------------------

  public CompletionStage<KeyRecord> createKey(KeyRecord k) {
    return run(c -> {
      insertKey(c, k);
      return k;
    });
  }

  public CompletionStage<Optional<KeyRecord>> key(String key) {
    return run(c -> {
      List<KeyRecord> found = queryKeys(c, "SELECT * FROM api_keys WHERE api_key = ?", key);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    });
  }

  /** Keys that are not stream keys. */
  public CompletionStage<List<KeyRecord>> keys() {
    return run(c -> queryKeys(c,
        "SELECT * FROM api_keys WHERE stream_id IS NULL ORDER BY created"));
  }

  public CompletionStage<Boolean> deleteKey(String key) {
    return run(c -> {
      update(c, "DELETE FROM stream_permissions WHERE api_key = ?", key);
      return update(c, "DELETE FROM api_keys WHERE api_key = ?", key) == 1;
    });
  }

  private static List<KeyRecord> queryKeys(Connection c, String sql, String... args)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) p.setString(i + 1, args[i]);
      List<KeyRecord> out = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(new KeyRecord(rs.getString("api_key"), rs.getString("name"),
              rs.getInt("admin") != 0, rs.getString("stream_id"), rs.getLong("created")));
        }
      }
      return out;
    }
  }

  // ---- permissions ----------------------------------------------------------------------------

  /** Grants {@code operation} on a stream to a key, or to anyone when {@code key} is null. */
  public CompletionStage<PermissionRecord> grant(String streamId, String operation, String key) {
    return run(c -> {
      // Granting what is already granted returns the existing permission.
      for (PermissionRecord p : queryPermissions(c, streamId)) {
        if (p.operation().equals(operation) && java.util.Objects.equals(p.key(), key)) {
          return p;
        }
      }
      PermissionRecord p = new PermissionRecord(newId(), streamId, operation, key);
      insertPermission(c, p);
      return p;
    });
  }

  public CompletionStage<List<PermissionRecord>> permissions(String streamId) {
    return run(c -> queryPermissions(c, streamId));
  }

  public CompletionStage<Boolean> revoke(String streamId, long permissionId) {
    return run(c -> {
      try (PreparedStatement p = c.prepareStatement(
          "DELETE FROM stream_permissions WHERE stream_id = ? AND id = ?")) {
        p.setString(1, streamId);
        p.setLong(2, permissionId);
        return p.executeUpdate() == 1;
      }
    });
  }

  private static List<PermissionRecord> queryPermissions(Connection c, String streamId)
      throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT id, stream_id, operation, api_key"
        + " FROM stream_permissions WHERE stream_id = ? ORDER BY operation, id")) {
      p.setString(1, streamId);
      List<PermissionRecord> out = new ArrayList<>();
      try (ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(new PermissionRecord(rs.getLong(1), rs.getString(2), rs.getString(3),
              rs.getString(4)));
        }
      }
      return out;
    }
  }

  // ---- replicated mode ------------------------------------------------------------------------

  /** The version of a stream, key or permission as replicated; {@code home} only for streams. */
  public record Replicated(String kind, String id, long version, boolean deleted, String home) {}

  public CompletionStage<List<Replicated>> replicated() {
    return run(c -> {
      List<Replicated> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "SELECT kind, id, version, deleted, home FROM replicated_metadata");
          ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(new Replicated(rs.getString(1), rs.getString(2), rs.getLong(3),
              rs.getInt(4) != 0, rs.getString(5)));
        }
      }
      return out;
    });
  }

  /** Every key, stream keys included. */
  public CompletionStage<List<KeyRecord>> allKeys() {
    return run(c -> queryKeys(c, "SELECT * FROM api_keys ORDER BY created"));
  }

  /** Every permission of every stream. */
  public CompletionStage<List<PermissionRecord>> allPermissions() {
    return run(c -> {
      List<PermissionRecord> out = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "SELECT id, stream_id, operation, api_key FROM stream_permissions");
          ResultSet rs = p.executeQuery()) {
        while (rs.next()) {
          out.add(new PermissionRecord(rs.getLong(1), rs.getString(2), rs.getString(3),
              rs.getString(4)));
        }
      }
      return out;
    });
  }

  private interface Apply {
    void run(Connection c) throws SQLException;
  }

  /**
   * Applies a replicated change unless this store already has a newer version of it; true when
   * applied. The row and its version change in one transaction.
   */
  private CompletionStage<Boolean> applyReplicated(Replicated r, Apply change) {
    return run(c -> {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try {
        try (PreparedStatement p = c.prepareStatement(
            "SELECT version FROM replicated_metadata WHERE kind = ? AND id = ?")) {
          p.setString(1, r.kind());
          p.setString(2, r.id());
          try (ResultSet rs = p.executeQuery()) {
            if (rs.next() && rs.getLong(1) > r.version()) {
              c.rollback();
              return false;
            }
          }
        }
        change.run(c);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO replicated_metadata"
            + " (kind, id, version, deleted, home) VALUES (?,?,?,?,?) ON CONFLICT (kind, id)"
            + " DO UPDATE SET version = excluded.version, deleted = excluded.deleted,"
            + " home = excluded.home")) {
          p.setString(1, r.kind());
          p.setString(2, r.id());
          p.setLong(3, r.version());
          p.setInt(4, r.deleted() ? 1 : 0);
          p.setString(5, r.home());
          p.executeUpdate();
        }
        c.commit();
        return true;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    });
  }

  /** Stores (or, when {@code s} is null, deletes with its permissions and keys) a stream. */
  public CompletionStage<Boolean> applyStream(Replicated r, StreamRecord s) {
    return applyReplicated(r, c -> {
      update(c, "DELETE FROM streams WHERE id = ?", r.id());
      if (s == null) {
        update(c, "DELETE FROM stream_permissions WHERE stream_id = ?", r.id());
        update(c, "DELETE FROM api_keys WHERE stream_id = ?", r.id());
        return;
      }
      insertStream(c, s);
    });
  }

  /** Stores (or, when {@code k} is null, deletes with its permissions) a key. */
  public CompletionStage<Boolean> applyKey(Replicated r, KeyRecord k) {
    return applyReplicated(r, c -> {
      update(c, "DELETE FROM api_keys WHERE api_key = ?", r.id());
      if (k == null) {
        update(c, "DELETE FROM stream_permissions WHERE api_key = ?", r.id());
        return;
      }
      insertKey(c, k);
    });
  }

  /** Stores (or, when {@code perm} is null, deletes) a permission. */
  public CompletionStage<Boolean> applyPermission(Replicated r, PermissionRecord perm) {
    return applyReplicated(r, c -> {
      try (PreparedStatement p = c.prepareStatement("DELETE FROM stream_permissions WHERE id = ?")) {
        p.setLong(1, Long.parseLong(r.id()));
        p.executeUpdate();
      }
      if (perm == null) {
        return;
      }
      insertPermission(c, perm);
    });
  }

  private static void insertStream(Connection c, StreamRecord s) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("INSERT INTO streams (id, name, description,"
        + " config, partitions, ttl, owner, created, updated) VALUES (?,?,?,?,?,?,?,?,?)")) {
      p.setString(1, s.id());
      p.setString(2, s.name());
      p.setString(3, s.description());
      p.setString(4, s.config());
      p.setInt(5, s.partitions());
      p.setInt(6, s.ttlSeconds());
      p.setString(7, s.owner());
      p.setLong(8, s.created());
      p.setLong(9, s.updated());
      p.executeUpdate();
    }
  }

  private static void insertKey(Connection c, KeyRecord k) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "INSERT INTO api_keys (api_key, name, admin, stream_id, created) VALUES (?,?,?,?,?)")) {
      p.setString(1, k.key());
      p.setString(2, k.name());
      p.setInt(3, k.admin() ? 1 : 0);
      p.setString(4, k.streamId());
      p.setLong(5, k.created());
      p.executeUpdate();
    }
  }

  private static void insertPermission(Connection c, PermissionRecord perm) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO stream_permissions"
        + " (id, stream_id, operation, api_key) VALUES (?,?,?,?)")) {
      s.setLong(1, perm.id());
      s.setString(2, perm.streamId());
      s.setString(3, perm.operation());
      if (perm.key() == null) {
        s.setNull(4, Types.VARCHAR);
      } else {
        s.setString(4, perm.key());
      }
      s.executeUpdate();
    }
  }

  @Override
  public synchronized void close() {
    try {
      if (connection != null) connection.close();
    } catch (SQLException ignored) {
      // closing; nothing to do
    }
  }
}
