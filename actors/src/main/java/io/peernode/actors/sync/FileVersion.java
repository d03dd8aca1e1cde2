package io.peernode.actors.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Objects;

/**
 * What tells two looks at a file apart: its identity (the file key: device and inode), size and
 * mtime to the nanosecond. The server's tree cache, the client's tree cache and the checks that a
 * file did not change while it was read all compare these.
 */
record FileVersion(String fileKey, long size, long mtimeSeconds, int mtimeNanos) {

  static FileVersion of(BasicFileAttributes a) {
    Instant m = a.lastModifiedTime().toInstant();
    return new FileVersion(Objects.toString(a.fileKey()), a.size(), m.getEpochSecond(), m.getNano());
  }

  static FileVersion of(Path p) throws IOException {
    return of(Files.readAttributes(p, BasicFileAttributes.class));
  }

  Instant mtime() {
    return Instant.ofEpochSecond(mtimeSeconds, mtimeNanos);
  }
}
