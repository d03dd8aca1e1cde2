package io.peernode.protocol.sync;

/**
 * The byte stream is not a valid sequence of frames (bad header, over a limit, JSON that does not
 * parse, missing or unknown {@code command}). The spec answers it with {@code err} and closes the
 * connection, because the receiver can no longer find the next frame boundary reliably.
 */
public final class FrameException extends Exception {

  public FrameException(String message) {
    super(message, null, false, false);
  }
}
