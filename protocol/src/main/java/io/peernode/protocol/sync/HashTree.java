package io.peernode.protocol.sync;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The SHA-256 hash tree of a file at one block size, in heap order (spec: "Files, blocks and the
 * hash tree"). {@code L} = smallest power of two >= max(blockCount, 1); node 0 is the root, the
 * children of node k are 2k+1 and 2k+2, leaf j is node L-1+j; a padding leaf is 32 zero bytes and
 * an inner node is SHA-256(left || right).
 *
 * <p>Immutable; all nodes live in one flat array of (2L-1)*32 bytes. Building it from a file is
 * the caller's job (stream the blocks through {@link #sha256} into {@link #fromLeafHashes}), which
 * keeps this class free of I/O.
 */
public final class HashTree {

  public static final int HASH_BYTES = 32;
  /** The largest leaf count whose node indices still fit in an int. */
  public static final int MAX_LEAVES = 1 << 30;

  private final long blockCount;
  private final int leafCount;
  private final byte[] nodes;

  private HashTree(long blockCount, int leafCount, byte[] nodes) {
    this.blockCount = blockCount;
    this.leafCount = leafCount;
    this.nodes = nodes;
  }

  /** ceil(size / blockSize); 0 for an empty file. */
  public static long blockCount(long size, int blockSize) {
    if (size < 0 || blockSize <= 0) {
      throw new IllegalArgumentException("size must be >= 0 and blockSize > 0");
    }
    return (size + blockSize - 1) / blockSize;
  }

  /** The smallest power of two >= max(blockCount, 1). */
  public static int leafCount(long blockCount) {
    if (blockCount > MAX_LEAVES) {
      throw new IllegalArgumentException("too many blocks for one tree: " + blockCount);
    }
    long l = 1;
    while (l < blockCount) {
      l <<= 1;
    }
    return (int) l;
  }

  /** Length of block {@code index} of a file of {@code size} bytes (only the last may be short). */
  public static int blockLength(long size, int blockSize, long index) {
    long start = index * blockSize;
    if (index < 0 || start >= size) {
      throw new IllegalArgumentException("block " + index + " is beyond the end of the file");
    }
    return (int) Math.min(blockSize, size - start);
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JRE has no SHA-256", e);
    }
  }

  public static byte[] sha256(byte[] data, int offset, int length) {
    MessageDigest md = sha256();
    md.update(data, offset, length);
    return md.digest();
  }

  /**
   * Builds the tree from the leaf hashes of blocks 0..{@code blockCount-1}, concatenated.
   */
  public static HashTree fromLeafHashes(long blockCount, byte[] leafHashes) {
    int leaves = leafCount(blockCount);
    return build(blockCount, leaves, leafHashes, (int) blockCount);
  }

  /** The tree of an in-memory file (tests, vectors, small files). */
  public static HashTree of(byte[] data, int blockSize) {
    long count = blockCount(data.length, blockSize);
    byte[] leaves = new byte[(int) count * HASH_BYTES];
    for (int j = 0; j < count; j++) {
      int off = j * blockSize;
      byte[] h = sha256(data, off, Math.min(blockSize, data.length - off));
      System.arraycopy(h, 0, leaves, j * HASH_BYTES, HASH_BYTES);
    }
    return fromLeafHashes(count, leaves);
  }

  /**
   * This file's leaves laid out in a tree of {@code leaves} leaves, keeping only the first
   * {@code keep} real leaves (the rest are padding). A client compares such a projection with the
   * peer's tree when the two files have different leaf counts, so heap indices mean the same thing.
   */
  public HashTree project(int leaves, long keep) {
    if (Integer.bitCount(leaves) != 1) {
      throw new IllegalArgumentException("leaf count must be a power of two");
    }
    if (leaves == leafCount && keep >= blockCount) {
      return this; // the same shape and every leaf kept: this tree (it never changes)
    }
    int kept = (int) Math.min(Math.min(keep, blockCount), leaves);
    byte[] leafHashes = new byte[kept * HASH_BYTES];
    System.arraycopy(nodes, (leafCount - 1) * HASH_BYTES, leafHashes, 0, leafHashes.length);
    return build(blockCount, leaves, leafHashes, kept);
  }

  /**
   * The tree {@link #fromLeafHashes} would build from {@code leafHashes}, made from this one by
   * hashing again only the nodes above leaves that differ from this tree's (a pull's staging copy
   * is its local file with a few blocks replaced: its root then costs a few hashes per changed
   * block instead of one per node). A tree of another leaf count is built whole.
   */
  public HashTree withLeafHashes(long newBlockCount, byte[] leafHashes) {
    int leaves = leafCount(newBlockCount);
    if (leaves != leafCount) {
      return fromLeafHashes(newBlockCount, leafHashes);
    }
    if (leafHashes.length < newBlockCount * HASH_BYTES) {
      throw new IllegalArgumentException("need " + newBlockCount + " leaf hashes");
    }
    byte[] n = nodes.clone();
    boolean[] dirty = new boolean[2 * leaves - 1];
    byte[] zero = new byte[HASH_BYTES];
    for (int j = 0; j < leaves; j++) {
      int k = leaves - 1 + j;
      int off = k * HASH_BYTES;
      byte[] src = j < newBlockCount ? leafHashes : zero; // past the last block: padding, all zero
      int srcOff = j < newBlockCount ? j * HASH_BYTES : 0;
      if (!Arrays.equals(n, off, off + HASH_BYTES, src, srcOff, srcOff + HASH_BYTES)) {
        System.arraycopy(src, srcOff, n, off, HASH_BYTES);
        dirty[k] = true;
      }
    }
    MessageDigest md = sha256();
    for (int k = leaves - 2; k >= 0; k--) {
      if (dirty[2 * k + 1] || dirty[2 * k + 2]) {
        md.update(n, (2 * k + 1) * HASH_BYTES, 2 * HASH_BYTES);
        System.arraycopy(md.digest(), 0, n, k * HASH_BYTES, HASH_BYTES);
        dirty[k] = true;
      }
    }
    return new HashTree(newBlockCount, leaves, n);
  }

  private static HashTree build(long blockCount, int leaves, byte[] leafHashes, int realLeaves) {
    if (leafHashes.length < (long) realLeaves * HASH_BYTES) {
      throw new IllegalArgumentException("need " + realLeaves + " leaf hashes");
    }
    byte[] nodes = new byte[(2 * leaves - 1) * HASH_BYTES];
    System.arraycopy(leafHashes, 0, nodes, (leaves - 1) * HASH_BYTES, realLeaves * HASH_BYTES);
    MessageDigest md = sha256();
    for (int k = leaves - 2; k >= 0; k--) {
      md.update(nodes, (2 * k + 1) * HASH_BYTES, 2 * HASH_BYTES);
      byte[] h = md.digest();
      System.arraycopy(h, 0, nodes, k * HASH_BYTES, HASH_BYTES);
    }
    return new HashTree(blockCount, leaves, nodes);
  }

  public long blockCount() {
    return blockCount;
  }

  public int leafCount() {
    return leafCount;
  }

  public int nodeCount() {
    return 2 * leafCount - 1;
  }

  public byte[] root() {
    return node(0);
  }

  public String rootHex() {
    return io.peernode.protocol.Hex.encode(nodes, 0, HASH_BYTES);
  }

  public byte[] node(int k) {
    checkNode(k);
    return Arrays.copyOfRange(nodes, k * HASH_BYTES, (k + 1) * HASH_BYTES);
  }

  /** Copies node {@code k} into {@code out} at {@code offset}. */
  public void copyNode(int k, byte[] out, int offset) {
    checkNode(k);
    System.arraycopy(nodes, k * HASH_BYTES, out, offset, HASH_BYTES);
  }

  /** True when node {@code k} equals the 32 bytes of {@code other} at {@code offset}. */
  public boolean nodeEquals(int k, byte[] other, int offset) {
    checkNode(k);
    return Arrays.equals(nodes, k * HASH_BYTES, (k + 1) * HASH_BYTES,
        other, offset, offset + HASH_BYTES);
  }

  public boolean isLeaf(int k) {
    return k >= leafCount - 1;
  }

  private void checkNode(int k) {
    if (k < 0 || k >= nodeCount()) {
      throw new IndexOutOfBoundsException("node " + k + " of " + nodeCount());
    }
  }
}
