package io.peernode.protocol.sync;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Incremental decoder for {@code json-length: J\nbin-length: B\n<J bytes JSON><B bytes>} frames.
 *
 * <p>Bytes may arrive split anywhere. Both header lines are checked byte by byte (exact prefix,
 * 1 to 10 ASCII digits, {@code \n}) and both lengths against the limits before any body buffer
 * exists; the JSON buffer is allocated at its exact size ({@code <= maxJsonBytes}) and the binary
 * buffer grows only as bytes actually arrive, never past {@code B <= maxBinBytes}. So a peer
 * announcing a large frame and then going silent costs nothing. After the first error the decoder
 * is poisoned: a byte stream that broke framing cannot be resynchronised.
 *
 * <p>{@link #zeroCopy} decoders keep the binary part as slices of the buffers they are fed
 * ({@link Binary}) instead of copying it into one array: for callers whose buffers are never
 * written again once fed (Akka's immutable {@code ByteString}s). It holds the same bytes as
 * the copying mode, plus at most the unused parts of the first and the last buffer a frame
 * shares with its neighbours.
 *
 * <p>Not thread-safe; one instance per connection direction.
 */
public final class FrameDecoder {

  private static final byte[] JSON_PREFIX = "json-length: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BIN_PREFIX = "bin-length: ".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_DIGITS = 10;
  private static final int FIRST_BIN_CHUNK = 64 * 1024;

  private enum State { JSON_HEADER, BIN_HEADER, JSON_BODY, BIN_BODY, FAILED }

  private final int maxJsonBytes;
  private final int maxBinBytes;
  private final boolean zeroCopy;
  private final java.util.ArrayList<ByteBuffer> pieces = new java.util.ArrayList<>();

  private State state = State.JSON_HEADER;
  private int prefixPos;
  private int digits;
  private long value;
  private int jsonLength;
  private int binLength;
  private byte[] json;
  private int jsonFilled;
  private byte[] bin;
  private int binFilled;
  private String failure;

  public FrameDecoder(int maxJsonBytes, int maxBinBytes) {
    this(maxJsonBytes, maxBinBytes, false);
  }

  private FrameDecoder(int maxJsonBytes, int maxBinBytes, boolean zeroCopy) {
    if (maxJsonBytes < 1 || maxBinBytes < 0) {
      throw new IllegalArgumentException("limits must be positive");
    }
    this.maxJsonBytes = maxJsonBytes;
    this.maxBinBytes = maxBinBytes;
    this.zeroCopy = zeroCopy;
  }

  /**
   * A decoder that keeps slices of the fed buffers as the frames' binary parts: the caller must
   * never change a buffer's bytes after feeding it.
   */
  public static FrameDecoder zeroCopy(int maxJsonBytes, int maxBinBytes) {
    return new FrameDecoder(maxJsonBytes, maxBinBytes, true);
  }

  /**
   * Bytes of the frame being received this decoder holds now (JSON plus binary, the latter as
   * received so far in zero-copy mode); for limits tests and metrics.
   */
  public long heldBytes() {
    return (json == null ? 0 : json.length) + (bin == null ? 0 : bin.length) + (zeroCopy ? binFilled : 0);
  }

  /** True while no frame is partly received (used to tell a clean close from a cut frame). */
  public boolean atFrameBoundary() {
    return state == State.JSON_HEADER && prefixPos == 0;
  }

  /**
   * Consumes all of {@code in}, handing each complete frame to {@code out} in order.
   *
   * @throws FrameException at the first malformed byte; frames completed before it were delivered
   */
  public void feed(ByteBuffer in, Consumer<Frame> out) throws FrameException {
    if (state == State.FAILED) {
      throw new FrameException(failure);
    }
    while (in.hasRemaining()) {
      switch (state) {
        case JSON_HEADER -> header(in, JSON_PREFIX, "json-length", maxJsonBytes);
        case BIN_HEADER -> header(in, BIN_PREFIX, "bin-length", maxBinBytes);
        case JSON_BODY -> {
          int n = Math.min(in.remaining(), jsonLength - jsonFilled);
          in.get(json, jsonFilled, n);
          jsonFilled += n;
          if (jsonFilled == jsonLength) {
            state = State.BIN_BODY;
            if (binLength == 0) {
              emit(out);
            }
          }
        }
        case BIN_BODY -> {
          int n = Math.min(in.remaining(), binLength - binFilled);
          if (zeroCopy) {
            pieces.add(in.slice(in.position(), n));
            in.position(in.position() + n);
          } else {
            ensureBinCapacity(binFilled + n);
            in.get(bin, binFilled, n);
          }
          binFilled += n;
          if (binFilled == binLength) {
            emit(out);
          }
        }
        default -> throw new FrameException(failure);
      }
    }
  }

  /** Convenience for tests and blocking callers. */
  public void feed(byte[] bytes, Consumer<Frame> out) throws FrameException {
    feed(ByteBuffer.wrap(bytes), out);
  }

  private void header(ByteBuffer in, byte[] prefix, String name, int limit) throws FrameException {
    while (in.hasRemaining()) {
      byte b = in.get();
      if (prefixPos < prefix.length) {
        if (b != prefix[prefixPos]) {
          fail("malformed header: expected '" + name + ": ' at byte " + prefixPos + " of the line");
        }
        prefixPos++;
      } else if (b >= '0' && b <= '9') {
        if (++digits > MAX_DIGITS) {
          fail(name + " has more than " + MAX_DIGITS + " digits");
        }
        value = value * 10 + (b - '0');
      } else if (b == '\n') {
        if (digits == 0) {
          fail(name + " is empty");
        }
        if (value > limit) {
          fail(name + " " + value + " exceeds the limit of " + limit);
        }
        int v = (int) value;
        prefixPos = 0;
        digits = 0;
        value = 0;
        if (state == State.JSON_HEADER) {
          jsonLength = v;
          state = State.BIN_HEADER;
        } else {
          binLength = v;
          // Both lengths are known and within the limits: only now may a buffer exist.
          json = new byte[jsonLength];
          jsonFilled = 0;
          bin = null;
          binFilled = 0;
          state = State.JSON_BODY;
          if (jsonLength == 0) {
            fail("json-length is 0: the JSON object is missing");
          }
        }
        return;
      } else {
        fail(name + " is not a decimal number (byte 0x" + Integer.toHexString(b & 0xff) + ")");
      }
    }
  }

  private void ensureBinCapacity(int needed) {
    if (bin == null) {
      bin = new byte[Math.min(binLength, Math.max(FIRST_BIN_CHUNK, needed))];
    } else if (bin.length < needed) {
      long grown = Math.max((long) bin.length * 2, needed);
      byte[] next = new byte[(int) Math.min(binLength, grown)];
      System.arraycopy(bin, 0, next, 0, binFilled);
      bin = next;
    }
  }

  private void emit(Consumer<Frame> out) throws FrameException {
    Binary payload = binLength == 0 ? Binary.EMPTY : zeroCopy ? Binary.of(pieces) : Binary.of(bin);
    byte[] jsonBytes = json;
    json = null;
    bin = null;
    pieces.clear();
    binFilled = 0;
    state = State.JSON_HEADER;
    var obj = parse(jsonBytes);
    out.accept(new Frame(obj, payload));
  }

  private SyncJson.Obj parse(byte[] jsonBytes)
      throws FrameException {
    try {
      var obj = SyncJson.parseObject(jsonBytes);
      if (obj.text("command") == null) {
        throw new FrameException("the JSON object has no string field 'command'");
      }
      return obj;
    } catch (FrameException e) {
      fail(e.getMessage());
      throw e; // unreachable
    }
  }

  private void fail(String message) throws FrameException {
    state = State.FAILED;
    failure = message;
    json = null;
    bin = null;
    pieces.clear();
    binFilled = 0;
    throw new FrameException(message);
  }
}
