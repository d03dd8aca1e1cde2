package io.peernode.actors.sync;

import static io.peernode.actors.sync.SyncTestSupport.await;
import static io.peernode.actors.sync.SyncTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Pull and push through the Java client against a real server on 127.0.0.1, port 0. */
class SyncTransferTest {

  static final int KB = 1024;
  static ActorTestKit kit;
  static SyncServer.Binding server;
  static Path root;
  static CollectorRegistry registry = new CollectorRegistry();
  @TempDir static Path tmp;
  static int counter;

  @BeforeAll
  static void start() throws Exception {
    kit = SyncTestSupport.testKit("sync-transfer");
    registry = new CollectorRegistry(); // a subclass's run may have used the last one
    root = Files.createDirectories(tmp.resolve("root"));
    server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), registry);
  }

  @AfterAll
  static void stop() throws Exception {
    await(server.unbind());
    kit.shutdownTestKit();
  }

  /** Server holds {@code remote}; local holds {@code local} (null: no file); pull; compare. */
  static SyncResult pull(byte[] remote, byte[] local, int bs) throws Exception {
    String name = "pull-" + (++counter) + "/file.bin";
    Path remoteFile = root.resolve(name);
    Files.createDirectories(remoteFile.getParent());
    Files.write(remoteFile, remote);
    Path localFile = tmp.resolve("local-" + counter + ".bin");
    if (local != null) {
      Files.write(localFile, local);
    }
    SyncResult r = await(headStart
        ? SyncClient.pull(kit.system(), PullHeadStart.begin(clientSettings(), "127.0.0.1", server.port(),
            name, localFile, bs), null)
        : SyncClient.pull(kit.system(), "127.0.0.1", server.port(), name, localFile, bs, null));
    assertArrayEquals(remote, Files.readAllBytes(localFile));
    assertNoStaging(tmp);
    return r;
  }

  /** The pulls of {@link #pull} begin with a {@link PullHeadStart} (as the sync CLI's do). */
  static boolean headStart;

  static SyncSettings clientSettings() {
    return SyncSettings.clientFromConfig(kit.system().settings().config().getConfig("peer.sync"));
  }

  /** Local holds {@code local}; server holds {@code remote} (null: no file); push; compare. */
  static SyncResult push(byte[] local, byte[] remote, int bs) throws Exception {
    String name = "push-" + (++counter) + "/file.bin";
    Path remoteFile = root.resolve(name);
    if (remote != null) {
      Files.createDirectories(remoteFile.getParent());
      Files.write(remoteFile, remote);
    }
    Path localFile = tmp.resolve("local-" + counter + ".bin");
    Files.write(localFile, local);
    SyncResult r = await(SyncClient.push(kit.system(), "127.0.0.1", server.port(), localFile, name, bs, null));
    assertArrayEquals(local, Files.readAllBytes(remoteFile));
    // A pull right after the commit sees the new version (the tree cache keys on the file's identity).
    Path back = tmp.resolve("back-" + counter + ".bin");
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), name, back, bs, null));
    assertArrayEquals(local, Files.readAllBytes(back));
    SyncTestSupport.eventually(java.time.Duration.ofSeconds(10), "staging cleaned",
        () -> SyncTestSupport.countFiles(root.resolve(".peer-sync-staging")) == 0);
    return r;
  }

  static void assertNoStaging(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".peer-sync-")), "no staging copy left");
    }
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void emptyFile(boolean pull) throws Exception {
    SyncResult r = pull ? pull(new byte[0], null, 4 * KB) : push(new byte[0], null, 4 * KB);
    assertEquals(0, r.blocksTransferred());
    assertEquals(0, r.size());
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void shrinkToEmpty(boolean pull) throws Exception {
    byte[] old = bytes(5000, 13);
    SyncResult r = pull ? pull(new byte[0], old, KB) : push(new byte[0], old, KB);
    assertEquals(0, r.blocksTransferred());
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void oneByteFile(boolean pull) throws Exception {
    SyncResult r = pull ? pull(new byte[] {42}, null, 4 * KB) : push(new byte[] {42}, null, 4 * KB);
    assertEquals(1, r.blocksTransferred());
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void exactlyNBlocksThenNPlusOneByte(boolean pull) throws Exception {
    byte[] n = bytes(8 * 4 * KB, 1);
    SyncResult r = pull ? pull(n, null, 4 * KB) : push(n, null, 4 * KB);
    assertEquals(8, r.blocksTransferred());
    assertEquals(8, r.blocksCompared());
    byte[] n1 = Arrays.copyOf(n, n.length + 1);
    n1[n.length] = 7;
    // From the N-block version to N blocks + 1 byte: only the new 1-byte block moves.
    SyncResult r2 = pull ? pull(n1, n, 4 * KB) : push(n1, n, 4 * KB);
    assertEquals(1, r2.blocksTransferred());
    assertEquals(9, r2.blocksCompared());
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void shrink(boolean pull) throws Exception {
    byte[] big = bytes(20 * KB + 100, 2);
    byte[] small = Arrays.copyOf(big, 9 * KB + 5);
    SyncResult r = pull ? pull(small, big, 4 * KB) : push(small, big, 4 * KB);
    assertEquals(1, r.blocksTransferred(), "only the new, short last block moves");
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void grow(boolean pull) throws Exception {
    byte[] big = bytes(40 * KB, 3);
    byte[] small = Arrays.copyOf(big, 8 * KB);
    SyncResult r = pull ? pull(big, small, 4 * KB) : push(big, small, 4 * KB);
    assertEquals(8, r.blocksTransferred(), "blocks 2..9 are new");
  }

  @ParameterizedTest(name = "pull={0}")
  @ValueSource(booleans = {true, false})
  void oneChangedBlockMovesOnlyThatBlock(boolean pull) throws Exception {
    int bs = 4 * KB;
    byte[] a = bytes(64 * bs, 4);
    byte[] b = a.clone();
    b[37 * bs + 11] ^= 0x5a;
    SyncResult r = pull ? pull(b, a, bs) : push(b, a, bs);
    assertEquals(1, r.blocksTransferred());
    assertEquals(64, r.blocksCompared());
    // 6 levels of 2 hashes each, then one block: the data that moved is that block.
    assertEquals(12, r.hashesFetched());
    long dataDirection = pull ? r.bytesReceived() : r.bytesSent();
    long otherDirection = pull ? r.bytesSent() : r.bytesReceived();
    assertTrue(dataDirection >= bs, "the block itself crossed: " + dataDirection);
    // Block + 6 hash answers (64 bytes + ~80 of framing each) + init/end answers: far below 2 blocks.
    assertTrue(dataDirection < bs + 1500, "only one block's data moved: " + dataDirection);
    assertTrue(otherDirection < 2000, "requests are small: " + otherDirection);
  }

  @Test
  void identicalFileMovesNoData() throws Exception {
    byte[] a = bytes(50 * KB, 5);
    SyncResult r = pull(a, a.clone(), 4 * KB);
    assertEquals(0, r.blocksTransferred());
    assertEquals(0, r.hashesFetched());
    assertTrue(r.bytesOnWire() < 1000, "only init and end: " + r.bytesOnWire());
  }

  @Test
  void anIdenticalPullDropsTheStagingCopyItStartedWhileHashingAndKeepsTheFile() throws Exception {
    // Large enough that the copy begun beside the hashing (client.stage-while-hashing) is often
    // still running when the roots turn out equal, or being deleted when the session ends (a
    // session that stopped then failed the pull: "the transfer was stopped"); either way the pull
    // succeeds, the copy is gone when it returns, and the local file was not replaced.
    byte[] a = bytes(24 << 20, 6);
    String name = "identical-large.bin";
    Files.write(root.resolve(name), a);
    Path localFile = tmp.resolve("identical-large-local.bin");
    Files.write(localFile, a);
    Object before = Files.readAttributes(localFile, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    for (int i = 0; i < 6; i++) {
      SyncResult r = await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), name, localFile, 64 * KB, null));
      assertEquals(0, r.blocksTransferred());
      assertNoStaging(tmp);
      assertEquals(before,
          Files.readAttributes(localFile, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
          "not renamed over");
    }
    assertArrayEquals(a, Files.readAllBytes(localFile));
  }

  @Test
  void newFilePushCreatesDirectories() throws Exception {
    byte[] a = bytes(10 * KB + 3, 6);
    SyncResult r = push(a, null, KB);
    assertEquals(11, r.blocksTransferred());
  }

  @ParameterizedTest(name = "block size {0}")
  @ValueSource(ints = {1024, 16 * 1024 * 1024})
  void blockSizeBounds(int bs) throws Exception {
    byte[] a = bytes(bs == 1024 ? 10 * KB + 1 : 16 * 1024 * 1024 + 1, 7);
    SyncResult r = pull(a, null, bs);
    assertEquals(HashTreeBlocks.count(a.length, bs), r.blocksTransferred());
    byte[] b = a.clone();
    b[0] ^= 1;
    SyncResult r2 = push(b, a, bs);
    assertEquals(1, r2.blocksTransferred());
  }

  @Test
  void blockSizeOutsideBoundsIsRefused() throws Exception {
    Path local = tmp.resolve("bounds.bin");
    Files.write(local, new byte[10]);
    for (int bs : new int[] {512, 32 * 1024 * 1024, 3000}) {
      var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
          () -> await(SyncClient.push(kit.system(), "127.0.0.1", server.port(), local, "x.bin", bs, null)));
      assertTrue(e.getCause() instanceof SyncFailedException);
    }
  }

  @Test
  void pullOfMissingFileIsDenied404() throws Exception {
    var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
        () -> await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "nope.bin", tmp.resolve("nope"), 4096, null)));
    assertEquals(404, ((SyncFailedException) e.getCause()).status());
    assertFalse(Files.exists(tmp.resolve("nope")));
  }

  @Test
  void progressIsReported() throws Exception {
    Path remote = root.resolve("progress.bin");
    Files.write(remote, bytes(100 * KB, 8));
    java.util.List<SyncProgress.Phase> phases = new java.util.concurrent.CopyOnWriteArrayList<>();
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "progress.bin", tmp.resolve("progress.bin"),
        KB, (p, d, t, b) -> phases.add(p)));
    assertTrue(phases.contains(SyncProgress.Phase.TRANSFER));
    assertTrue(phases.contains(SyncProgress.Phase.VERIFY));
  }

  @Test
  void treesAreCachedPerVersionAndRehashedWhenTheFileChanges() throws Exception {
    Path remote = root.resolve("cached.bin");
    Files.write(remote, bytes(30 * KB, 9));
    double before = registry.getSampleValue("peer_sync_trees_hashed_total");
    Path local = tmp.resolve("cached-local.bin");
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "cached.bin", local, KB, null));
    Files.delete(local);
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "cached.bin", local, KB, null));
    assertEquals(before + 1, registry.getSampleValue("peer_sync_trees_hashed_total"), "unchanged: hashed once");
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "cached.bin", local, 2 * KB, null));
    assertEquals(before + 2, registry.getSampleValue("peer_sync_trees_hashed_total"), "another block size");
    byte[] changed = bytes(31 * KB, 10);
    Files.write(remote, changed);
    await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "cached.bin", local, KB, null));
    assertEquals(before + 3, registry.getSampleValue("peer_sync_trees_hashed_total"), "changed: re-hashed");
    assertArrayEquals(changed, Files.readAllBytes(local));
  }

  @Test
  void fullVerifyRereadsTheStagingCopy() throws Exception {
    byte[] a = bytes(33 * KB + 7, 12);
    byte[] b = a.clone();
    b[5 * KB] ^= 1;
    Files.write(root.resolve("fv.bin"), b);
    Path local = tmp.resolve("fv-local.bin");
    Files.write(local, a);
    SyncSettings s = SyncTestSupport.settings(kit, null, "client.full-verify = on");
    SyncResult r = await(SyncClient.run(kit.system(), s, io.peernode.protocol.sync.SyncMessage.Action.PULL,
        "127.0.0.1", server.port(), "fv.bin", local, KB, null));
    assertEquals(1, r.blocksTransferred());
    assertArrayEquals(b, Files.readAllBytes(local));
  }

  /** ceil(size / bs), for readability of the assertions above. */
  static final class HashTreeBlocks {
    static long count(long size, int bs) {
      return io.peernode.protocol.sync.HashTree.blockCount(size, bs);
    }
  }

  @Test
  void aPullRemovesTheStagingCopiesOfAKilledClientButNotThoseOfALiveOne() throws Exception {
    byte[] remote = bytes(10_000, 31);
    Files.write(root.resolve("stale.bin"), remote);
    Path local = tmp.resolve("stale-dir/stale.bin");
    Files.createDirectories(local.getParent());
    // Left behind by a client killed mid-pull: nobody holds its lock.
    Path abandoned = local.resolveSibling(".stale.bin.peer-sync-0000.part");
    Files.write(abandoned, new byte[100]);
    // Another transfer's copy, locked by its (live) owner.
    Path live = local.resolveSibling(".stale.bin.peer-sync-1111.part");
    Files.write(live, new byte[100]);
    var old = java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
    Files.setLastModifiedTime(abandoned, old);
    Files.setLastModifiedTime(live, old);
    try (var owner = java.nio.channels.FileChannel.open(live, java.nio.file.StandardOpenOption.WRITE);
        var lock = owner.lock()) {
      await(SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "stale.bin", local, KB, null));
      assertArrayEquals(remote, Files.readAllBytes(local));
      assertFalse(Files.exists(abandoned), "the abandoned staging copy is removed");
      assertTrue(Files.exists(live), "a locked staging copy is left alone");
    }
  }
}
