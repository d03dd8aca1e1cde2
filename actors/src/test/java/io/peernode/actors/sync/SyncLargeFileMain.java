package io.peernode.actors.sync;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import io.prometheus.client.CollectorRegistry;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Run in a JVM with a small heap by {@link SyncLargeFileTest}: full pull, 1% delta pull and a
 * 1% delta push of a file several times larger than the heap. Prints one line per step.
 * Args: work dir, file size in MiB.
 */
public final class SyncLargeFileMain {

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    long size = Long.parseLong(args[1]) * 1024 * 1024;
    int bs = 1024 * 1024;
    Path root = Files.createDirectories(dir.resolve("root"));
    Path remote = root.resolve("big.bin");
    Path local = dir.resolve("big-local.bin");
    Random rnd = new Random(1);
    try (FileChannel ch = FileChannel.open(remote, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      byte[] chunk = new byte[bs];
      for (long pos = 0; pos < size; pos += bs) {
        rnd.nextBytes(chunk);
        ch.write(ByteBuffer.wrap(chunk, 0, (int) Math.min(bs, size - pos)), pos);
      }
    }
    ActorTestKit kit = SyncTestSupport.testKit("sync-large");
    int exit = 1;
    try {
      SyncServer.Binding server = SyncTestSupport.bind(kit, SyncTestSupport.settings(kit, root, ""), new CollectorRegistry());
      SyncResult full = SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "big.bin", local, bs, null)
          .toCompletableFuture().get(10, TimeUnit.MINUTES);
      check(remote, local);
      System.out.println("full " + full);
      long blocks = full.blocksCompared();
      int changed = (int) Math.max(1, blocks / 100);
      try (RandomAccessFile f = new RandomAccessFile(remote.toFile(), "rw")) {
        for (int i = 0; i < changed; i++) {
          f.seek((long) rnd.nextInt((int) blocks) * bs + rnd.nextInt(bs / 2));
          f.write(rnd.nextInt(256) ^ 0x80);
        }
      }
      SyncResult delta = SyncClient.pull(kit.system(), "127.0.0.1", server.port(), "big.bin", local, bs, null)
          .toCompletableFuture().get(10, TimeUnit.MINUTES);
      check(remote, local);
      System.out.println("delta " + delta);
      try (RandomAccessFile f = new RandomAccessFile(local.toFile(), "rw")) {
        for (int i = 0; i < changed; i++) {
          f.seek((long) rnd.nextInt((int) blocks) * bs);
          f.write(rnd.nextInt(256) ^ 0x40);
        }
      }
      SyncResult push = SyncClient.push(kit.system(), "127.0.0.1", server.port(), local, "big.bin", bs, null)
          .toCompletableFuture().get(10, TimeUnit.MINUTES);
      check(remote, local);
      System.out.println("push " + push);
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println("peak-heap-bytes " + peak + " max-heap-bytes " + Runtime.getRuntime().maxMemory());
      server.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
      exit = 0;
    } finally {
      kit.shutdownTestKit();
    }
    System.exit(exit);
  }

  private static void check(Path a, Path b) throws Exception {
    if (!digest(a).equals(digest(b))) {
      throw new AssertionError("files differ after sync");
    }
  }

  private static String digest(Path p) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(p)) {
      while (ch.read(buf.clear()) > 0) {
        md.update(buf.flip());
      }
    }
    return io.peernode.protocol.Hex.encode(md.digest());
  }
}
