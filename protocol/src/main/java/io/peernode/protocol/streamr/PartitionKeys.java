package io.peernode.protocol.streamr;

import java.nio.charset.StandardCharsets;

/**
 * Chooses a partition from a publish request's {@code pkey}: the same key always maps to the
 * same partition, on every node and across releases. The hash is MurmurHash3 x86 32-bit
 * (seed 0) of the key's UTF-8 bytes, taken {@code floorMod} the partition count. Murmur rather
 * than {@link String#hashCode()} because consecutive keys ("device-1", "device-2") then spread
 * evenly, and its value is fixed by a public reference implementation (tested by known answers).
 */
public final class PartitionKeys {

  private PartitionKeys() {}

  /** @param partitions the stream's partition count, at least 1 */
  public static int partitionFor(String pkey, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    return Math.floorMod(murmur3(pkey.getBytes(StandardCharsets.UTF_8), 0), partitions);
  }

  /** MurmurHash3_x86_32 as published by Austin Appleby. */
  public static int murmur3(byte[] data, int seed) {
    final int c1 = 0xcc9e2d51;
    final int c2 = 0x1b873593;
    int h = seed;
    int len = data.length;
    int blocks = len / 4;
    for (int i = 0; i < blocks; i++) {
      int j = i * 4;
      int k = (data[j] & 0xff)
          | (data[j + 1] & 0xff) << 8
          | (data[j + 2] & 0xff) << 16
          | (data[j + 3] & 0xff) << 24;
      k *= c1;
      k = Integer.rotateLeft(k, 15);
      k *= c2;
      h ^= k;
      h = Integer.rotateLeft(h, 13);
      h = h * 5 + 0xe6546b64;
    }
    int k = 0;
    int tail = blocks * 4;
    switch (len & 3) {
      case 3:
        k ^= (data[tail + 2] & 0xff) << 16;
        // fall through
      case 2:
        k ^= (data[tail + 1] & 0xff) << 8;
        // fall through
      case 1:
        k ^= data[tail] & 0xff;
        k *= c1;
        k = Integer.rotateLeft(k, 15);
        k *= c2;
        h ^= k;
        break;
      default:
        break;
    }
    h ^= len;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }
}
