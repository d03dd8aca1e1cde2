package io.peernode.protocol.userapi;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The last {@code capacity} event digests seen, for dropping an event that arrives twice: a
 * fixed ring of the digests in arrival order and an open-addressing table over it, both
 * allocated once (no entry objects, no String keys, nothing to hash again: the digest is
 * SHA-256, so its first 16 bytes are the key and already uniformly spread). When full, adding a
 * digest forgets the oldest one. Two different events collide only if their SHA-256 digests
 * share 128 bits. Not thread-safe (one actor owns it).
 */
public final class DigestHistory {

  private final int capacity;
  /** The keys (two longs each) in arrival order, a ring of capacity entries. */
  private final long[] ring;
  private int oldest;
  private int size;
  /** Linear probing over pairs of longs; (0, 0) is empty (a real key of 0, 0 is stored as 0, 1). */
  private final long[] table;
  private final int mask;

  public DigestHistory(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
    this.ring = new long[2 * capacity];
    int slots = Integer.highestOneBit(Math.max(2, capacity) * 2 - 1) * 2; // >= 2 * capacity: load <= 0.5
    this.table = new long[2 * slots];
    this.mask = slots - 1;
  }

  /** Adds the digest (its 32 bytes, or at least 16); false when it is in the history already. */
  public boolean add(byte[] digest) {
    ByteBuffer b = ByteBuffer.wrap(digest);
    return add(b.getLong(0), b.getLong(8));
  }

  /**
   * Adds a digest given as text: the 64 lowercase hex digits {@link EventDigest} writes, or (from
   * a peer that sent something else) any text, which is keyed by its own SHA-256.
   */
  public boolean add(String digest) {
    byte[] raw = hex32(digest);
    return add(raw != null ? raw : EventDigest.sha256(digest.getBytes(StandardCharsets.UTF_8)));
  }

  public int size() {
    return size;
  }

  private boolean add(long hi, long lo) {
    if (hi == 0 && lo == 0) {
      lo = 1;
    }
    int slot = find(hi, lo);
    if (table[2 * slot] != 0 || table[2 * slot + 1] != 0) {
      return false;
    }
    // Inserted before the oldest is removed (the table has room for one more than capacity):
    // the slot just found stays right, so the key is looked up once. The table is large, and
    // each lookup is likely a cache miss.
    table[2 * slot] = hi;
    table[2 * slot + 1] = lo;
    if (size == capacity) {
      remove(ring[2 * oldest], ring[2 * oldest + 1]);
      ring[2 * oldest] = hi; // the newest takes the oldest's place in the ring
      ring[2 * oldest + 1] = lo;
      oldest = (oldest + 1) % capacity;
    } else {
      int at = (oldest + size) % capacity;
      ring[2 * at] = hi;
      ring[2 * at + 1] = lo;
      size++;
    }
    return true;
  }

  /** The slot holding the key, or the empty slot where it would go. */
  private int find(long hi, long lo) {
    int i = (int) lo & mask;
    while (true) {
      long h = table[2 * i];
      long l = table[2 * i + 1];
      if ((h == 0 && l == 0) || (h == hi && l == lo)) {
        return i;
      }
      i = (i + 1) & mask;
    }
  }

  /** Removes a key that is present, closing the gap (backward-shift deletion, no tombstones). */
  private void remove(long hi, long lo) {
    int gap = find(hi, lo);
    int i = gap;
    while (true) {
      i = (i + 1) & mask;
      long h = table[2 * i];
      long l = table[2 * i + 1];
      if (h == 0 && l == 0) {
        break;
      }
      int home = (int) l & mask;
      // Move the entry at i into the gap unless its home lies cyclically in (gap, i], i.e. its
      // distance from the gap is 1..(i - gap). As arithmetic, not as the comparisons of both
      // cases (wrapped or not): those were rare enough that C2 compiled them as traps, and each
      // wrap at the table's end then deoptimized the receiving actor (seen in JFR, 2026-12-01).
      boolean homeBetween = ((home - gap - 1) & mask) < ((i - gap) & mask);
      if (!homeBetween) {
        table[2 * gap] = h;
        table[2 * gap + 1] = l;
        gap = i;
      }
    }
    table[2 * gap] = 0;
    table[2 * gap + 1] = 0;
  }

  private static byte[] hex32(String s) {
    if (s.length() != 64) {
      return null;
    }
    byte[] out = new byte[32];
    for (int i = 0; i < 32; i++) {
      int hi = Character.digit(s.charAt(2 * i), 16);
      int lo = Character.digit(s.charAt(2 * i + 1), 16);
      if (hi < 0 || lo < 0 || Character.isUpperCase(s.charAt(2 * i)) || Character.isUpperCase(s.charAt(2 * i + 1))) {
        return null;
      }
      out[i] = (byte) ((hi << 4) | lo);
    }
    return out;
  }
}
