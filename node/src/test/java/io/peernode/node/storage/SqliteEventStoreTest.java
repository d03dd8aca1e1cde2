package io.peernode.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.peernode.actors.streams.EventRange;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded store: SQLite in a temp data dir. */
class SqliteEventStoreTest extends EventStoreContract {

  private Path dir;

  @BeforeAll
  void createDir() throws Exception {
    dir = Files.createTempDirectory("sqlite-store");
  }

  @Override
  protected String url() {
    return "jdbc:sqlite:" + dir.resolve("streams.db");
  }

  /** A data dir written by a node that stored one row per event is read by this one. */
  @Test
  void eventsStoredOnePerRowMoveIntoBatchesAtOpen() throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("legacy.db");
    List<StreamMessage> written = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      // the schema of the store before batches
      s.execute("CREATE TABLE stream_events (stream_id TEXT NOT NULL, part_no INTEGER NOT NULL,"
          + " event_offset INTEGER NOT NULL, prev_offset INTEGER, ts INTEGER NOT NULL,"
          + " ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL, content TEXT NOT NULL,"
          + " PRIMARY KEY (stream_id, part_no, event_offset)) WITHOUT ROWID");
      s.execute("CREATE INDEX stream_events_expiry ON stream_events (expires_at)");
      s.execute("CREATE TABLE stream_partitions (stream_id TEXT NOT NULL,"
          + " part_no INTEGER NOT NULL, next_offset INTEGER NOT NULL,"
          + " PRIMARY KEY (stream_id, part_no)) WITHOUT ROWID");
      try (PreparedStatement ins = c.prepareStatement(
          "INSERT INTO stream_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (String stream : List.of("a", "b")) {
          for (int part = 0; part < 2; part++) {
            for (long o = 0; o < 1500; o++) {
              StreamMessage m = new StreamMessage(stream, part, 1000 + o, 60, o,
                  o == 0 ? null : o - 1, "{\"n\":\"\u00e9" + o + "\"}");
              written.add(m);
              ins.setString(1, stream);
              ins.setInt(2, part);
              ins.setLong(3, o);
              if (o == 0) ins.setNull(4, java.sql.Types.BIGINT); else ins.setLong(4, o - 1);
              ins.setLong(5, m.timestamp());
              ins.setInt(6, 60);
              ins.setLong(7, m.expiresAt());
              ins.setString(8, m.content());
              ins.addBatch();
            }
          }
        }
        ins.executeBatch();
      }
      s.execute("INSERT INTO stream_partitions VALUES ('a', 0, 1500), ('a', 1, 1500),"
          + " ('b', 0, 1500), ('b', 1, 1500), ('c', 0, 7)");
      c.commit();
    }
    for (int open = 0; open < 2; open++) { // the second open finds nothing left to move
      try (JdbcEventStore store = open(url)) {
        for (String stream : List.of("a", "b")) {
          for (int part = 0; part < 2; part++) {
            final int p = part;
            List<StreamMessage> expected = written.stream()
                .filter(m -> m.streamId().equals(stream) && m.partition() == p)
                .collect(java.util.stream.Collectors.toList());
            assertEquals(expected, join(store.read(stream, part, EventRange.all(), 2000)));
            assertEquals(1500L, join(store.nextOffset(stream, part)));
          }
        }
        if (open == 0) {
          assertEquals(7L, join(store.nextOffset("c", 0)), "a partition whose events expired");
          join(store.append("c", 0, events("c", 0, 7, 1, 1)));
        } else {
          assertEquals(8L, join(store.nextOffset("c", 0)));
          assertEquals(events("c", 0, 7, 1, 1), join(store.read("c", 0, EventRange.all(), 10)));
        }
      }
    }
    try (Connection c = DriverManager.getConnection(url);
        ResultSet rs = c.getMetaData().getTables(null, null, "stream_events", null)) {
      assertFalse(rs.next(), "the table of single events is gone");
    }
  }

  /** A row that does not decode fails its reads clearly and loses nothing else. */
  @Test
  void aCorruptStoredBatchFailsItsReadsClearlyAndExpiryGoesOn() throws Exception {
    String url = "jdbc:sqlite:" + dir.resolve("corrupt.db");
    long now = System.currentTimeMillis();
    try (JdbcEventStore store = open(url)) {
      join(store.append("ok", 0, events("ok", 0, 0, 3, 1000))); // expired
      join(store.append("ok", 1, events("ok", 1, 0, 3, now))); // not expired
      join(store.append("bad", 0, List.of(
          new StreamMessage("bad", 0, 1000, 60, 0, null, "{}"),
          new StreamMessage("bad", 0, now, 60, 1, 0L, "{}"))));
    }
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement p = c.prepareStatement(
            "UPDATE stream_batches SET events = ? WHERE stream_id = 'bad'")) {
      p.setBytes(1, new byte[] {1, 2, 0, 0, 0}); // two events announced, the bytes end
      assertEquals(1, p.executeUpdate());
    }
    try (JdbcEventStore store = open(url)) {
      java.util.concurrent.CompletionException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.CompletionException.class,
          () -> join(store.read("bad", 0, EventRange.all(), 10)));
      org.junit.jupiter.api.Assertions.assertTrue(
          e.getCause().getMessage().contains("stream bad partition 0 is corrupt"),
          e.getCause().getMessage());
      assertEquals(3, join(store.expire(now)), "the other batches expire as before");
      assertEquals(events("ok", 1, 0, 3, now), join(store.read("ok", 1, EventRange.all(), 10)));
      assertEquals(2L, join(store.nextOffset("bad", 0)));
      assertEquals(5, join(store.expire(now + 61_000)),
          "ok/1's 3, and the corrupt batch's 2 once all of them have expired (no decoding)");
      org.junit.jupiter.api.Assertions.assertTrue(
          join(store.read("bad", 0, EventRange.all(), 10)).isEmpty());
    }
  }

  private JdbcEventStore open(String url) throws Exception {
    return JdbcEventStore.open(url, io.peernode.actors.streams.StreamsSettings.Durability.FSYNC,
        Duration.ofMillis(1), 2000, blocking);
  }
}
