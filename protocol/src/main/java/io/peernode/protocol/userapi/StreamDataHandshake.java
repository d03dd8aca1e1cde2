package io.peernode.protocol.userapi;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The first bytes on a byte stream's data connection: which stream it carries and the token that
 * proves the connecting node opened it. Fixed size ({@link #SIZE} bytes):
 * {@code "PNS2"} (4 ASCII bytes: magic and version; 2: the bytes that follow are {@link
 * StreamDataFrames}, credit included), the stream id (16 bytes, the 32 hex digits
 * of the user API's stream id) and the token (16 random bytes the accepting node issued for that
 * stream over the cluster). Everything after it is {@link StreamDataFrames}, in both directions.
 */
public final class StreamDataHandshake {

  public static final int ID_BYTES = 16;
  public static final int TOKEN_BYTES = 16;
  private static final byte[] MAGIC = {'P', 'N', 'S', '2'};
  public static final int SIZE = MAGIC.length + ID_BYTES + TOKEN_BYTES;

  private final byte[] streamId;
  private final byte[] token;

  public StreamDataHandshake(byte[] streamId, byte[] token) {
    if (streamId.length != ID_BYTES || token.length != TOKEN_BYTES) {
      throw new IllegalArgumentException("a stream id and a token are " + ID_BYTES + " bytes each, got "
          + streamId.length + " and " + token.length);
    }
    this.streamId = streamId.clone();
    this.token = token.clone();
  }

  public byte[] streamId() {
    return streamId.clone();
  }

  /** True when {@code candidate} is this handshake's token (in constant time). */
  public boolean hasToken(byte[] candidate) {
    return MessageDigest.isEqual(token, candidate);
  }

  public byte[] encode() {
    byte[] out = new byte[SIZE];
    System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
    System.arraycopy(streamId, 0, out, MAGIC.length, ID_BYTES);
    System.arraycopy(token, 0, out, MAGIC.length + ID_BYTES, TOKEN_BYTES);
    return out;
  }

  /**
   * Decodes exactly {@link #SIZE} bytes.
   *
   * @throws IllegalArgumentException saying what is wrong (length or magic)
   */
  public static StreamDataHandshake decode(byte[] bytes) {
    if (bytes.length != SIZE) {
      throw new IllegalArgumentException("a stream data handshake is " + SIZE + " bytes, got " + bytes.length);
    }
    if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new IllegalArgumentException("not a stream data connection (the first 4 bytes are not \"PNS2\")");
    }
    return new StreamDataHandshake(
        Arrays.copyOfRange(bytes, MAGIC.length, MAGIC.length + ID_BYTES),
        Arrays.copyOfRange(bytes, MAGIC.length + ID_BYTES, SIZE));
  }
}
