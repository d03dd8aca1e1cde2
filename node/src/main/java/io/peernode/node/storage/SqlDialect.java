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
  // Events are stored a batch (one append) per row, see EventBatch; each partition's next
  // offset is kept apart from them (stream_partitions), so that expiry cannot lose it. SQLite
  // keeps the batches in a rowid table with the key as an index: a row of kilobytes is past
  // what its WITHOUT ROWID tables are meant for.
  SQLITE(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_batches (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, first_offset INTEGER NOT NULL,"
              + " last_offset INTEGER NOT NULL, event_count INTEGER NOT NULL,"
              + " min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,"
              + " min_expires_at INTEGER NOT NULL, max_expires_at INTEGER NOT NULL,"
              + " events BLOB NOT NULL)",
          "CREATE UNIQUE INDEX IF NOT EXISTS stream_batches_key"
              + " ON stream_batches (stream_id, part_no, last_offset)",
          "CREATE INDEX IF NOT EXISTS stream_batches_expiry ON stream_batches (min_expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no)) WITHOUT ROWID")),
  POSTGRES(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_batches (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, first_offset BIGINT NOT NULL,"
              + " last_offset BIGINT NOT NULL, event_count INTEGER NOT NULL,"
              + " min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL,"
              + " min_expires_at BIGINT NOT NULL, max_expires_at BIGINT NOT NULL,"
              + " events BYTEA NOT NULL, PRIMARY KEY (stream_id, part_no, last_offset))",
          "CREATE INDEX IF NOT EXISTS stream_batches_expiry ON stream_batches (min_expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id TEXT NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no))")),
  /** Only measured against (see storage.md), not offered as a store. */
  H2(
      List.of(
          "CREATE TABLE IF NOT EXISTS stream_batches (stream_id VARCHAR NOT NULL,"
              + " part_no INTEGER NOT NULL, first_offset BIGINT NOT NULL,"
              + " last_offset BIGINT NOT NULL, event_count INTEGER NOT NULL,"
              + " min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL,"
              + " min_expires_at BIGINT NOT NULL, max_expires_at BIGINT NOT NULL,"
              + " events BLOB NOT NULL, PRIMARY KEY (stream_id, part_no, last_offset))",
          "CREATE INDEX IF NOT EXISTS stream_batches_expiry ON stream_batches (min_expires_at)",
          "CREATE TABLE IF NOT EXISTS stream_partitions (stream_id VARCHAR NOT NULL,"
              + " part_no INTEGER NOT NULL, next_offset BIGINT NOT NULL,"
              + " PRIMARY KEY (stream_id, part_no))"));

  /** Events stored one per row, before batches (read once to move them into batches). */
  static final String LEGACY_EVENTS = "stream_events";

  final List<String> schema;

  SqlDialect(List<String> schema) {
    this.schema = schema;
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
