package io.peernode.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.actors.streams.EventRange;
import io.peernode.actors.streams.StreamsSettings.Durability;
import io.peernode.protocol.streamr.StreamMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** What every EventStore backend must do; one subclass per backend supplies the URL. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EventStoreContract {

  protected ExecutorService blocking;
  protected ActorTestKit testKit;

  /** The JDBC URL of a fresh database for this class. */
  protected abstract String url();

  /** The table of the store's layout before batches: one row per event. */
  protected abstract String legacyEventsDdl();

  @BeforeAll
  void startCommon() {
    blocking = Executors.newFixedThreadPool(8);
    testKit = ActorTestKit.create(com.typesafe.config.ConfigFactory
        .parseString("akka.actor.provider = local"));
  }

  @AfterAll
  void stopCommon() {
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  protected JdbcEventStore open(Duration window) throws Exception {
    return JdbcEventStore.open(url(), Durability.FSYNC, window, 2000, blocking);
  }

  static String stream() {
    return UUID.randomUUID().toString();
  }

  static List<StreamMessage> events(String stream, int partition, long from, int n, long ts) {
    List<StreamMessage> out = new ArrayList<>();
    for (long o = from; o < from + n; o++) {
      out.add(new StreamMessage(stream, partition, ts + o, 60, o, o == 0 ? null : o - 1,
          "{\"n\":" + o + "}"));
    }
    return out;
  }

  static <T> T join(java.util.concurrent.CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void appendedEventsReadBackInOffsetOrder() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      assertEquals(0L, join(store.nextOffset(s, 0)));
      List<StreamMessage> written = events(s, 0, 0, 10, 1000);
      join(store.append(s, 0, written.subList(0, 4)));
      join(store.append(s, 0, written.subList(4, 10)));
      assertEquals(10L, join(store.nextOffset(s, 0)));
      assertEquals(written, join(store.read(s, 0, EventRange.all(), 100)));
      assertEquals(written.subList(3, 6), join(store.read(s, 0, EventRange.offsets(3, 5), 100)));
      assertEquals(written.subList(0, 2), join(store.read(s, 0, EventRange.all(), 2)));
      // by time: ts = 1000 + offset
      assertEquals(written.subList(7, 10),
          join(store.read(s, 0, EventRange.timestamps(1007, Long.MAX_VALUE), 100)));
      // other partitions are separate
      assertEquals(0L, join(store.nextOffset(s, 1)));
      assertTrue(join(store.read(s, 1, EventRange.all(), 100)).isEmpty());
    }
  }

  @Test
  void offsetsContinueAcrossReopen() throws Exception {
    String s = stream();
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      join(store.append(s, 2, events(s, 2, 0, 5, 1)));
    }
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      assertEquals(5L, join(store.nextOffset(s, 2)));
      assertEquals(5, join(store.read(s, 2, EventRange.all(), 100)).size());
    }
  }

  @Test
  void expiryDeletesEventsButKeepsTheNextOffset() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      // ttl 60 s, timestamps 1000+offset ms: all expired long ago
      join(store.append(s, 0, events(s, 0, 0, 3, 1000)));
      long now = System.currentTimeMillis();
      List<StreamMessage> fresh = List.of(new StreamMessage(s, 0, now, 60, 3, 2L, "{}"));
      join(store.append(s, 0, fresh));
      assertTrue(join(store.expire(now)) >= 3);
      assertEquals(fresh, join(store.read(s, 0, EventRange.all(), 100)));
      assertTrue(join(store.expire(now + 61_000)) >= 1);
      assertTrue(join(store.read(s, 0, EventRange.all(), 100)).isEmpty());
      assertEquals(4L, join(store.nextOffset(s, 0)), "next offset survives expiry");
    }
  }

  @Test
  void expiryOfManyEventsRunsInSlicesAndCountsThemAll() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      for (int from = 0; from < 25_000; from += 5_000) {
        join(store.append(s, 0, events(s, 0, from, 5_000, 1000)));
      }
      // other tests' events may expire too; at least ours must be counted
      assertTrue(join(store.expire(System.currentTimeMillis())) >= 25_000);
      assertTrue(join(store.read(s, 0, EventRange.all(), 10)).isEmpty());
      assertEquals(25_000L, join(store.nextOffset(s, 0)));
    }
  }

  @Test
  void appendsWithinTheWindowShareOneCommit() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(300))) {
      String s = stream();
      long before = store.commits();
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (int p = 0; p < 20; p++) {
        all.add(store.append(s, p, events(s, p, 0, 1, 1)).toCompletableFuture());
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).join();
      long commits = store.commits() - before;
      assertTrue(commits <= 2, "20 appends within 300 ms took " + commits + " commits");
      for (int p = 0; p < 20; p++) {
        assertEquals(1L, join(store.nextOffset(s, p)));
      }
    }
  }

  @Test
  void anOffsetIsNeverStoredTwiceAndOnlyTheBadAppendFails() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(200))) {
      String s = stream();
      join(store.append(s, 0, events(s, 0, 0, 2, 1)));
      CompletableFuture<?> dup = store.append(s, 0, events(s, 0, 1, 1, 99)).toCompletableFuture();
      CompletableFuture<?> good = store.append(s, 1, events(s, 1, 0, 1, 1)).toCompletableFuture();
      assertThrows(CompletionException.class, dup::join);
      good.join();
      assertEquals(2, join(store.read(s, 0, EventRange.all(), 100)).size());
      assertEquals(1, join(store.read(s, 1, EventRange.all(), 100)).size());
      assertEquals(2L, join(store.nextOffset(s, 0)));
    }
  }

  @Test
  void sourceReadsPageByPageInOrder() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      join(store.append(s, 0, events(s, 0, 0, 1234, 1)));
      ActorSystem<Void> system = testKit.system();
      List<Long> offsets = join(store.source(s, 0, EventRange.all(), 100)
          .map(StreamMessage::offset)
          .runWith(akka.stream.javadsl.Sink.seq(), system));
      assertEquals(1234, offsets.size());
      for (int i = 0; i < offsets.size(); i++) assertEquals(i, offsets.get(i));
      List<Long> range = join(store.source(s, 0, EventRange.offsets(1000, 1100), 30)
          .map(StreamMessage::offset).runWith(akka.stream.javadsl.Sink.seq(), system));
      assertEquals(101, range.size());
      assertEquals(List.of(1000L, 1100L), List.of(range.get(0), range.get(100)));
      assertTrue(join(store.source(s, 3, EventRange.all(), 30)
          .runWith(akka.stream.javadsl.Sink.seq(), system)).isEmpty());
    }
  }

  @Test
  void deleteStreamRemovesEventsOfAllPartitions() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      String other = stream();
      join(store.append(s, 0, events(s, 0, 0, 3, 1)));
      join(store.append(s, 1, events(s, 1, 0, 3, 1)));
      join(store.append(other, 0, events(other, 0, 0, 3, 1)));
      join(store.deleteStream(s));
      assertTrue(join(store.read(s, 0, EventRange.all(), 10)).isEmpty());
      assertTrue(join(store.read(s, 1, EventRange.all(), 10)).isEmpty());
      assertEquals(3, join(store.read(other, 0, EventRange.all(), 10)).size());
      assertEquals(List.of(0L, 1L, 2L), join(store.read(other, 0, EventRange.all(), 10))
          .stream().map(StreamMessage::offset).collect(Collectors.toList()));
    }
  }

  @Test
  void anOffsetBelowTheNextOneIsRefusedEvenAfterItsEventExpired() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      join(store.append(s, 0, events(s, 0, 0, 3, 1000))); // expired long ago
      assertTrue(join(store.expire(System.currentTimeMillis())) >= 3);
      CompletionException e = assertThrows(CompletionException.class,
          () -> join(store.append(s, 0, events(s, 0, 1, 2, System.currentTimeMillis()))));
      assertTrue(e.getCause() instanceof JdbcEventStore.OffsetTaken, e.getCause().toString());
      assertTrue(e.getCause().getMessage().contains("the next free offset is 3"),
          e.getCause().getMessage());
      assertEquals(3L, join(store.nextOffset(s, 0)));
      join(store.append(s, 0, events(s, 0, 3, 1, System.currentTimeMillis())));
      assertEquals(4L, join(store.nextOffset(s, 0)));
    }
  }

  @Test
  void expiryTakesOnlyTheExpiredEventsOfAnAppend() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      long now = System.currentTimeMillis();
      // one append, timestamps alternating between long ago and now (ttl 60 s)
      List<StreamMessage> mixed = new ArrayList<>();
      for (long o = 0; o < 10; o++) {
        mixed.add(new StreamMessage(s, 0, o % 2 == 0 ? 1000 + o : now, 60, o,
            o == 0 ? null : o - 1, "{\"n\":" + o + "}"));
      }
      join(store.append(s, 0, mixed));
      // other tests' events may expire too; at least ours must be counted
      assertTrue(join(store.expire(now)) >= 5);
      List<StreamMessage> fresh =
          mixed.stream().filter(m -> m.offset() % 2 == 1).collect(Collectors.toList());
      assertEquals(fresh, join(store.read(s, 0, EventRange.all(), 100)));
      assertEquals(fresh.subList(1, 3), join(store.read(s, 0, EventRange.offsets(2, 5), 100)));
      assertEquals(0, join(store.expire(now)), "a second pass finds nothing more to expire");
      assertEquals(fresh, join(store.read(s, 0, EventRange.all(), 100)));
      assertTrue(join(store.expire(now + 61_000)) >= 5);
      assertTrue(join(store.read(s, 0, EventRange.all(), 100)).isEmpty());
      assertEquals(10L, join(store.nextOffset(s, 0)));
    }
  }

  @Test
  void aLargeAppendIsStoredInSeveralRowsAndReadsBackWhole() throws Exception {
    try (JdbcEventStore store = open(Duration.ofMillis(1))) {
      String s = stream();
      List<StreamMessage> written = new ArrayList<>();
      for (long o = 0; o < 3000; o++) { // ~1.2 MB: many rows of max-batch-bytes
        written.add(new StreamMessage(s, 0, 1000 + o, 60, o, o == 0 ? null : o - 1,
            "{\"v\":\"caf\u00e9 " + "x".repeat(400) + o + "\"}"));
      }
      join(store.append(s, 0, written));
      assertEquals(3000L, join(store.nextOffset(s, 0)));
      assertEquals(written, join(store.read(s, 0, EventRange.all(), 5000)));
      assertEquals(written.subList(1234, 1734),
          join(store.read(s, 0, EventRange.offsets(1234, 2999), 500)));
      assertEquals(written.subList(2990, 3000),
          join(store.read(s, 0, EventRange.timestamps(1000 + 2990, Long.MAX_VALUE), 500)));
      List<Long> offsets = join(store.source(s, 0, EventRange.offsets(100, 2100), 333)
          .map(StreamMessage::offset).runWith(akka.stream.javadsl.Sink.seq(), testKit.system()));
      assertEquals(2001, offsets.size());
      for (int i = 0; i < offsets.size(); i++) assertEquals(100 + i, offsets.get(i));
    }
  }

  /** A database written by a node that stored one row per event is read by this one. */
  @Test
  void eventsStoredOnePerRowMoveIntoBatchesAtOpen() throws Exception {
    String a = stream();
    String b = stream();
    String expired = stream();
    List<StreamMessage> written = new ArrayList<>();
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url());
        java.sql.Statement st = c.createStatement()) {
      c.setAutoCommit(false);
      st.execute(legacyEventsDdl());
      try (java.sql.PreparedStatement ins = c.prepareStatement(
              "INSERT INTO stream_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
          java.sql.PreparedStatement next = c.prepareStatement(
              "INSERT INTO stream_partitions VALUES (?, ?, ?)")) {
        for (String stream : List.of(a, b)) {
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
            next.setString(1, stream);
            next.setInt(2, part);
            next.setLong(3, 1500);
            next.addBatch();
          }
        }
        next.setString(1, expired); // a partition whose events have all expired
        next.setInt(2, 0);
        next.setLong(3, 7);
        next.addBatch();
        ins.executeBatch();
        next.executeBatch();
      }
      c.commit();
    }
    for (int open = 0; open < 2; open++) { // the second open finds nothing left to move
      try (JdbcEventStore store = open(Duration.ofMillis(1))) {
        for (String stream : List.of(a, b)) {
          for (int part = 0; part < 2; part++) {
            final int p = part;
            List<StreamMessage> expected = written.stream()
                .filter(m -> m.streamId().equals(stream) && m.partition() == p)
                .collect(Collectors.toList());
            assertEquals(expected, join(store.read(stream, part, EventRange.all(), 2000)));
            assertEquals(1500L, join(store.nextOffset(stream, part)));
          }
        }
        if (open == 0) {
          assertEquals(7L, join(store.nextOffset(expired, 0)));
          join(store.append(expired, 0, events(expired, 0, 7, 1, 1)));
        } else {
          assertEquals(8L, join(store.nextOffset(expired, 0)));
          assertEquals(events(expired, 0, 7, 1, 1), join(store.read(expired, 0, EventRange.all(), 10)));
        }
      }
    }
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(url());
        java.sql.ResultSet rs = c.getMetaData().getTables(null, c.getSchema(), "stream_events", null)) {
      assertTrue(!rs.next(), "the table of single events is gone");
    }
  }
}
