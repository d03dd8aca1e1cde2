package io.peernode.protocol.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.Hex;
import java.io.InputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashTreeVectorsTest {

  static JsonNode vectors() throws Exception {
    try (InputStream in = HashTreeVectorsTest.class.getResourceAsStream("/sync-vectors/vectors.json")) {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(in);
    }
  }

  static byte[] file(String name) throws Exception {
    try (InputStream in = HashTreeVectorsTest.class.getResourceAsStream("/sync-vectors/files/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void everyVectorTreeMatchesRootAndAllNodes() throws Exception {
    int checked = 0;
    for (JsonNode v : vectors().get("trees")) {
      byte[] data = file(v.get("file").asText());
      assertEquals(v.get("size").asLong(), data.length);
      int bs = v.get("blockSize").asInt();
      HashTree t = HashTree.of(data, bs);
      String what = v.get("file").asText() + "@" + bs;
      assertEquals(v.get("blockCount").asLong(), t.blockCount(), what);
      assertEquals(v.get("leafCount").asInt(), t.leafCount(), what);
      assertEquals(v.get("root").asText(), t.rootHex(), what);
      assertEquals(v.get("nodes").size(), t.nodeCount(), what);
      for (int k = 0; k < t.nodeCount(); k++) {
        assertEquals(v.get("nodes").get(k).asText(), Hex.encode(t.node(k)), what + " node " + k);
      }
      checked++;
    }
    assertEquals(21, checked);
  }

  @Test
  void emptyFileIsOnePaddingLeaf() {
    HashTree t = HashTree.of(new byte[0], 1024);
    assertEquals(0, t.blockCount());
    assertEquals(1, t.leafCount());
    assertArrayEquals(new byte[32], t.root());
  }

  @Test
  void blockArithmetic() {
    assertEquals(0, HashTree.blockCount(0, 1024));
    assertEquals(1, HashTree.blockCount(1, 1024));
    assertEquals(3, HashTree.blockCount(3072, 1024));
    assertEquals(4, HashTree.blockCount(3073, 1024));
    assertEquals(1, HashTree.leafCount(0));
    assertEquals(4, HashTree.leafCount(3));
    assertEquals(4, HashTree.leafCount(4));
    assertEquals(8, HashTree.leafCount(5));
    assertEquals(1, HashTree.blockLength(3073, 1024, 3));
    assertEquals(1024, HashTree.blockLength(3073, 1024, 2));
  }

  @Test
  void walkFindsExactlyTheChangedBlocksAcrossShapes() {
    Random rnd = new Random(42);
    for (int round = 0; round < 200; round++) {
      int bs = 16;
      byte[] remote = new byte[rnd.nextInt(40 * bs)];
      rnd.nextBytes(remote);
      byte[] local = java.util.Arrays.copyOf(remote, Math.max(0, remote.length + rnd.nextInt(8 * bs) - 4 * bs));
      for (int c = rnd.nextInt(4); c > 0 && local.length > 0; c--) {
        local[rnd.nextInt(local.length)] ^= 1;
      }
      HashTree r = HashTree.of(remote, bs);
      HashTree l = HashTree.of(local, bs);
      HashTree projected = l.project(r.leafCount(), r.blockCount());
      TreeWalk w = new TreeWalk(projected, r.root());
      while (!w.done()) {
        int[] level = w.nextLevel();
        byte[] hashes = new byte[level.length * 32];
        for (int i = 0; i < level.length; i++) {
          r.copyNode(level[i], hashes, i * 32);
        }
        w.onHashes(level, hashes);
      }
      java.util.Set<Integer> got = new java.util.TreeSet<>();
      for (int j : w.differingLeaves()) {
        got.add(j);
      }
      java.util.Set<Integer> want = new java.util.TreeSet<>();
      for (int j = 0; j < r.blockCount(); j++) {
        int len = HashTree.blockLength(remote.length, bs, j);
        int off = j * bs;
        boolean same = off + len <= local.length
            && java.util.Arrays.equals(remote, off, off + len, local, off, off + len)
            && (len == bs || local.length == remote.length || off + len == local.length);
        if (!same) {
          want.add(j);
        }
      }
      assertEquals(want, got, "round " + round);
      if (want.isEmpty()) {
        assertTrue(w.done());
      } else {
        assertFalse(got.isEmpty());
      }
    }
  }

  @Test
  void aTreeRebuiltFromChangedLeavesEqualsOneBuiltWhole() {
    Random rnd = new Random(11);
    // block counts whose trees share a leaf count (5..8 -> 8 leaves) and some that do not
    long[][] cases = {{8, 8}, {8, 5}, {5, 8}, {7, 7}, {1, 1}, {0, 0}, {0, 1}, {64, 33}, {33, 64}, {8, 9}, {9, 4}};
    for (long[] c : cases) {
      for (int changes : new int[] {0, 1, 3, 64}) {
        byte[] before = new byte[(int) c[0] * 32];
        rnd.nextBytes(before);
        byte[] after = java.util.Arrays.copyOf(before, (int) c[1] * 32);
        if (c[1] > c[0]) {
          rnd.nextBytes(after); // grown: new leaves everywhere
          System.arraycopy(before, 0, after, 0, before.length);
          for (int b = before.length; b < after.length; b++) {
            after[b] = (byte) rnd.nextInt();
          }
        }
        for (int k = 0; k < changes && c[1] > 0; k++) {
          after[rnd.nextInt((int) c[1]) * 32 + rnd.nextInt(32)] ^= 1;
        }
        HashTree base = HashTree.fromLeafHashes(c[0], before);
        HashTree whole = HashTree.fromLeafHashes(c[1], after);
        HashTree rebuilt = base.withLeafHashes(c[1], after);
        String what = c[0] + " -> " + c[1] + " blocks, " + changes + " changes";
        assertEquals(whole.blockCount(), rebuilt.blockCount(), what);
        assertEquals(whole.nodeCount(), rebuilt.nodeCount(), what);
        for (int k = 0; k < whole.nodeCount(); k++) {
          assertArrayEquals(whole.node(k), rebuilt.node(k), what + ", node " + k);
        }
        assertArrayEquals(before.length == 0 && c[0] == 0 ? new byte[32] : base.root(),
            HashTree.fromLeafHashes(c[0], before).root(), "the base tree is left as it was");
      }
    }
  }

  @Test
  void aProjectionToTheSameShapeKeepingEveryLeafIsTheTreeItself() {
    byte[] leaves = new byte[5 * 32];
    new Random(12).nextBytes(leaves);
    HashTree t = HashTree.fromLeafHashes(5, leaves);
    assertTrue(t.project(8, 5) == t);
    assertTrue(t.project(8, 9) == t);
    HashTree fewer = t.project(8, 3);
    assertFalse(fewer == t);
    // 8 leaves, the last five of them padding
    byte[] padded = java.util.Arrays.copyOf(java.util.Arrays.copyOf(leaves, 3 * 32), 8 * 32);
    assertArrayEquals(HashTree.fromLeafHashes(8, padded).root(), fewer.root());
  }
}
