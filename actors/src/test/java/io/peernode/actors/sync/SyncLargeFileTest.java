package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file four times larger than the heap syncs: blocks are streamed in chunks, never the whole
 * file in memory. Runs {@link SyncLargeFileMain} in a child JVM with {@code -Xmx64m}. The size is
 * {@code -Dsync.large.mib} (default 256).
 */
class SyncLargeFileTest {

  @TempDir Path tmp;

  @Test
  void fileLargerThanTheHeapPullsAndPushesWithOnlyTheChangedBlocks() throws Exception {
    String mib = System.getProperty("sync.large.mib", "256");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
        SyncLargeFileMain.class.getName(), tmp.toString(), mib))
        .redirectErrorStream(true).start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(10, TimeUnit.MINUTES));
    System.out.println(out);
    assertEquals(0, p.exitValue(), out);
    long blocks = Long.parseLong(mib);
    assertTrue(out.contains("full SyncResult[action=pull"), out);
    assertTrue(out.contains("blocksTransferred=" + blocks + ","), out);
    // 1% of the blocks changed (fewer if two changes hit one block)
    assertTrue(out.matches("(?s).*delta SyncResult\\[.*blocksTransferred=[1-" + (blocks / 100) + "],.*")
        || out.matches("(?s).*delta SyncResult\\[.*blocksTransferred=[1-9],.*"), out);
  }
}
