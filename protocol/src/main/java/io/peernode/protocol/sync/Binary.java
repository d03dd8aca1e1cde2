package io.peernode.protocol.sync;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary part of a frame as the pieces it arrived in: read-only slices of the buffers the
 * decoder was fed, in order, without copying them into one array. A 4 MiB {@code data} answer is
 * then written to its file and hashed block by block straight from the socket's buffers.
 *
 * <p>Immutable as long as nobody changes the bytes of the buffers it slices (the decoder only
 * keeps slices in its zero-copy mode, whose caller promises exactly that).
 */
public final class Binary {

  public static final Binary EMPTY = new Binary(new ByteBuffer[0], 0);

  private final ByteBuffer[] pieces;
  private final int length;

  private Binary(ByteBuffer[] pieces, int length) {
    this.pieces = pieces;
    this.length = length;
  }

  public static Binary of(byte[] bytes) {
    return bytes.length == 0 ? EMPTY : new Binary(new ByteBuffer[] {ByteBuffer.wrap(bytes)}, bytes.length);
  }

  /** The concatenation of the remaining bytes of {@code pieces} (they are not copied). */
  public static Binary of(List<ByteBuffer> pieces) {
    long total = 0;
    List<ByteBuffer> kept = new ArrayList<>(pieces.size());
    for (ByteBuffer p : pieces) {
      if (p.hasRemaining()) {
        kept.add(p.slice());
        total += p.remaining();
      }
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a binary part is at most 2 GiB");
    }
    return new Binary(kept.toArray(new ByteBuffer[0]), (int) total);
  }

  public int length() {
    return length;
  }

  /** How many pieces the bytes are in (1 for a frame decoded into one array). */
  public int pieceCount() {
    return pieces.length;
  }

  /**
   * All bytes in one array. Shares the array when the binary is exactly one whole array (as
   * {@link #of(byte[])} made it); otherwise a copy. For hashes and tests, not for data blocks.
   */
  public byte[] toArray() {
    if (pieces.length == 1 && pieces[0].hasArray() && pieces[0].arrayOffset() == 0
        && pieces[0].array().length == length) {
      return pieces[0].array();
    }
    byte[] out = new byte[length];
    int pos = 0;
    for (ByteBuffer p : pieces) {
      int n = p.remaining();
      p.duplicate().get(out, pos, n);
      pos += n;
    }
    return out;
  }

  /**
   * The bytes {@code [offset, offset+len)} as views of the pieces they lie in, in order (no copy;
   * not read-only, so that digests and channels take their arrays directly: never write through
   * them). Each call returns fresh views, so callers may consume them.
   */
  public ByteBuffer[] range(int offset, int len) {
    if (offset < 0 || len < 0 || (long) offset + len > length) {
      throw new IndexOutOfBoundsException("range " + offset + "+" + len + " of " + length);
    }
    List<ByteBuffer> out = new ArrayList<>(2);
    int start = 0;
    for (ByteBuffer p : pieces) {
      int n = p.remaining();
      int from = Math.max(offset, start);
      int to = Math.min(offset + len, start + n);
      if (from < to) {
        out.add(p.slice(p.position() + from - start, to - from));
      }
      start += n;
      if (start >= offset + len) {
        break;
      }
    }
    return out.toArray(new ByteBuffer[0]);
  }

  /** SHA-256 of {@code [offset, offset+len)}, fed piece by piece into {@code md} (reset first). */
  public byte[] sha256(MessageDigest md, int offset, int len) {
    md.reset();
    for (ByteBuffer b : range(offset, len)) {
      md.update(b);
    }
    return md.digest();
  }
}
