package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.protocol.Hex;
import io.peernode.protocol.sync.Binary;
import io.peernode.protocol.sync.HashTree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file hashed by several workers (stripes of blocks claimed in any order, positional reads) has
 * exactly the tree of the known-answer vectors and of a one-thread hash, whatever the thread
 * count, stripe size, or how busy the helper pool is; blocks written from received pieces land
 * byte-exact with the right hashes.
 */
class SyncParallelHashTest {

  /** The protocol module's known answers (written from the spec by an independent script). */
  static final Path VECTORS = Path.of("../protocol/src/test/resources/sync-vectors");

  static ExecutorService pool;
  @TempDir Path tmp;

  @BeforeAll
  static void start() {
    pool = Executors.newFixedThreadPool(4);
  }

  @AfterAll
  static void stop() {
    pool.shutdownNow();
  }

  static HashTree hashFile(Path p, int bs, int threads, java.util.concurrent.Executor helpers, long stripe)
      throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      return SyncStore.hash(ch, ch.size(), bs, 1000, threads, helpers, stripe);
    }
  }

  @Test
  void everyVectorTreeComesOutOfTheParallelHash() throws Exception {
    JsonNode v = new ObjectMapper().readTree(VECTORS.resolve("vectors.json").toFile());
    int checked = 0;
    for (JsonNode t : v.get("trees")) {
      Path file = VECTORS.resolve("files").resolve(t.get("file").asText());
      int bs = t.get("blockSize").asInt();
      for (int threads : new int[] {1, 2, 3, 8}) {
        for (long stripe : new long[] {1, 2, 3}) {
          HashTree tree = hashFile(file, bs, threads, pool, stripe);
          String what = t.get("file").asText() + "@" + bs + " threads " + threads + " stripe " + stripe;
          assertEquals(t.get("root").asText(), tree.rootHex(), what);
          assertEquals(t.get("nodes").size(), tree.nodeCount(), what);
          for (int k = 0; k < tree.nodeCount(); k++) {
            assertEquals(t.get("nodes").get(k).asText(), Hex.encode(tree.node(k)), what + " node " + k);
          }
        }
      }
      checked++;
    }
    assertEquals(21, checked);
  }

  @Test
  void aLargerFileHasTheSameTreeAtAnyThreadCount() throws Exception {
    byte[] data = new byte[(20 << 20) + 12345];
    new Random(8).nextBytes(data);
    Path file = Files.write(tmp.resolve("f.bin"), data);
    HashTree expected = HashTree.of(data, 128 * 1024);
    for (int threads : new int[] {1, 2, 4, 16}) {
      assertArrayEquals(expected.root(), hashFile(file, 128 * 1024, threads, pool, 7).root(), "threads " + threads);
    }
    // With the default stripes (8 MiB) and the bounds the sessions use.
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      assertArrayEquals(expected.root(), SyncStore.hash(ch, ch.size(), 128 * 1024, 256 * 1024, 2, pool).root());
      assertArrayEquals(expected.root(), SyncStore.hash(ch, ch.size(), 128 * 1024, 256 * 1024).root());
    }
  }

  @Test
  void helpersThatNeverRunOrAreRefusedLeaveTheWorkToTheCaller() throws Exception {
    byte[] data = new byte[300_000];
    new Random(9).nextBytes(data);
    Path file = Files.write(tmp.resolve("g.bin"), data);
    HashTree expected = HashTree.of(data, 4096);
    List<Runnable> parked = new ArrayList<>();
    // A pool that queues the helpers and runs them only after the hash returned (all busy).
    assertArrayEquals(expected.root(), hashFile(file, 4096, 4, parked::add, 1).root());
    assertEquals(3, parked.size());
    parked.forEach(Runnable::run); // late helpers find the work done and touch nothing
    assertArrayEquals(expected.root(), hashFile(file, 4096, 4, r -> {
      throw new RejectedExecutionException("shut down");
    }, 1).root());
  }

  @Test
  void aFileShorterThanAnnouncedFailsTheHash() throws Exception {
    Path file = Files.write(tmp.resolve("short.bin"), new byte[50_000]);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      IOException e = assertThrows(IOException.class,
          () -> SyncStore.hash(ch, 80_000, 1024, 1000, 3, pool, 2));
      assertTrue(e.getMessage().contains("shorter"), e.getMessage());
    }
  }

  @Test
  void blocksWrittenFromPiecesSplitAnywhereLandWithTheirHashes() throws Exception {
    int bs = 1024;
    long size = 5 * bs + 300;
    byte[] blocks = new byte[3 * bs];
    new Random(4).nextBytes(blocks);
    int[] idx = {0, 3, 4};
    Random rnd = new Random(2);
    for (int round = 0; round < 300; round++) {
      List<ByteBuffer> pieces = new ArrayList<>();
      for (int pos = 0; pos < blocks.length; ) {
        int n = Math.min(blocks.length - pos, 1 + rnd.nextInt(round % 2 == 0 ? 50 : 2000));
        pieces.add(ByteBuffer.wrap(Arrays.copyOfRange(blocks, pos, pos + n)));
        pos += n;
      }
      Path f = tmp.resolve("w" + round + ".bin");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
          StandardOpenOption.WRITE)) {
        byte[] hashes = SyncStore.writeBlocks(ch, size, bs, idx, Binary.of(pieces));
        for (int k = 0; k < idx.length; k++) {
          assertArrayEquals(HashTree.sha256(blocks, k * bs, bs),
              Arrays.copyOfRange(hashes, k * 32, (k + 1) * 32), "round " + round + " block " + idx[k]);
        }
      }
      byte[] written = Files.readAllBytes(f);
      for (int k = 0; k < idx.length; k++) {
        assertArrayEquals(Arrays.copyOfRange(blocks, k * bs, (k + 1) * bs),
            Arrays.copyOfRange(written, idx[k] * bs, (idx[k] + 1) * bs), "round " + round);
      }
      Files.delete(f);
    }
  }
}
