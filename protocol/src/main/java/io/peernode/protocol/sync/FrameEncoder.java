package io.peernode.protocol.sync;

import io.peernode.protocol.sync.SyncJson.Obj;
import java.nio.charset.StandardCharsets;

/**
 * Writes frames. The header and JSON are produced as one small array; the binary payload may be
 * written separately (streamed) by the caller, as long as exactly {@code binLength} bytes follow.
 */
public final class FrameEncoder {

  private FrameEncoder() {}

  /** {@code json-length: J\nbin-length: B\n} followed by the JSON bytes. */
  public static byte[] head(Obj json, long binLength) {
    if (binLength < 0 || binLength > 9_999_999_999L) {
      throw new IllegalArgumentException("binary length out of range: " + binLength);
    }
    byte[] body = SyncJson.bytes(json);
    byte[] header =
        ("json-length: " + body.length + "\nbin-length: " + binLength + "\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[header.length + body.length];
    System.arraycopy(header, 0, out, 0, header.length);
    System.arraycopy(body, 0, out, header.length, body.length);
    return out;
  }

  /** A whole frame in one array (small frames, tests, vectors). */
  public static byte[] encode(Obj json, byte[] binary) {
    byte[] head = head(json, binary.length);
    byte[] out = new byte[head.length + binary.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(binary, 0, out, head.length, binary.length);
    return out;
  }

  public static byte[] encode(SyncMessage message) {
    return encode(message.toJson(), message.binary());
  }
}
