package io.peernode.protocol.jsonrpc;

/**
 * A JSON-RPC 2.0 error as a value: a code from the specification (or the -32000 range for
 * node errors) and a message that says what was wrong. Handlers throw it (or fail their
 * future with it); the dispatcher turns it into the error member of the response.
 */
public final class RpcException extends RuntimeException {

  public static final int PARSE_ERROR = -32700;
  public static final int INVALID_REQUEST = -32600;
  public static final int METHOD_NOT_FOUND = -32601;
  public static final int INVALID_PARAMS = -32602;
  public static final int INTERNAL_ERROR = -32603;
  /** Node errors: an unknown stream, an unreachable node, a full queue. */
  public static final int NODE_ERROR = -32000;

  private final int code;

  public RpcException(int code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public static RpcException invalidParams(String param, String why) {
    return new RpcException(INVALID_PARAMS, "invalid param '" + param + "': " + why);
  }

  public static RpcException nodeError(String message) {
    return new RpcException(NODE_ERROR, message);
  }

  public int code() {
    return code;
  }
}
