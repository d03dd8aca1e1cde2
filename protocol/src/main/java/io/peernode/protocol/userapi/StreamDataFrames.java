package io.peernode.protocol.userapi;

import java.nio.ByteBuffer;

/**
 * The frames a byte stream's data connection carries after its {@link StreamDataHandshake}, in
 * both directions: the stream's bytes, and the credit that the receiving end gives back as its
 * user reads them (so credit needs no message over the cluster). Each frame is a 5-byte header,
 * its type and a big-endian unsigned 32-bit number, then for data that many bytes:
 *
 * <ul>
 *   <li>{@code 0x00 n} and n bytes (1 &le; n &le; the receiver's limit): bytes of the stream;
 *   <li>{@code 0x01 n} (1 &le; n &lt; 2^31): the sender's user read n more bytes, so n more may
 *       be written to it.
 * </ul>
 *
 * <p>{@link Decoder} reads frames out of arbitrary pieces of a connection (a header may be split
 * across reads) and reports data as positions in the piece, so a caller can hand the bytes on as
 * slices without copying them.
 */
public final class StreamDataFrames {

  public static final int HEADER_BYTES = 5;
  public static final byte DATA = 0x00;
  public static final byte CREDIT = 0x01;

  private StreamDataFrames() {}

  /** The header of a data frame of {@code length} bytes (which follow it). */
  public static byte[] dataHeader(int length) {
    if (length <= 0) {
      throw new IllegalArgumentException("a data frame carries at least 1 byte, got " + length);
    }
    return header(DATA, length);
  }

  /** A credit frame giving {@code bytes} bytes back. */
  public static byte[] credit(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("a credit frame gives at least 1 byte, got " + bytes);
    }
    return header(CREDIT, bytes);
  }

  private static byte[] header(byte type, int n) {
    return new byte[] {type, (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n};
  }

  /** Where a {@link Decoder} reports what it found. */
  public interface Frames {
    /** Bytes of the stream at {@code [from, to)} of the piece being fed (part of a data frame). */
    void data(int from, int to);

    /** A credit frame of {@code bytes}. */
    void credit(int bytes);
  }

  /**
   * Reads frames from consecutive pieces of one direction of a connection. Not thread-safe: one
   * per connection direction. A data frame's bytes are reported as they arrive (a frame may span
   * pieces), never more than {@code maxData} per frame.
   */
  public static final class Decoder {
    private final int maxData;
    private final byte[] header = new byte[HEADER_BYTES];
    private int headerFill;
    /** Bytes of the current data frame still to come; 0 between frames. */
    private long dataLeft;

    public Decoder(int maxData) {
      if (maxData <= 0) {
        throw new IllegalArgumentException("maxData must be positive, got " + maxData);
      }
      this.maxData = maxData;
    }

    /**
     * Reads {@code piece} from its position to its limit (the position is not moved); positions
     * given to {@code out.data} count from the piece's position.
     *
     * @throws IllegalArgumentException saying what is wrong (unknown type, a zero or oversized
     *     length); the connection is then unusable
     */
    public void feed(ByteBuffer piece, Frames out) {
      int base = piece.position();
      int end = piece.limit() - base;
      int i = 0;
      while (i < end) {
        if (dataLeft > 0) {
          int n = (int) Math.min(dataLeft, end - i);
          out.data(i, i + n);
          dataLeft -= n;
          i += n;
          continue;
        }
        header[headerFill++] = piece.get(base + i++);
        if (headerFill < HEADER_BYTES) {
          continue;
        }
        headerFill = 0;
        long n = ((header[1] & 0xffL) << 24) | ((header[2] & 0xff) << 16)
            | ((header[3] & 0xff) << 8) | (header[4] & 0xff);
        if (header[0] == DATA) {
          if (n == 0 || n > maxData) {
            throw new IllegalArgumentException(
                "a data frame of " + n + " bytes (1 to " + maxData + " allowed)");
          }
          dataLeft = n;
        } else if (header[0] == CREDIT) {
          if (n == 0 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                "a credit frame of " + n + " bytes (1 to " + Integer.MAX_VALUE + " allowed)");
          }
          out.credit((int) n);
        } else {
          throw new IllegalArgumentException(
              String.format("unknown stream data frame type 0x%02x", header[0] & 0xff));
        }
      }
    }

    /** True between frames (nothing of a frame is pending). */
    public boolean atFrameBoundary() {
      return headerFill == 0 && dataLeft == 0;
    }
  }
}
