package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.peernode.actors.streams.StreamAccess.Decision;
import io.peernode.actors.streams.StreamAccess.Operation;
import io.peernode.actors.streams.StreamAccess.StreamInfo;
import io.peernode.actors.streams.StreamsSettings;
import io.peernode.node.storage.JdbcMetadataStore;
import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import io.peernode.node.testkit.Eventually;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permission decisions on the embedded metadata store: the same answer whether it is loaded or
 * comes from the cache, and from the cache only while its entries are fresh.
 */
class MetadataAccessTest {

  @TempDir
  Path dir;

  private ExecutorService blocking;
  private JdbcMetadataStore store;

  @BeforeEach
  void open() throws Exception {
    blocking = Executors.newFixedThreadPool(2);
    store = new JdbcMetadataStore("jdbc:sqlite:" + dir.resolve("meta.db"), blocking);
    join(store.createStream(new StreamRecord("s1", "temps", "", "{}", 2, 60, "owner", 1, 1)));
    join(store.createKey(new KeyRecord("writer", "writes", false, null, 1)));
    join(store.grant("s1", "write", "writer"));
    join(store.grant("s1", "read", null)); // anyone may read
  }

  @AfterEach
  void close() throws Exception {
    store.close();
    blocking.shutdownNow();
  }

  private static <T> T join(java.util.concurrent.CompletionStage<T> s) {
    return s.toCompletableFuture().join();
  }

  private MetadataAccess access(Duration ttl) {
    return new MetadataAccess(store, "admin-key", new StreamsSettings(ConfigFactory
        .parseString("peer.streams.access-cache-ttl = " + ttl.toMillis() + " ms")
        .withFallback(ConfigFactory.load())));
  }

  private static final Decision ALLOWED = new Decision.Allowed(new StreamInfo("s1", 2, 60));

  @Test
  void decisionsAreTheSameLoadedAndCached() {
    MetadataAccess access = access(Duration.ofMinutes(1));
    Object[][] cases = {
        {Optional.of("admin-key"), "s1", Operation.WRITE, ALLOWED},
        {Optional.of("admin-key"), "s1", Operation.READ, ALLOWED},
        {Optional.of("writer"), "s1", Operation.WRITE, ALLOWED},
        {Optional.of("writer"), "s1", Operation.READ, ALLOWED},
        {Optional.empty(), "s1", Operation.READ, ALLOWED},
        {Optional.empty(), "s1", Operation.WRITE,
            new Decision.Denied("anonymous access has no write permission on stream s1")},
        {Optional.of("nobody"), "s1", Operation.READ, new Decision.Denied("unknown API key")},
        {Optional.of("admin-key"), "s9", Operation.READ, new Decision.NotFound("stream s9 not found")},
        {Optional.of("writer"), "s9", Operation.WRITE, new Decision.NotFound("stream s9 not found")},
    };
    for (int pass = 0; pass < 2; pass++) {
      for (Object[] c : cases) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Decision> d = access.check((Optional<String>) c[0], (String) c[1],
            (Operation) c[2]).toCompletableFuture();
        assertEquals(c[3], d.join(), "pass " + pass + ": " + c[0] + " " + c[2] + " " + c[1]);
        if (pass == 1) {
          assertTrue(d.isDone(), "cached: answered at once, without a round through the store");
        }
      }
    }
  }

  @Test
  void aKeyWithoutThePermissionIsDeniedWithWhatItLacks() throws Exception {
    join(store.createKey(new KeyRecord("reader", "reads", false, null, 1)));
    MetadataAccess access = access(Duration.ofMinutes(1));
    // Anonymous read is granted, so the reader reads; it may not write.
    for (int pass = 0; pass < 2; pass++) {
      assertEquals(new Decision.Denied("the key has no write permission on stream s1"),
          join(access.check(Optional.of("reader"), "s1", Operation.WRITE)));
    }
  }

  @Test
  void aRevokedPermissionBitesOnceTheCacheEntryExpiresOrIsInvalidated() throws Exception {
    PermissionRecord write = join(store.permissions("s1")).stream()
        .filter(p -> p.operation().equals("write")).findFirst().orElseThrow();
    MetadataAccess longLived = access(Duration.ofMinutes(1));
    MetadataAccess shortLived = access(Duration.ofMillis(200));
    assertEquals(ALLOWED, join(longLived.check(Optional.of("writer"), "s1", Operation.WRITE)));
    assertEquals(ALLOWED, join(shortLived.check(Optional.of("writer"), "s1", Operation.WRITE)));
    assertTrue(join(store.revoke("s1", write.id())));
    Decision denied = new Decision.Denied("the key has no write permission on stream s1");
    assertEquals(ALLOWED, join(longLived.check(Optional.of("writer"), "s1", Operation.WRITE)),
        "within the ttl the cached decision stands");
    Eventually.await(Duration.ofSeconds(10), () -> assertEquals(denied,
        join(shortLived.check(Optional.of("writer"), "s1", Operation.WRITE))));
    longLived.invalidate();
    assertEquals(denied, join(longLived.check(Optional.of("writer"), "s1", Operation.WRITE)));
  }
}
