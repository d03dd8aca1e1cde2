package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.peernode.protocol.sync.SyncMessage.Action;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls with the client's tree cache: a local file the client pulled (or hashed) and that is
 * unchanged since is not read again; any change of size, mtime or identity makes it hash the file,
 * and a damaged cache never breaks a pull.
 */
class SyncTreeCacheTest {

  static final int BS = 4096;
  static ActorTestKit kit;
  static SyncServer.Binding server;
  static Path root;
  static SyncSettings client;
  @TempDir static Path tmp;
  static int counter;

  @BeforeAll
  static void start() throws Exception {
    kit = SyncTestSupport.testKit("sync-tree-cache");
    root = Files.createDirectories(tmp.resolve("root"));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), new CollectorRegistry());
    client = SyncTestSupport.settings(kit, root,
        "client.tree-cache.dir = \"" + tmp.resolve("cache").toString().replace("\\", "/") + "\"");
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
  }

  record Case(String name, Path remote, Path local) {}

  static Case newCase(byte[] remote) throws Exception {
    String name = "c" + (++counter) + ".bin";
    Files.write(root.resolve(name), remote);
    return new Case(name, root.resolve(name), tmp.resolve("local-" + counter + ".bin"));
  }

  static SyncResult pull(Case c, SyncSettings s) throws Exception {
    SyncResult r = await(SyncClient.run(kit.system(), s, Action.PULL, "127.0.0.1", server.port(),
        c.name(), c.local(), BS, null));
    assertArrayEquals(Files.readAllBytes(c.remote()), Files.readAllBytes(c.local()), "the local copy is the server's");
    return r;
  }

  /** Rewrites {@code blocks} of the server's copy with other bytes (same size). */
  static void changeRemote(Case c, int seed, int... blocks) throws Exception {
    byte[] b = Files.readAllBytes(c.remote());
    byte[] fresh = bytes(BS, seed);
    for (int j : blocks) {
      System.arraycopy(fresh, 0, b, j * BS, Math.min(BS, b.length - j * BS));
    }
    Files.write(c.remote(), b);
  }

  @Test
  void aPulledFileIsNotHashedAgainByTheNextPull() throws Exception {
    Case c = newCase(bytes(40 * BS + 123, 1));
    SyncResult first = pull(c, client);
    assertFalse(first.localTreeCached(), "nothing to take a tree from yet");
    changeRemote(c, 2, 3, 17);
    SyncResult second = pull(c, client);
    assertTrue(second.localTreeCached(), "the tree recorded at the first pull's commit");
    assertEquals(2, second.blocksTransferred());
    changeRemote(c, 3, 40);
    SyncResult third = pull(c, client);
    assertTrue(third.localTreeCached(), "the second pull recorded the tree of what it committed");
    assertEquals(1, third.blocksTransferred());
  }

  @Test
  void aHashedLocalFileIsRecordedToo() throws Exception {
    byte[] data = bytes(10 * BS, 4);
    Case c = newCase(data);
    Files.write(c.local(), data);
    Files.setLastModifiedTime(c.local(), FileTime.from(Instant.now().minusSeconds(60)));
    SyncResult first = pull(c, client);
    assertFalse(first.localTreeCached());
    assertEquals(0, first.blocksTransferred());
    changeRemote(c, 5, 9);
    SyncResult second = pull(c, client);
    assertTrue(second.localTreeCached(), "the first pull recorded the tree it hashed");
    assertEquals(1, second.blocksTransferred());
  }

  @Test
  void sameSizeOtherBytesAndATouchedMtimeIsHashedAgain() throws Exception {
    Case c = newCase(bytes(20 * BS, 6));
    pull(c, client);
    byte[] local = Files.readAllBytes(c.local());
    FileTime mtime = Files.getLastModifiedTime(c.local());
    local[5 * BS] ^= 1;
    Files.write(c.local(), local); // in place: same inode, same size
    Files.setLastModifiedTime(c.local(), FileTime.from(mtime.toInstant().plusSeconds(1)));
    SyncResult r = pull(c, client);
    assertFalse(r.localTreeCached(), "the mtime changed");
    assertEquals(1, r.blocksTransferred());
  }

  @Test
  void aFileReplacedByRenameIsHashedAgainEvenWithTheOldMtime() throws Exception {
    Case c = newCase(bytes(20 * BS, 7));
    pull(c, client);
    byte[] local = Files.readAllBytes(c.local());
    FileTime mtime = Files.getLastModifiedTime(c.local());
    local[2 * BS] ^= 1;
    Path other = tmp.resolve("replacement-" + counter);
    Files.write(other, local);
    Files.setLastModifiedTime(other, mtime); // only the identity (inode) tells it apart
    Files.move(other, c.local(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    SyncResult r = pull(c, client);
    assertFalse(r.localTreeCached(), "another inode");
    assertEquals(1, r.blocksTransferred());
  }

  @Test
  void aFileRewrittenWithItsMtimePutBackIsCaughtByTheSpotCheck() throws Exception {
    Case c = newCase(bytes(20 * BS + 10, 8));
    pull(c, client);
    byte[] local = Files.readAllBytes(c.local());
    FileTime mtime = Files.getLastModifiedTime(c.local());
    local[local.length - 1] ^= 1; // the last block is one the spot check reads
    Files.write(c.local(), local);
    Files.setLastModifiedTime(c.local(), mtime);
    SyncResult r = pull(c, client);
    assertFalse(r.localTreeCached());
    assertEquals(1, r.blocksTransferred());
  }

  @Test
  void aDamagedCacheIsIgnoredWithALogLineAndThePullSucceeds() throws Exception {
    Case c = newCase(bytes(12 * BS, 9));
    pull(c, client);
    try (Stream<Path> s = Files.list(tmp.resolve("cache"))) {
      for (Path p : s.toList()) {
        Files.write(p, "not a tree".getBytes());
      }
    }
    var root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    List<String> warnings = new CopyOnWriteArrayList<>();
    var appender = new ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent>() {
      @Override
      protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
        if (e.getLevel() == ch.qos.logback.classic.Level.WARN) {
          warnings.add(e.getFormattedMessage());
        }
      }
    };
    appender.start();
    root.addAppender(appender);
    try {
      changeRemote(c, 10, 0);
      SyncResult r = pull(c, client);
      assertFalse(r.localTreeCached());
      assertEquals(1, r.blocksTransferred());
      assertTrue(warnings.stream().anyMatch(w -> w.contains("tree cache") && w.contains("damaged")), warnings.toString());
    } finally {
      root.detachAppender(appender);
    }
    changeRemote(c, 11, 1);
    assertTrue(pull(c, client).localTreeCached(), "the pull after it recorded a sound entry");
  }

  @Test
  void offMeansNoEntriesAndEveryPullHashes() throws Exception {
    Path dir = tmp.resolve("cache-off");
    SyncSettings off = SyncTestSupport.settings(kit, root, "client.tree-cache.enabled = off\n"
        + "client.tree-cache.dir = \"" + dir.toString().replace("\\", "/") + "\"");
    Case c = newCase(bytes(8 * BS, 12));
    pull(c, off);
    changeRemote(c, 13, 2);
    assertFalse(pull(c, off).localTreeCached());
    assertFalse(Files.exists(dir));
  }
}
