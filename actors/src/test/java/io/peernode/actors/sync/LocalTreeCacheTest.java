package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.sync.HashTree;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's tree cache on its own: what it trusts, what it refuses, what it survives. */
class LocalTreeCacheTest {

  static final int BS = 1024;
  @TempDir Path tmp;

  LocalTreeCache cache(int entries, long bytes) {
    return new LocalTreeCache(tmp.resolve("cache"), entries, bytes, Duration.ofMillis(50));
  }

  /** A file of {@code n} bytes whose mtime lies a minute back, so a record of it now is settled. */
  Path file(String name, int n, int seed) throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, SyncTestSupport.bytes(n, seed));
    Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(60)));
    return p.toRealPath();
  }

  @Test
  void aRecordedTreeIsFoundWhileTheFileIsUnchanged() throws Exception {
    LocalTreeCache c = cache(10, 1 << 20);
    Path p = file("a.bin", 5000, 1);
    HashTree t = HashTree.of(Files.readAllBytes(p), BS);
    FileVersion st = FileVersion.of(p);
    assertEquals("no entry", c.lookup(p, BS, st).miss());
    c.record(p, BS, st, Instant.now(), t);
    LocalTreeCache.Lookup hit = c.lookup(p, BS, st);
    assertNotNull(hit.tree(), hit.miss());
    assertArrayEquals(t.root(), hit.tree().root());
    assertEquals(t.blockCount(), hit.tree().blockCount());
    assertNull(c.lookup(p, 2 * BS, st).tree(), "another block size is another entry");
  }

  @Test
  void aChangedSizeMtimeOrIdentityIsAMiss() throws Exception {
    LocalTreeCache c = cache(10, 1 << 20);
    Path p = file("a.bin", 5000, 1);
    FileVersion st = FileVersion.of(p);
    c.record(p, BS, st, Instant.now(), HashTree.of(Files.readAllBytes(p), BS));
    assertNull(c.lookup(p, BS, new FileVersion(st.fileKey(), st.size(), st.mtimeSeconds(), st.mtimeNanos() + 1)).tree());
    assertNull(c.lookup(p, BS, new FileVersion(st.fileKey(), st.size() + 1, st.mtimeSeconds(), st.mtimeNanos())).tree());
    assertNull(c.lookup(p, BS, new FileVersion("(dev=1,ino=2)", st.size(), st.mtimeSeconds(), st.mtimeNanos())).tree());
    assertNotNull(c.lookup(p, BS, st).tree());
  }

  @Test
  void contentKnownWithinTheRacyWindowOfItsMtimeIsNotTrusted() throws Exception {
    LocalTreeCache c = cache(10, 1 << 20);
    Path p = tmp.resolve("racy.bin");
    Files.write(p, SyncTestSupport.bytes(3000, 2));
    p = p.toRealPath();
    FileVersion st = FileVersion.of(p);
    HashTree t = HashTree.of(Files.readAllBytes(p), BS);
    // Hashed in the same tick as the last write: a write right after it could keep the mtime.
    c.record(p, BS, st, st.mtime().plusMillis(10), t);
    assertNull(c.lookup(p, BS, st).tree(), "a racy record is not kept");
    c.record(p, BS, st, st.mtime().plusMillis(50), t);
    assertNotNull(c.lookup(p, BS, st).tree(), "one window later it is");
    // An mtime of whole seconds means a coarse file system: two seconds then.
    FileVersion coarse = new FileVersion(st.fileKey(), st.size(), st.mtimeSeconds(), 0);
    assertFalse(c.settled(coarse, coarse.mtime().plusMillis(1999)));
    assertTrue(c.settled(coarse, coarse.mtime().plusSeconds(2)));
  }

  @Test
  void aDamagedEntryIsAMissThatSaysSoAndIsRemoved() throws Exception {
    LocalTreeCache c = cache(10, 1 << 20);
    Path p = file("a.bin", 5000, 1);
    FileVersion st = FileVersion.of(p);
    c.record(p, BS, st, Instant.now(), HashTree.of(Files.readAllBytes(p), BS));
    Path entry = c.entry(p, BS);
    byte[] bytes = Files.readAllBytes(entry);
    bytes[bytes.length / 2] ^= 1;
    Files.write(entry, bytes);
    LocalTreeCache.Lookup l = c.lookup(p, BS, st);
    assertNull(l.tree());
    assertTrue(l.damaged(), l.miss());
    assertFalse(Files.exists(entry), "a damaged entry is deleted");
    for (byte[] garbage : new byte[][] {new byte[0], "hello".getBytes(), SyncTestSupport.bytes(70000, 3)}) {
      Files.write(entry, garbage);
      LocalTreeCache.Lookup g = c.lookup(p, BS, st);
      assertNull(g.tree());
      assertTrue(g.damaged(), g.miss());
    }
  }

  @Test
  void theLeastRecentlyUsedEntriesGoBeyondTheBounds() throws Exception {
    LocalTreeCache c = cache(3, 1 << 20);
    Path[] files = new Path[5];
    for (int i = 0; i < files.length; i++) {
      files[i] = file("f" + i + ".bin", 2000, i);
      c.record(files[i], BS, FileVersion.of(files[i]), Instant.now(),
          HashTree.of(Files.readAllBytes(files[i]), BS));
      Files.setLastModifiedTime(c.entry(files[i], BS), FileTime.from(Instant.now().minusSeconds(100 - i)));
    }
    try (Stream<Path> s = Files.list(tmp.resolve("cache"))) {
      assertEquals(3, s.count());
    }
    assertNull(c.lookup(files[0], BS, FileVersion.of(files[0])).tree());
    assertNotNull(c.lookup(files[4], BS, FileVersion.of(files[4])).tree());
    // A tree larger than the whole cache is not kept at all.
    LocalTreeCache tiny = cache(10, 63); // two leaves are 64 bytes
    tiny.record(files[1], BS, FileVersion.of(files[1]), Instant.now(),
        HashTree.of(Files.readAllBytes(files[1]), BS));
    assertNull(tiny.lookup(files[1], BS, FileVersion.of(files[1])).tree());
  }

  @Test
  void theSpotCheckCatchesBlocksThatDifferFromTheTree() throws Exception {
    Path p = file("a.bin", 20 * BS + 7, 4);
    HashTree t = HashTree.of(Files.readAllBytes(p), BS);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      assertTrue(LocalTreeCache.spotCheck(ch, ch.size(), BS, t, 4, 256));
    }
    byte[] other = Files.readAllBytes(p);
    other[other.length - 1] ^= 1; // the last block is always checked
    Files.write(p, other);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      assertFalse(LocalTreeCache.spotCheck(ch, ch.size(), BS, t, 4, 256));
    }
  }
}
