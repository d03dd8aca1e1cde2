package io.peernode.actors.sync;

/**
 * Progress of a client transfer, called from the client's session actor: implementations must be
 * quick and must not block (print a line, update a field).
 */
@FunctionalInterface
public interface SyncProgress {

  /** Phases in order: hashing the local file, comparing trees, moving blocks, verifying. */
  enum Phase { HASH, COMPARE, TRANSFER, VERIFY }

  /**
   * @param done units done in this phase (blocks; for COMPARE, tree levels)
   * @param total units in this phase (may be 0)
   * @param bytesOnWire bytes sent and received so far
   */
  void onProgress(Phase phase, long done, long total, long bytesOnWire);

  SyncProgress NONE = (p, d, t, b) -> { };
}
