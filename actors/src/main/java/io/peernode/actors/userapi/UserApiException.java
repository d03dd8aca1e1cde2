package io.peernode.actors.userapi;

/**
 * A user API call that cannot be served, as a value the JSON-RPC layer maps onto an error:
 * {@link Kind#BAD_PARAMS} is -32602 (the message names the parameter), the others are node
 * errors in the -32000 range.
 */
public final class UserApiException extends RuntimeException {

  public enum Kind {
    /** A parameter is malformed: bad hex, not a schema, not an object, too large, ... */
    BAD_PARAMS(-32602),
    /** The thing named does not exist here: an unknown stream id, a schema not subscribed. */
    NOT_FOUND(-32001),
    /** The node could not answer in time. */
    UNAVAILABLE(-32002);

    public final int jsonRpcCode;

    Kind(int code) {
      this.jsonRpcCode = code;
    }
  }

  private final Kind kind;
  private final String param;

  private UserApiException(Kind kind, String param, String message, Throwable cause) {
    super(message, cause, false, false);
    this.kind = kind;
    this.param = param;
  }

  public static UserApiException badParam(String param, String why) {
    return new UserApiException(Kind.BAD_PARAMS, param, "invalid param '" + param + "': " + why, null);
  }

  public static UserApiException notFound(String message) {
    return new UserApiException(Kind.NOT_FOUND, null, message, null);
  }

  public static UserApiException unavailable(String message, Throwable cause) {
    return new UserApiException(Kind.UNAVAILABLE, null, message, cause);
  }

  public Kind kind() {
    return kind;
  }

  /** The JSON-RPC error code for this failure. */
  public int jsonRpcCode() {
    return kind.jsonRpcCode;
  }

  /** The name of the bad parameter, for BAD_PARAMS; null otherwise. */
  public String param() {
    return param;
  }
}
