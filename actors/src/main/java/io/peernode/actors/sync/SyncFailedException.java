package io.peernode.actors.sync;

/**
 * A transfer that did not complete: refused by the server ({@code deny}: {@link #status()} and
 * {@link #retrySeconds()} set), answered with {@code err} ({@code status} 0), or failed locally
 * (connection, timeout, I/O, verification).
 */
public final class SyncFailedException extends RuntimeException {

  private final int status;
  private final int retrySeconds;

  public SyncFailedException(int status, int retrySeconds, String message) {
    super(message, null, false, false);
    this.status = status;
    this.retrySeconds = retrySeconds;
  }

  /** The deny status (400, 404, 409, 426, 503), or 0 when the server did not deny the session. */
  public int status() {
    return status;
  }

  public int retrySeconds() {
    return retrySeconds;
  }
}
