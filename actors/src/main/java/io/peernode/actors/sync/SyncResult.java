package io.peernode.actors.sync;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What a finished pull or push did.
 *
 * @param blocksCompared blocks of the source file whose hashes were compared with the other side
 * @param hashesFetched tree nodes fetched while walking the tree
 * @param blocksTransferred blocks whose data moved
 * @param bytesSent bytes the client wrote to the socket (headers, JSON and payloads)
 * @param bytesReceived bytes the client read from the socket
 * @param localTreeCached the local file's tree came from the client's tree cache (not hashed)
 */
public record SyncResult(String action, String remotePath, Path localPath, long size,
    int blockSize, long blocksCompared, long hashesFetched, long blocksTransferred,
    long bytesSent, long bytesReceived, Duration elapsed, boolean localTreeCached) {

  /** Everything that crossed the socket, both directions. */
  public long bytesOnWire() {
    return bytesSent + bytesReceived;
  }
}
