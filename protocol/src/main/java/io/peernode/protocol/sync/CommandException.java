package io.peernode.protocol.sync;

/**
 * A well-framed command whose fields are wrong (missing, wrong type, out of range). It is answered
 * with {@code err} (or {@code deny} 400 for {@code init}); unlike {@link FrameException} the session
 * can go on, because the frame boundary is still known.
 */
public final class CommandException extends Exception {

  public CommandException(String message) {
    super(message, null, false, false);
  }
}
