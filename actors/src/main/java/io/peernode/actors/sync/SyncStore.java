package io.peernode.actors.sync;

import io.peernode.protocol.sync.Binary;
import io.peernode.protocol.sync.CommandException;
import io.peernode.protocol.sync.HashTree;
import io.peernode.protocol.sync.SyncPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * The sync root as the server's sessions share it: name resolution (nothing outside the root),
 * the push locks, the staging directory and the tree cache. Not an actor: its state is a lock
 * table and a cache, both safe for concurrent use, and every method that touches the disk is
 * called from the blocking dispatcher (the {@code *Async} ones hop there themselves).
 */
final class SyncStore {

  /** A refusal that becomes {@code deny} with this status. */
  static final class Refusal extends Exception {
    final int status;

    Refusal(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** A file opened for a session, with the attributes its tree is keyed by. */
  record Snapshot(Path path, FileChannel channel, long size, Object version) {}

  private record TreeKey(Path path, int blockSize, long size, Object version) {}

  private final SyncSettings settings;
  private final Path realRoot;
  private final Path staging;
  private final Executor blocking;
  private final SyncMetrics metrics;
  private final ConcurrentHashMap<Path, Object> pushLocks = new ConcurrentHashMap<>();
  private final Map<TreeKey, CompletableFuture<HashTree>> trees;

  SyncStore(SyncSettings settings, Executor blocking, SyncMetrics metrics) throws IOException {
    this.settings = settings;
    this.blocking = blocking;
    this.metrics = metrics;
    Files.createDirectories(settings.root);
    this.realRoot = settings.root.toRealPath();
    this.staging = realRoot.resolve(settings.stagingDir);
    this.trees = new LinkedHashMap<>(16, 0.75f, true);
    // Staging copies left by a crash are pushes that never committed: the spec drops them.
    deleteRecursively(staging);
    Files.createDirectories(staging);
  }

  Path root() {
    return realRoot;
  }

  Path stagingDir() {
    return staging;
  }

  // ---- names ----

  /** The real path of an existing regular file below the root (pull). */
  Path resolveExisting(String filename) throws Refusal {
    Path p = lexical(filename);
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      // A missing file below a link that leaves the root is still a name outside the root.
      resolveForPush(filename);
      throw new Refusal(404, "no such file: " + filename);
    }
    Path real = realInsideRoot(p, filename);
    if (!Files.isRegularFile(real)) {
      throw new Refusal(400, "not a regular file: " + filename);
    }
    return real;
  }

  /** The real path a push of {@code filename} will write (the file need not exist yet). */
  Path resolveForPush(String filename) throws Refusal {
    Path p = lexical(filename);
    if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      Path real = realInsideRoot(p, filename);
      if (!Files.isRegularFile(real)) {
        throw new Refusal(400, "not a regular file: " + filename);
      }
      return real;
    }
    // Find the deepest existing ancestor; it decides where the new file really lands.
    Path ancestor = p.getParent();
    while (!Files.exists(ancestor, LinkOption.NOFOLLOW_LINKS)) {
      ancestor = ancestor.getParent();
    }
    Path realAncestor = ancestor.equals(realRoot) ? realRoot : realInsideRoot(ancestor, filename);
    if (!Files.isDirectory(realAncestor)) {
      throw new Refusal(400, "a parent of " + filename + " is not a directory");
    }
    Path target = realAncestor.resolve(ancestor.relativize(p).toString()).normalize();
    checkInside(target, filename);
    return target;
  }

  private Path lexical(String filename) throws Refusal {
    List<String> segments;
    try {
      segments = SyncPaths.segments(filename);
    } catch (CommandException e) {
      throw new Refusal(400, e.getMessage());
    }
    if (segments.get(0).equals(settings.stagingDir)) {
      throw new Refusal(400, "filename is reserved: " + filename);
    }
    Path p = realRoot;
    for (String s : segments) {
      p = p.resolve(s);
    }
    return p;
  }

  private Path realInsideRoot(Path p, String filename) throws Refusal {
    Path real;
    try {
      real = p.toRealPath();
    } catch (NoSuchFileException e) {
      throw new Refusal(400, "a symbolic link in " + filename + " points nowhere");
    } catch (IOException e) {
      throw new Refusal(400, "cannot resolve " + filename + ": " + e.getClass().getSimpleName());
    }
    checkInside(real, filename);
    return real;
  }

  private void checkInside(Path real, String filename) throws Refusal {
    if (!real.startsWith(realRoot) || real.equals(realRoot) || real.startsWith(staging)) {
      throw new Refusal(400, filename + " leaves the sync root (symbolic link?)");
    }
  }

  // ---- push locks ----

  boolean tryLock(Path file, Object owner) {
    return pushLocks.putIfAbsent(file, owner) == null;
  }

  void unlock(Path file, Object owner) {
    pushLocks.remove(file, owner);
  }

  // ---- snapshots and trees ----

  /** Opens {@code path} for reading and records the version its tree is cached under. */
  Snapshot open(Path path) throws IOException {
    for (int attempt = 0; ; attempt++) {
      BasicFileAttributes before = Files.readAttributes(path, BasicFileAttributes.class);
      FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
      BasicFileAttributes after = Files.readAttributes(path, BasicFileAttributes.class);
      Object v1 = version(before);
      if (v1.equals(version(after)) && ch.size() == after.size()) {
        return new Snapshot(path, ch, after.size(), v1);
      }
      ch.close();
      if (attempt == 3) {
        throw new IOException("the file keeps changing while being opened");
      }
    }
  }

  /** The version a file has now (identity, size, mtime). */
  Object versionOf(Path path) throws IOException {
    return version(Files.readAttributes(path, BasicFileAttributes.class));
  }

  /** Caches the tree of a file just committed, under the version it has now. */
  void remember(Path path, int blockSize, HashTree tree) {
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      TreeKey key = new TreeKey(path, blockSize, a.size(), version(a));
      synchronized (trees) {
        trees.put(key, CompletableFuture.completedFuture(tree));
        evict();
      }
    } catch (IOException ignored) {
      // only a cache
    }
  }

  /**
   * The tree of a file whose leaf hashes are partly known: the leaves not in {@code known} are
   * read back and hashed (a handful of blocks), the rest are taken as given.
   */
  static HashTree completeTree(FileChannel ch, long size, int blockSize, byte[] leaves,
      java.util.BitSet known) throws IOException {
    long count = HashTree.blockCount(size, blockSize);
    MessageDigest md = HashTree.sha256();
    ByteBuffer buf = ByteBuffer.allocate((int) Math.min(blockSize, 256 * 1024));
    for (int j = known.nextClearBit(0); j < count; j = known.nextClearBit(j + 1)) {
      hashBlock(ch, size, blockSize, j, md, buf, leaves, Math.toIntExact(j * HashTree.HASH_BYTES));
    }
    return HashTree.fromLeafHashes(count, leaves);
  }

  /** Leaf {@code j} of the file into {@code out} at {@code offset}, read through {@code buf}. */
  static void hashBlock(FileChannel ch, long size, int blockSize, long j, MessageDigest md,
      ByteBuffer buf, byte[] out, int offset) throws IOException {
    long start = j * blockSize;
    long end = Math.min(size, start + blockSize);
    for (long pos = start; pos < end; ) {
      buf.clear();
      buf.limit((int) Math.min(buf.capacity(), end - pos));
      int n = ch.read(buf, pos);
      if (n < 0) {
        throw new IOException("file shorter than expected at " + pos);
      }
      md.update(buf.array(), 0, buf.position());
      pos += n;
    }
    try {
      md.digest(out, offset, HashTree.HASH_BYTES);
    } catch (java.security.DigestException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object version(BasicFileAttributes a) {
    return FileVersion.of(a);
  }

  /** The tree of a snapshot at {@code blockSize}, from the cache or hashed on the blocking pool. */
  CompletableFuture<HashTree> tree(Snapshot s, int blockSize) {
    TreeKey key = new TreeKey(s.path(), blockSize, s.size(), s.version());
    CompletableFuture<HashTree> f;
    boolean mine = false;
    synchronized (trees) {
      f = trees.get(key);
      if (f == null) {
        f = new CompletableFuture<>();
        trees.put(key, f);
        mine = true;
      }
    }
    if (mine) {
      CompletableFuture<HashTree> result = f;
      blocking.execute(() -> {
        try {
          HashTree t = hash(s.channel(), s.size(), blockSize, settings.ioChunkBytes,
              settings.hashThreads, blocking);
          // Counted before anyone can use the tree: a session answering with it (and a test
          // reading the counter after its pull) must see the count.
          metrics.treesHashed.inc();
          result.complete(t);
          synchronized (trees) {
            evict();
          }
        } catch (Throwable t) {
          synchronized (trees) {
            trees.remove(key, result);
          }
          result.completeExceptionally(t);
        }
      });
    }
    return f;
  }

  /**
   * Drops least recently used trees beyond {@code tree-cache-entries} or {@code tree-cache-bytes}
   * (trees still being computed count as empty). Called with the lock on {@code trees} held.
   */
  private void evict() {
    long bytes = 0;
    for (CompletableFuture<HashTree> f : trees.values()) {
      bytes += treeBytes(f);
    }
    var it = trees.entrySet().iterator();
    int entries = trees.size();
    while (it.hasNext() && (entries > settings.treeCacheEntries || bytes > settings.treeCacheBytes)) {
      var e = it.next();
      bytes -= treeBytes(e.getValue());
      it.remove();
      entries--;
    }
  }

  private static long treeBytes(CompletableFuture<HashTree> f) {
    HashTree t = f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
    return t == null ? 0 : (long) t.nodeCount() * HashTree.HASH_BYTES;
  }

  /** Hashes a file block by block through a buffer of at most {@code chunk} bytes, on this thread. */
  static HashTree hash(FileChannel ch, long size, int blockSize, int chunk) throws IOException {
    return hash(ch, size, blockSize, chunk, 1, null);
  }

  /** Blocks one hashing worker claims at a time: about 8 MiB, so workers rarely meet. */
  private static long stripeBlocks(int blockSize) {
    return Math.max(1, (8L << 20) / blockSize);
  }

  /**
   * Hashes a file with up to {@code threads} workers: this thread and {@code threads - 1} helpers
   * on {@code helpers}, each claiming stripes of blocks and reading them with positional reads
   * through its own buffer of at most {@code chunk} bytes (leaves are independent; the inner
   * nodes are built afterwards). A helper that starts after the work is gone does nothing, and
   * this thread waits only for helpers that started, so a busy pool slows the hash but never
   * blocks it. Blocking: call it on the blocking executor.
   */
  static HashTree hash(FileChannel ch, long size, int blockSize, int chunk, int threads,
      Executor helpers) throws IOException {
    return hash(ch, size, blockSize, chunk, threads, helpers, stripeBlocks(blockSize));
  }

  /** As above with stripes of {@code stripe} blocks (tests use tiny ones). */
  static HashTree hash(FileChannel ch, long size, int blockSize, int chunk, int threads,
      Executor helpers, long stripe) throws IOException {
    long count = HashTree.blockCount(size, blockSize);
    byte[] leaves = new byte[Math.toIntExact(count * HashTree.HASH_BYTES)];
    int workers = (int) Math.min(Math.max(1, threads), (count + stripe - 1) / stripe);
    java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicReference<Throwable> failure =
        new java.util.concurrent.atomic.AtomicReference<>();
    Runnable work = () -> {
      try {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(chunk, blockSize));
        MessageDigest md = HashTree.sha256();
        for (long s = next.getAndAdd(stripe); s < count && failure.get() == null; s = next.getAndAdd(stripe)) {
          for (long j = s, end = Math.min(count, s + stripe); j < end; j++) {
            hashBlock(ch, size, blockSize, j, md, buf, leaves, Math.toIntExact(j * HashTree.HASH_BYTES));
          }
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    };
    int[] running = {0};
    boolean[] closed = {false};
    for (int w = 1; w < workers && helpers != null; w++) {
      try {
        helpers.execute(() -> {
          synchronized (running) {
            if (closed[0]) {
              return;
            }
            running[0]++;
          }
          try {
            work.run();
          } finally {
            synchronized (running) {
              running[0]--;
              running.notifyAll();
            }
          }
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        break; // this thread does the rest
      }
    }
    work.run();
    boolean interrupted = false;
    synchronized (running) {
      closed[0] = true;
      while (running[0] > 0) {
        try {
          running.wait();
        } catch (InterruptedException e) {
          interrupted = true; // the helpers still write into leaves: wait for them anyway
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    Throwable t = failure.get();
    if (t instanceof IOException e) {
      throw e;
    } else if (t instanceof RuntimeException e) {
      throw e;
    } else if (t != null) {
      throw new IOException("hashing failed", t);
    }
    return HashTree.fromLeafHashes(count, leaves);
  }

  // ---- staging and commit ----

  /** A staging copy of {@code live} (or an empty file), resized to {@code size}. */
  Path stage(Path live, long size) throws IOException {
    Path s = staging.resolve(UUID.randomUUID() + ".part");
    if (Files.isRegularFile(live)) {
      Files.copy(live, s, StandardCopyOption.COPY_ATTRIBUTES);
    } else {
      Files.createFile(s);
    }
    try (FileChannel ch = FileChannel.open(s, StandardOpenOption.WRITE)) {
      if (ch.size() > size) {
        ch.truncate(size);
      } else if (ch.size() < size) {
        // Extend sparsely by writing the last byte; blocks beyond the old end must all be sent.
        ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
      }
    }
    return s;
  }

  /** fsync the staging copy, rename it over {@code live} atomically, fsync the directory. */
  void commit(Path stagingFile, Path live) throws IOException {
    try (FileChannel ch = FileChannel.open(stagingFile, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.createDirectories(live.getParent());
    Files.move(stagingFile, live, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel dir = FileChannel.open(live.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // Not every file system lets a directory be fsynced; the rename itself is still atomic.
    }
  }

  /**
   * Writes received blocks (concatenated in {@code idx} order in {@code payload}) at their places
   * in a staging copy and returns their hashes, concatenated the same way. Each block goes from
   * the pieces it arrived in straight to the file and the digest. Blocking: call it on the
   * blocking executor.
   */
  static byte[] writeBlocks(FileChannel ch, long fileSize, int blockSize, int[] idx, Binary payload)
      throws IOException {
    int off = 0;
    byte[] hashes = new byte[idx.length * HashTree.HASH_BYTES];
    MessageDigest md = HashTree.sha256();
    for (int k = 0; k < idx.length; k++) {
      int i = idx[k];
      int len = HashTree.blockLength(fileSize, blockSize, i);
      long pos = (long) i * blockSize;
      for (ByteBuffer b : payload.range(off, len)) {
        md.update(b.duplicate());
        while (b.hasRemaining()) {
          pos += ch.write(b, pos);
        }
      }
      try {
        md.digest(hashes, k * HashTree.HASH_BYTES, HashTree.HASH_BYTES);
      } catch (java.security.DigestException e) {
        throw new IllegalStateException(e);
      }
      off += len;
    }
    return hashes;
  }

  static void runOrInline(Executor blocking, Runnable task) {
    try {
      blocking.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      task.run();
    }
  }

  static void deleteQuietly(Path p) {
    if (p == null) {
      return;
    }
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // Removed again at the next start.
    }
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  static UncheckedIOException unchecked(IOException e) {
    return new UncheckedIOException(e);
  }
}
