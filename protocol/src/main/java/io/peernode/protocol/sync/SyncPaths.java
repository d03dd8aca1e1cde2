package io.peernode.protocol.sync;

import java.util.List;

/**
 * Filename rules of the sync protocol: a relative path with {@code /} separators, no absolute
 * path, no empty, {@code .} or {@code ..} segment, no NUL. Symlinks are the server's business
 * (they need the file system); this is the pure, syntactic half.
 */
public final class SyncPaths {

  /** Bounds the work a hostile name can cause; far above any real path. */
  public static final int MAX_NAME_CHARS = 4096;

  private SyncPaths() {}

  /**
   * @return the path segments
   * @throws CommandException saying what is wrong with the name
   */
  public static List<String> segments(String filename) throws CommandException {
    if (filename == null || filename.isEmpty()) {
      throw new CommandException("filename is empty");
    }
    if (filename.length() > MAX_NAME_CHARS) {
      throw new CommandException("filename is longer than " + MAX_NAME_CHARS + " characters");
    }
    if (filename.indexOf('\0') >= 0) {
      throw new CommandException("filename contains a NUL byte");
    }
    if (filename.startsWith("/")) {
      throw new CommandException("filename is absolute; it must be relative to the sync root");
    }
    if (filename.indexOf('\\') >= 0 || (filename.length() >= 2 && filename.charAt(1) == ':')) {
      throw new CommandException("filename must use '/' separators and no drive letter");
    }
    String[] parts = filename.split("/", -1);
    for (String p : parts) {
      if (p.isEmpty()) {
        throw new CommandException("filename has an empty segment");
      }
      if (p.equals("..")) {
        throw new CommandException("filename has a '..' segment");
      }
      if (p.equals(".")) {
        throw new CommandException("filename has a '.' segment");
      }
    }
    return List.of(parts);
  }
}
