package io.peernode.node.storage;

import io.peernode.actors.streams.StreamsSettings.Durability;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * What differs between the SQL engines the stores run on. Column names avoid {@code offset}
 * and {@code partition}, reserved or awkward in some of them.
 */
enum SqlDialect {
  SQLITE(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_events (stream_id TEXT NOT NULL, part_no INTEGER NOT NULL,"
              + " event_offset INTEGER NOT NULL, prev_offset INTEGER, ts INTEGER NOT NULL,"
              + " ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL, content TEXT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no, event_offset)) WITHOUT ROWID",
          "CREATE INDEX IF NOT EXISTS stream_events_expiry ON stream_events (expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no)) WITHOUT ROWID"),
      "INSERT INTO stream_partitions (stream_id, part_no, next_offset) VALUES (?, ?, ?)"
          + " ON CONFLICT (stream_id, part_no) DO UPDATE SET"
          + " next_offset = max(stream_partitions.next_offset, excluded.next_offset)"),
  POSTGRES(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_events (stream_id TEXT NOT NULL, part_no INTEGER NOT NULL,"
              + " event_offset BIGINT NOT NULL, prev_offset BIGINT, ts BIGINT NOT NULL,"
              + " ttl INTEGER NOT NULL, expires_at BIGINT NOT NULL, content TEXT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no, event_offset))",
          "CREATE INDEX IF NOT EXISTS stream_events_expiry ON stream_events (expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no))"),
      "INSERT INTO stream_partitions (stream_id, part_no, next_offset) VALUES (?, ?, ?)"
          + " ON CONFLICT (stream_id, part_no) DO UPDATE SET"
          + " next_offset = GREATEST(stream_partitions.next_offset, excluded.next_offset)"),
  /** Only measured against (see storage.md), not offered as a store. */
  H2(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_events (stream_id VARCHAR NOT NULL, part_no INTEGER NOT NULL,"
              + " event_offset BIGINT NOT NULL, prev_offset BIGINT, ts BIGINT NOT NULL,"
              + " ttl INTEGER NOT NULL, expires_at BIGINT NOT NULL, content VARCHAR NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no, event_offset))",
          "CREATE INDEX IF NOT EXISTS stream_events_expiry ON stream_events (expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id VARCHAR NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no))"),
      "MERGE INTO stream_partitions (stream_id, part_no, next_offset) KEY (stream_id, part_no)"
          + " VALUES (?, ?, ?)");

  final List<String> schema;
  final String upsertNextOffset;

  SqlDialect(List<String> schema, String upsertNextOffset) {
    this.schema = schema;
    this.upsertNextOffset = upsertNextOffset;
  }

  /** Session settings of the writer connection for the durability asked for. */
  void configureWriter(Connection c, Durability durability) throws SQLException {
    try (Statement s = c.createStatement()) {
      switch (this) {
        case SQLITE:
          // WAL: readers never block the writer. FULL fsyncs the WAL on every commit;
          // NORMAL fsyncs only at checkpoints (durable against a process crash, not power loss).
          s.execute("PRAGMA journal_mode=WAL");
          s.execute("PRAGMA synchronous=" + (durability == Durability.FSYNC ? "FULL" : "NORMAL"));
          s.execute("PRAGMA busy_timeout=10000");
          break;
        case POSTGRES:
          s.execute("SET synchronous_commit = " + (durability == Durability.FSYNC ? "on" : "off"));
          break;
        case H2:
          break;
        default:
          throw new AssertionError(this);
      }
    }
  }

  void configureReader(Connection c) throws SQLException {
    if (this == SQLITE) {
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA busy_timeout=10000");
      }
    }
  }

  /**
   * Runs after each commit. H2 commits to the OS only; an explicit {@code CHECKPOINT SYNC}
   * is what makes it fsync (that is how it was measured).
   */
  void afterCommit(Connection c, Durability durability) throws SQLException {
    if (this == H2 && durability == Durability.FSYNC) {
      try (Statement s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
      }
    }
  }

  static SqlDialect of(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:sqlite:")) return SQLITE;
    if (jdbcUrl.startsWith("jdbc:postgresql:")) return POSTGRES;
    if (jdbcUrl.startsWith("jdbc:h2:")) return H2;
    throw new IllegalArgumentException(
        "unsupported database URL '" + jdbcUrl + "' (expected jdbc:postgresql://... or jdbc:sqlite:...)");
  }
}
