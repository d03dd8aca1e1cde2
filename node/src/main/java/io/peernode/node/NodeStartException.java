package io.peernode.node;

/** A node could not start, with a message that says why in one line (no stack trace needed). */
public final class NodeStartException extends RuntimeException {

  public NodeStartException(String message) {
    super(message);
  }

  public NodeStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
