package io.peernode.actors.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Drops the page cache of a file a pull is about to replace ({@code client.drop-replaced-cache}).
 * The rename of the staging copy over the local file frees the old file's cached pages inside
 * the rename (the kernel's eviction of the unlinked inode: 0.25-0.3 s for a cached 1 GiB file on
 * the 2-core test machine), at the very end of the pull; freeing them while the blocks move takes
 * that off the end. Java 17 has no {@code posix_fadvise}, so GNU dd does it:
 * {@code dd if=FILE iflag=nocache count=0} reads nothing and advises {@code POSIX_FADV_DONTNEED}
 * for the whole file (documented in coreutils' manual). Advice only: clean pages go, dirty ones
 * are written back first, nothing about the file changes. Linux only; a dd that is missing,
 * refuses the flag or fails is ignored (the rename then frees the pages as before).
 */
final class PageCacheDrop {

  private static final boolean LINUX =
      System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");

  private PageCacheDrop() {}

  /** The command that drops {@code file}'s cached pages. */
  static List<String> command(Path file) {
    return List.of("dd", "if=" + file, "iflag=nocache", "count=0", "status=none");
  }

  /**
   * Starts the drop of {@code file}'s cached pages on {@code executor}; the future completes when
   * it is over (or at once when there is nothing to do, it cannot run, or it failed), never
   * exceptionally. A symbolic link is left alone: the rename replaces the link, not its target.
   */
  static CompletableFuture<Void> start(Path file, Executor executor) {
    if (!LINUX) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    SyncStore.runOrInline(executor, () -> {
      try {
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          done.complete(null);
          return;
        }
        Process p = new ProcessBuilder(command(file.toAbsolutePath()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        p.onExit().whenComplete((x, t) -> done.complete(null));
      } catch (IOException | RuntimeException e) {
        done.complete(null); // no dd: the rename frees the pages
      }
    });
    return done;
  }
}
