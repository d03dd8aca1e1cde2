package io.peernode.bench;

import io.peernode.protocol.sync.HashTree;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The physical floor of a full pull over loopback: what any client that obeys the sync spec must
 * do at least, and nothing else. A sender thread streams the file from the page cache to a
 * loopback socket ({@code FileChannel.transferTo}, i.e. sendfile); the receiver reads it, takes
 * the SHA-256 of every block (the leaf hashes the spec's root check needs; the root is then built
 * from them with {@link HashTree#fromLeafHashes}, a few thousand small digests), and writes the
 * bytes to a new file in the page cache, optionally fsynced at the end. No framing, no protocol,
 * no actors: the figure is an upper bound for any implementation of the spec on this machine.
 *
 * <p>{@code SyncFloorBench --file F --out DIR [--block-size N] [--read-bytes N] [--variants
 * LIST]}; a variant is {@code h<threads>-<sink>[-fsync]}: {@code h0} hashes nothing (a plain
 * copy, for reference), {@code h1} hashes on the reading thread, {@code h2} hands each read to two
 * hashing threads (the reader only reads); the sink is {@code write} (read into a direct buffer,
 * {@code FileChannel.write} at the block's offset) or {@code mmap} (read from the socket straight
 * into a mapping of the output file: one copy fewer, the hash reads the mapped pages). Prints one
 * line per variant: wall time, MB/s, this process's CPU seconds, the root (all hashing variants
 * must agree with the root of the source file, computed once at the start).
 */
public final class SyncFloorBench {

  private static final int QUEUE = 16; // reads handed to the hashing threads, at most (h2)

  private SyncFloorBench() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = BenchSupport.args(argv, 0);
    Path file = Path.of(BenchSupport.need(a, "file"));
    Path out = Path.of(BenchSupport.need(a, "out"));
    int blockSize = Integer.parseInt(a.getOrDefault("block-size", "131072"));
    int readBytes = Integer.parseInt(a.getOrDefault("read-bytes", "1048576"));
    if (readBytes % blockSize != 0) {
      throw new IllegalArgumentException("--read-bytes must be a multiple of --block-size");
    }
    List<String> variants = Arrays.asList(a.getOrDefault("variants",
        "h0-write h1-write h2-write h1-mmap h2-mmap h2-write-fsync h2-mmap-fsync").split("\\s+"));
    long size = Files.size(file);
    Files.createDirectories(out);
    String want = HashTree.fromLeafHashes(HashTree.blockCount(size, blockSize),
        leafHashesOf(file, size, blockSize)).rootHex(); // also puts the source in the page cache
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    for (String v : variants) {
      String[] p = v.split("-");
      int threads = Integer.parseInt(p[0].substring(1));
      boolean mmap = p[1].equals("mmap");
      boolean fsync = p.length > 2 && p[2].equals("fsync");
      if (threads < 0 || threads > 2 || !(mmap || p[1].equals("write"))) {
        throw new IllegalArgumentException("unknown variant " + v);
      }
      Path target = out.resolve("floor-" + v + ".bin");
      Files.deleteIfExists(target);
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      byte[] leaves = pull(file, size, target, blockSize, readBytes, threads, mmap, fsync);
      long t1 = System.nanoTime();
      String root = threads == 0 ? "-"
          : HashTree.fromLeafHashes(HashTree.blockCount(size, blockSize), leaves).rootHex();
      long t2 = System.nanoTime();
      double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
      double s = (t2 - t0) / 1e9;
      if (threads > 0 && !root.equals(want)) {
        throw new IllegalStateException(v + ": root " + root + " is not the source's " + want);
      }
      System.out.printf(Locale.ROOT, "floor %-14s wall %.3f s  %7.1f MB/s  cpu %.2f s  root-ok %s%n",
          v, s, size / s / 1e6, cpu, threads == 0 ? "-" : "yes");
      Files.deleteIfExists(target);
    }
  }

  private static byte[] pull(Path file, long size, Path target, int blockSize, int readBytes,
      int threads, boolean mmap, boolean fsync) throws Exception {
    try (ServerSocketChannel listen = ServerSocketChannel.open()) {
      listen.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread sender = new Thread(() -> send(listen, file, size), "floor-sender");
      sender.start();
      byte[] leaves = new byte[(int) HashTree.blockCount(size, blockSize) * HashTree.HASH_BYTES];
      try (SocketChannel in = SocketChannel.open(listen.getLocalAddress());
           FileChannel dst = FileChannel.open(target, StandardOpenOption.CREATE_NEW,
               StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        if (mmap) {
          receiveMapped(in, dst, size, blockSize, readBytes, threads, leaves);
        } else {
          receiveWritten(in, dst, size, blockSize, readBytes, threads, leaves);
        }
        if (fsync) {
          dst.force(true);
        }
      }
      sender.join();
      return leaves;
    }
  }

  private static void send(ServerSocketChannel listen, Path file, long size) {
    try (SocketChannel s = listen.accept(); FileChannel src = FileChannel.open(file)) {
      long pos = 0;
      while (pos < size) {
        pos += src.transferTo(pos, size - pos, s);
      }
    } catch (IOException e) {
      throw new IllegalStateException("sender failed", e);
    }
  }

  /** A read of consecutive blocks handed to a hashing thread; {@code done} marks the end. */
  private record Piece(ByteBuffer buf, long pos, boolean done) {}

  private static void receiveWritten(SocketChannel in, FileChannel dst, long size, int blockSize,
      int readBytes, int threads, byte[] leaves) throws Exception {
    if (threads < 2) {
      ByteBuffer buf = ByteBuffer.allocateDirect(readBytes);
      MessageDigest md = HashTree.sha256();
      for (long pos = 0; pos < size; pos += readBytes) {
        fill(in, buf, (int) Math.min(readBytes, size - pos));
        if (threads == 1) {
          hash(md, buf, pos, blockSize, leaves);
        }
        writeAt(dst, buf, pos);
      }
      return;
    }
    BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(QUEUE + threads);
    for (int i = 0; i < QUEUE + threads; i++) {
      free.add(ByteBuffer.allocateDirect(readBytes));
    }
    BlockingQueue<Piece> work = new ArrayBlockingQueue<>(QUEUE);
    List<Thread> workers = workers(threads, work, md -> piece -> {
      hash(md, piece.buf(), piece.pos(), blockSize, leaves);
      writeAt(dst, piece.buf(), piece.pos());
      free.put(piece.buf());
    });
    for (long pos = 0; pos < size; pos += readBytes) {
      ByteBuffer buf = free.take();
      fill(in, buf, (int) Math.min(readBytes, size - pos));
      work.put(new Piece(buf, pos, false));
    }
    finish(work, workers);
  }

  private static void receiveMapped(SocketChannel in, FileChannel dst, long size, int blockSize,
      int readBytes, int threads, byte[] leaves) throws Exception {
    dst.truncate(0);
    dst.write(ByteBuffer.wrap(new byte[1]), size - 1); // the file's length, sparse
    long window = 256L << 20; // a multiple of readBytes for the defaults
    BlockingQueue<Piece> work = new ArrayBlockingQueue<>(QUEUE);
    List<Thread> workers = threads < 2 ? List.of()
        : workers(threads, work, md -> piece -> hash(md, piece.buf(), piece.pos(), blockSize, leaves));
    MessageDigest md = HashTree.sha256();
    for (long base = 0; base < size; base += window) {
      MappedByteBuffer map = dst.map(FileChannel.MapMode.READ_WRITE, base, Math.min(window, size - base));
      for (int off = 0; off < map.capacity(); off += readBytes) {
        ByteBuffer slice = map.slice(off, Math.min(readBytes, map.capacity() - off));
        fill(in, slice, slice.capacity());
        if (threads == 1) {
          hash(md, slice, base + off, blockSize, leaves);
        } else if (threads == 2) {
          work.put(new Piece(slice, base + off, false));
        }
      }
    }
    finish(work, workers);
  }

  private interface PieceTask {
    void run(Piece p) throws Exception;
  }

  private interface TaskFactory {
    PieceTask make(MessageDigest md);
  }

  private static List<Thread> workers(int n, BlockingQueue<Piece> work, TaskFactory f) {
    List<Thread> ws = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PieceTask task = f.make(HashTree.sha256());
      Thread t = new Thread(() -> {
        try {
          for (Piece p = work.take(); !p.done(); p = work.take()) {
            task.run(p);
          }
        } catch (Exception e) {
          throw new IllegalStateException("worker failed", e);
        }
      }, "floor-hash-" + i);
      t.start();
      ws.add(t);
    }
    return ws;
  }

  private static void finish(BlockingQueue<Piece> work, List<Thread> workers) throws Exception {
    for (int i = 0; i < workers.size(); i++) {
      work.put(new Piece(null, 0, true));
    }
    for (Thread t : workers) {
      t.join();
    }
  }

  /** Reads exactly {@code n} bytes into {@code buf} (position 0, limit n), flipped for reading. */
  private static void fill(SocketChannel in, ByteBuffer buf, int n) throws IOException {
    buf.clear().limit(n);
    while (buf.hasRemaining()) {
      if (in.read(buf) < 0) {
        throw new IOException("the sender closed early");
      }
    }
    buf.flip();
  }

  private static void hash(MessageDigest md, ByteBuffer buf, long pos, int blockSize, byte[] leaves)
      throws Exception {
    int n = buf.limit();
    for (int off = 0; off < n; off += blockSize) {
      md.update(buf.duplicate().position(off).limit(Math.min(n, off + blockSize)));
      md.digest(leaves, (int) (pos / blockSize + off / blockSize) * HashTree.HASH_BYTES, HashTree.HASH_BYTES);
    }
  }

  private static void writeAt(FileChannel dst, ByteBuffer buf, long pos) throws IOException {
    ByteBuffer b = buf.duplicate().position(0);
    while (b.hasRemaining()) {
      pos += dst.write(b, pos);
    }
  }

  private static byte[] leafHashesOf(Path file, long size, int blockSize) throws IOException {
    byte[] leaves = new byte[(int) HashTree.blockCount(size, blockSize) * HashTree.HASH_BYTES];
    MessageDigest md = HashTree.sha256();
    ByteBuffer buf = ByteBuffer.allocateDirect(blockSize);
    try (FileChannel src = FileChannel.open(file)) {
      for (long pos = 0, i = 0; pos < size; pos += blockSize, i++) {
        buf.clear();
        while (buf.hasRemaining() && src.read(buf, pos + buf.position()) > 0) { }
        buf.flip();
        md.update(buf);
        try {
          md.digest(leaves, (int) i * HashTree.HASH_BYTES, HashTree.HASH_BYTES);
        } catch (java.security.DigestException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return leaves;
  }
}
