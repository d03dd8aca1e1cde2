package io.peernode.protocol.userapi;

/** A subscription schema that is not a usable JSON Schema document; the message says why. */
public final class InvalidSchemaException extends IllegalArgumentException {

  public InvalidSchemaException(String message) {
    super(message);
  }

  public InvalidSchemaException(String message, Throwable cause) {
    super(message, cause);
  }
}
