package io.peernode.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.peernode.actors.streams.EventRange;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
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

  @Override
  protected String legacyEventsDdl() {
    return "CREATE TABLE stream_events (stream_id TEXT NOT NULL, part_no INTEGER NOT NULL,"
        + " event_offset INTEGER NOT NULL, prev_offset INTEGER, ts INTEGER NOT NULL,"
        + " ttl INTEGER NOT NULL, expires_at INTEGER NOT NULL, content TEXT NOT NULL,"
        + " PRIMARY KEY (stream_id, part_no, event_offset)) WITHOUT ROWID";
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
