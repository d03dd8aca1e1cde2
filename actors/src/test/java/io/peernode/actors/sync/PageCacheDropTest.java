package io.peernode.actors.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The drop of a file's cached pages before a pull renames over it (client.drop-replaced-cache). */
class PageCacheDropTest {

  @TempDir Path tmp;
  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  /** Pages of {@code f} in the page cache, by util-linux's fincore; -1 when it cannot tell. */
  private static long cachedPages(Path f) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder("fincore", "--noheadings", "--raw", "--output", "PAGES", f.toString())
          .redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      return -1;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return p.waitFor() == 0 && out.matches("\\d+") ? Long.parseLong(out) : -1;
  }

  private Path cachedFile(String name, int bytes) throws Exception {
    byte[] data = new byte[bytes];
    new Random(7).nextBytes(data);
    Path f = tmp.resolve(name);
    Files.write(f, data);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.force(true); // clean pages: the advice drops only those
    }
    Files.readAllBytes(f);
    return f;
  }

  @Test
  void theFilesCachedPagesGoAndItsBytesStay() throws Exception {
    assumeTrue(System.getProperty("os.name").toLowerCase().startsWith("linux"), "Linux only");
    Path f = cachedFile("local.bin", 8 << 20);
    long before = cachedPages(f);
    assumeTrue(before > 0, "fincore tells the cached pages (util-linux), and the file is cached");
    byte[] bytes = Files.readAllBytes(f);
    PageCacheDrop.start(f, executor).get(30, TimeUnit.SECONDS);
    assertEquals(0, cachedPages(f), "no page of the file left in the page cache");
    assertArrayEquals(bytes, Files.readAllBytes(f), "advice only: the file is as it was");
  }

  @Test
  void aSymbolicLinkIsLeftAloneBecauseTheRenameReplacesTheLinkNotItsTarget() throws Exception {
    Path target = cachedFile("target.bin", 1 << 20);
    long before = cachedPages(target);
    assumeTrue(before > 0, "fincore tells the cached pages (util-linux), and the file is cached");
    Path link = Files.createSymbolicLink(tmp.resolve("link.bin"), target);
    PageCacheDrop.start(link, executor).get(30, TimeUnit.SECONDS);
    assertEquals(before, cachedPages(target));
  }

  @Test
  void aFileThatIsNotThereIsNoError() throws Exception {
    PageCacheDrop.start(tmp.resolve("missing.bin"), executor).get(30, TimeUnit.SECONDS);
    assertTrue(Files.notExists(tmp.resolve("missing.bin")));
  }

  @Test
  void theCommandReadsNothingAndOnlyAdvises() {
    assertEquals(java.util.List.of("dd", "if=/a b/c.bin", "iflag=nocache", "count=0", "status=none"),
        PageCacheDrop.command(Path.of("/a b/c.bin")));
  }
}
