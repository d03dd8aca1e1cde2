package io.peernode.actors.sync;

import io.peernode.protocol.Hex;
import io.peernode.protocol.sync.HashTree;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * The client's record of the hash trees of local files it hashed or pulled, as syncthing keeps an
 * index: a later sync of an unchanged local file takes its tree from here instead of reading the
 * whole file again. One file per (real path, block size) in {@code client.tree-cache.dir}, at most
 * {@code max-entries} files and {@code max-bytes} bytes (the least recently used go first).
 *
 * <p>An entry holds the file's {@link FileVersion} (file key, i.e. device and inode; size; mtime
 * to the nanosecond) and is used only while all of it is unchanged. Like git's index it guards against
 * racy timestamps: a write in the same clock tick as the one recorded would leave the mtime as it
 * was, so an entry is trusted only if the content it describes was known at least
 * {@code racy-window} after that mtime ({@link #window}: two seconds on a file system that keeps
 * whole seconds). A damaged entry (checksum, format, an impossible size) is a miss, reported to the
 * caller, and is deleted; the cache never fails a sync.
 *
 * <p>Not an actor: plain file work, called from the blocking dispatcher; entries are replaced by an
 * atomic rename, so concurrent users (other transfers, other processes) see whole entries or none.
 */
final class LocalTreeCache {

  /** A lookup: the tree, or why there is none ({@code damaged}: an entry was there but unreadable). */
  record Lookup(HashTree tree, String miss, boolean damaged) {
    static Lookup miss(String why) {
      return new Lookup(null, why, false);
    }
  }

  private static final byte[] MAGIC = "peer-sync tree 1".getBytes(StandardCharsets.US_ASCII);
  private static final String SUFFIX = ".tree";

  private final Path dir;
  private final int maxEntries;
  private final long maxBytes;
  private final Duration racyWindow;

  LocalTreeCache(Path dir, int maxEntries, long maxBytes, Duration racyWindow) {
    this.dir = dir;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.racyWindow = racyWindow;
  }

  /** The cache the settings ask for, or null when it is off. */
  static LocalTreeCache of(SyncSettings s) {
    return s.clientTreeCacheDir == null ? null : new LocalTreeCache(s.clientTreeCacheDir,
        s.clientTreeCacheEntries, s.clientTreeCacheBytes, s.clientTreeCacheRacyWindow);
  }

  /**
   * How long after an mtime a write may still leave it unchanged: the setting, or two seconds when
   * the mtime has no sub-second part (FAT keeps two seconds, ext3 and HFS+ one).
   */
  Duration window(FileVersion s) {
    return s.mtimeNanos() == 0 && racyWindow.compareTo(Duration.ofSeconds(2)) < 0
        ? Duration.ofSeconds(2) : racyWindow;
  }

  /** True when content known at {@code knownAt} can be trusted to go with the mtime of {@code s}. */
  boolean settled(FileVersion s, Instant knownAt) {
    return !s.mtime().plus(window(s)).isAfter(knownAt);
  }

  /** The recorded tree of {@code realPath} at {@code blockSize}, if it still describes {@code now}. */
  Lookup lookup(Path realPath, int blockSize, FileVersion now) {
    Path f = entry(realPath, blockSize);
    byte[] bytes;
    try {
      long len = Files.size(f);
      if (len > maxBytes + 4096) {
        return damaged(f, "entry larger than max-bytes");
      }
      bytes = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      return Lookup.miss("no entry");
    } catch (IOException e) {
      return Lookup.miss("entry unreadable: " + e.getMessage());
    }
    try {
      if (bytes.length < MAGIC.length + HashTree.HASH_BYTES) {
        throw new IOException("truncated");
      }
      int body = bytes.length - HashTree.HASH_BYTES;
      MessageDigest md = HashTree.sha256();
      md.update(bytes, 0, body);
      if (!Arrays.equals(md.digest(), 0, HashTree.HASH_BYTES, bytes, body, bytes.length)) {
        throw new IOException("checksum mismatch");
      }
      var in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 0, body));
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a tree cache entry");
      }
      String path = in.readUTF();
      int bs = in.readInt();
      FileVersion recorded = new FileVersion(in.readUTF(), in.readLong(), in.readLong(), in.readInt());
      Instant knownAt = Instant.ofEpochSecond(in.readLong(), in.readInt());
      long blocks = in.readLong();
      if (blocks < 0 || blocks != HashTree.blockCount(recorded.size(), bs)
          || in.available() != blocks * HashTree.HASH_BYTES) {
        throw new IOException("inconsistent block count");
      }
      if (!path.equals(realPath.toString()) || bs != blockSize) {
        return Lookup.miss("entry of another file");
      }
      if (!recorded.equals(now)) {
        return Lookup.miss("the file changed since it was recorded");
      }
      if (!settled(recorded, knownAt)) {
        return Lookup.miss("recorded within the racy window of its mtime");
      }
      byte[] leaves = in.readNBytes((int) (blocks * HashTree.HASH_BYTES));
      touch(f);
      return new Lookup(HashTree.fromLeafHashes(blocks, leaves), null, false);
    } catch (IOException | RuntimeException e) {
      return damaged(f, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  }

  /**
   * Records {@code tree} as the tree of {@code realPath} at {@code blockSize} while it has
   * {@code stat}, its content known as of {@code knownAt}. Does nothing when the record could not
   * be trusted anyway (racy) or is larger than the cache. Never throws: a cache that cannot be
   * written is a cache that misses.
   */
  void record(Path realPath, int blockSize, FileVersion stat, Instant knownAt, HashTree tree) {
    long leafBytes = tree.blockCount() * HashTree.HASH_BYTES;
    if (!settled(stat, knownAt) || leafBytes > maxBytes || maxEntries < 1) {
      return;
    }
    Path tmp = null;
    try {
      var buf = new ByteArrayOutputStream((int) leafBytes + 512);
      var out = new DataOutputStream(buf);
      out.write(MAGIC);
      out.writeUTF(realPath.toString());
      out.writeInt(blockSize);
      out.writeUTF(stat.fileKey());
      out.writeLong(stat.size());
      out.writeLong(stat.mtimeSeconds());
      out.writeInt(stat.mtimeNanos());
      out.writeLong(knownAt.getEpochSecond());
      out.writeInt(knownAt.getNano());
      out.writeLong(tree.blockCount());
      byte[] leaves = new byte[(int) leafBytes];
      for (int j = 0; j < tree.blockCount(); j++) {
        tree.copyNode(tree.leafCount() - 1 + j, leaves, j * HashTree.HASH_BYTES);
      }
      out.write(leaves);
      out.flush();
      byte[] body = buf.toByteArray();
      MessageDigest md = HashTree.sha256();
      md.update(body);
      Files.createDirectories(dir);
      Path f = entry(realPath, blockSize);
      tmp = dir.resolve("." + UUID.randomUUID() + ".tmp");
      try (FileChannel ch = FileChannel.open(tmp, java.nio.file.StandardOpenOption.CREATE_NEW,
          java.nio.file.StandardOpenOption.WRITE)) {
        ch.write(new ByteBuffer[] {ByteBuffer.wrap(body), ByteBuffer.wrap(md.digest())});
      }
      Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
      evict(f);
    } catch (IOException | RuntimeException e) {
      // only a cache: the next sync of this file hashes it
    } finally {
      SyncStore.deleteQuietly(tmp);
    }
  }

  /**
   * Re-reads {@code count} blocks of the file (the first, the last and some spread between) and
   * compares them with {@code tree}: a cheap check that catches a file rewritten with its old mtime
   * restored. It cannot prove the rest; the stat and the racy window are what the cache rests on.
   */
  static boolean spotCheck(FileChannel ch, long size, int blockSize, HashTree tree, int count,
      int chunk) throws IOException {
    long blocks = tree.blockCount();
    if (blocks == 0 || count <= 0) {
      return true;
    }
    MessageDigest md = HashTree.sha256();
    ByteBuffer buf = ByteBuffer.allocate(Math.min(chunk, blockSize));
    byte[] leaf = new byte[HashTree.HASH_BYTES];
    long step = Math.max(1, blocks / Math.max(1, count - 1));
    for (int k = 0; k < count; k++) {
      long j = k == count - 1 ? blocks - 1 : Math.min(blocks - 1, k * step + (k == 0 ? 0 : step / 2));
      SyncStore.hashBlock(ch, size, blockSize, j, md, buf, leaf, 0);
      if (!tree.nodeEquals(tree.leafCount() - 1 + (int) j, leaf, 0)) {
        return false;
      }
    }
    return true;
  }

  /** Drops the entry of {@code realPath} at {@code blockSize}, if any. */
  void forget(Path realPath, int blockSize) {
    SyncStore.deleteQuietly(entry(realPath, blockSize));
  }

  Path entry(Path realPath, int blockSize) {
    byte[] key = (realPath + "\0" + blockSize).getBytes(StandardCharsets.UTF_8);
    return dir.resolve(Hex.encode(HashTree.sha256(key, 0, key.length), 0, 20) + SUFFIX);
  }

  private Lookup damaged(Path f, String why) {
    SyncStore.deleteQuietly(f);
    return new Lookup(null, "damaged entry " + f.getFileName() + " (" + why + ")", true);
  }

  /** Marks an entry as just used (eviction goes by last use). */
  private static void touch(Path f) {
    try {
      Files.setLastModifiedTime(f, FileTime.from(Instant.now()));
    } catch (IOException e) {
      // eviction order only
    }
  }

  /** Least recently used entries beyond max-entries or max-bytes go ({@code keep} never). */
  private void evict(Path keep) {
    record Entry(Path path, long size, FileTime used) {}
    List<Entry> all = new ArrayList<>();
    long total = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
      for (Path p : ds) {
        try {
          var a = Files.readAttributes(p, BasicFileAttributes.class);
          all.add(new Entry(p, a.size(), a.lastModifiedTime()));
          total += a.size();
        } catch (IOException e) {
          // gone meanwhile
        }
      }
    } catch (IOException e) {
      return;
    }
    if (all.size() <= maxEntries && total <= maxBytes) {
      return;
    }
    all.sort(Comparator.comparing(Entry::used));
    int count = all.size();
    for (Entry e : all) {
      if (count <= maxEntries && total <= maxBytes) {
        break;
      }
      if (!e.path().equals(keep)) {
        SyncStore.deleteQuietly(e.path());
        count--;
        total -= e.size();
      }
    }
  }
}
