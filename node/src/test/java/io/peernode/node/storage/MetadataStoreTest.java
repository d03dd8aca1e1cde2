package io.peernode.node.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Streams, keys and permissions survive a reopen of the embedded database. */
class MetadataStoreTest {

  static ExecutorService blocking;
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    blocking = Executors.newFixedThreadPool(2);
    dir = Files.createTempDirectory("meta");
  }

  @AfterAll
  static void stop() {
    blocking.shutdownNow();
  }

  static <T> T join(java.util.concurrent.CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void streamsKeysAndPermissionsOnSqlite() throws Exception {
    streamsKeysAndPermissions("jdbc:sqlite:" + dir.resolve("streams.db"));
  }

  @Test
  void streamsKeysAndPermissionsOnPostgres() throws Exception {
    TestPostgres pg = TestPostgres.start();
    if (pg == null) {
      System.err.println("SKIPPING MetadataStoreTest on PostgreSQL: "
          + TestPostgres.unavailableReason);
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(pg != null,
        () -> "SKIPPED LOUDLY: " + TestPostgres.unavailableReason);
    try {
      streamsKeysAndPermissions(pg.jdbcUrl());
    } finally {
      pg.close();
    }
  }

  void streamsKeysAndPermissions(String url) throws Exception {
    try (JdbcMetadataStore m = new JdbcMetadataStore(url, blocking)) {
      StreamRecord s = new StreamRecord("s1", "temps", "", "{}", 2, 60, "k1", 1, 1);
      join(m.createStream(s));
      join(m.createStream(new StreamRecord("s2", "other", "d", "{}", 1, 60, "k1", 2, 2)));
      assertEquals(Optional.of(s), join(m.stream("s1")));
      assertEquals(List.of(s), join(m.streams(Optional.of("temps"))));
      assertEquals(2, join(m.streams(Optional.empty())).size());
      StreamRecord renamed = new StreamRecord("s1", "temps2", "x", "{\"a\":1}", 3, 60, "k1", 1, 5);
      assertTrue(join(m.updateStream(renamed)));
      join(m.createKey(new KeyRecord("k1", "owner", false, null, 1)));
      join(m.createKey(new KeyRecord("k2", "stream key", false, "s1", 2)));
      PermissionRecord read = join(m.grant("s1", "read", "k1"));
      join(m.grant("s1", "write", "k1"));
      join(m.grant("s1", "share", "k1"));
      assertEquals(read, join(m.grant("s1", "read", "k1")), "granting twice is one permission");
      PermissionRecord anon = join(m.grant("s1", "read", null));
      assertTrue(anon.anonymous());
      assertEquals(4, join(m.permissions("s1")).size());
      assertTrue(join(m.revoke("s1", anon.id())));
      assertFalse(join(m.revoke("s1", anon.id())));
    }
    try (JdbcMetadataStore m = new JdbcMetadataStore(url, blocking)) {
      assertEquals("temps2", join(m.stream("s1")).get().name());
      assertEquals(List.of("read", "share", "write"), join(m.permissions("s1")).stream()
          .map(PermissionRecord::operation).collect(Collectors.toList()));
      assertEquals(List.of("k1"), join(m.keys()).stream().map(KeyRecord::key)
          .collect(Collectors.toList()));
      assertTrue(join(m.deleteStream("s1")));
      assertTrue(join(m.permissions("s1")).isEmpty());
      assertTrue(join(m.key("k2")).isEmpty(), "stream keys go with their stream");
      assertTrue(join(m.stream("s1")).isEmpty());
      assertTrue(join(m.deleteKey("k1")));
    }
  }

  @Test
  void replicatedChangesApplyWhileTheEventStoreCommitsToTheSameSqliteFile() throws Exception {
    // Both stores share <data-dir>/streams.db. A replicated change reads its row's version
    // before it writes: it must wait for the event store's write lock, never fail with BUSY.
    String url = "jdbc:sqlite:" + dir.resolve("shared.db");
    try (JdbcMetadataStore m = new JdbcMetadataStore(url, blocking);
        JdbcEventStore events = JdbcEventStore.open(url,
            io.peernode.actors.streams.StreamsSettings.Durability.OS,
            java.time.Duration.ofMillis(1), 100, blocking)) {
      java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.CompletableFuture<Long> appender =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long offset = 0;
            while (!done.get() && offset < 1_000_000) {
              join(events.append("busy", 0, List.of(new io.peernode.protocol.streamr.StreamMessage(
                  "busy", 0, offset, 60, offset, offset == 0 ? null : offset - 1, "{}"))));
              offset++;
            }
            return offset;
          });
      try {
        for (int i = 0; i < 300; i++) {
          StreamRecord s = new StreamRecord("r" + i, "replicated", "", "{}", 1, 60, "k1", i, i);
          assertTrue(join(m.applyStream(
              new JdbcMetadataStore.Replicated("stream", s.id(), i + 1, false, null), s)));
        }
      } finally {
        done.set(true);
      }
      assertTrue(appender.get(60, java.util.concurrent.TimeUnit.SECONDS) > 0, "events were committed meanwhile");
      assertEquals(300, join(m.streams(Optional.of("replicated"))).size());
    }
  }
}
