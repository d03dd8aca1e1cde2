package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.NodeProcess;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Crash safety of a push, against a node process that is killed with SIGKILL mid-push. */
class SyncProcessIT {

  @TempDir
  Path dir;

  private NodeProcess node;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aPushCutByKillNineLeavesTheOldFileAndNoStagingCopy() throws Exception {
    Path data = dir.resolve("node");
    byte[] old = new byte[4096];
    new Random(3).nextBytes(old);
    Files.createDirectories(data.resolve("sync"));
    Files.write(data.resolve("sync/big.bin"), old);
    node = NodeProcess.start(data);

    try (Socket socket = new Socket("127.0.0.1", node.syncPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      send(out, "{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"push\",\"filename\":\"big.bin\","
          + "\"blockSize\":1024,\"blockCount\":4,\"size\":4096}", new byte[0]);
      assertEquals("init", command(in));
      byte[] block = new byte[1024];
      Arrays.fill(block, (byte) 0x42);
      send(out, "{\"command\":\"send\",\"dataType\":\"data\",\"index\":[0]}", block);
      // ack: the block is written (and flushed) to the staging copy. Now the node dies.
      assertEquals("ack", command(in));
      node.kill9();
    }
    assertTrue(hasStagingCopy(data.resolve("sync")), "the staging copy existed at the crash");

    node.restart();
    assertArrayEquals(old, Files.readAllBytes(data.resolve("sync/big.bin")), "the live file is the old one");
    assertTrue(!hasStagingCopy(data.resolve("sync")), "stale staging copies are removed at start");
    // The push lock did not survive the crash: a new push of the same file is accepted.
    try (Socket socket = new Socket("127.0.0.1", node.syncPort())) {
      socket.setSoTimeout(30_000);
      send(socket.getOutputStream(), "{\"command\":\"init\",\"version\":[0,1,0],\"action\":\"push\","
          + "\"filename\":\"big.bin\",\"blockSize\":1024,\"blockCount\":4,\"size\":4096}", new byte[0]);
      assertEquals("init", command(new DataInputStream(socket.getInputStream())));
    }
    JsonNode id = RpcClient.forPort(node.httpPort()).call("node_id");
    assertEquals(node.nodeId(), id.textValue());
  }

  private static boolean hasStagingCopy(Path root) throws IOException {
    Path staging = root.resolve(".peer-sync-staging");
    if (!Files.isDirectory(staging)) {
      return false;
    }
    try (Stream<Path> files = Files.walk(staging)) {
      return files.anyMatch(Files::isRegularFile);
    }
  }

  private static void send(OutputStream out, String json, byte[] bin) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    out.write(("json-length: " + body.length + "\nbin-length: " + bin.length + "\n").getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.write(bin);
    out.flush();
  }

  /** Reads one frame and returns its command. */
  private static String command(DataInputStream in) throws IOException {
    int json = header(in, "json-length: ");
    int bin = header(in, "bin-length: ");
    byte[] body = in.readNBytes(json);
    in.skipNBytes(bin);
    return RpcClient.mapper().readTree(body).get("command").textValue();
  }

  private static int header(InputStream in, String prefix) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed in a header");
      }
      line.append((char) c);
    }
    assertTrue(line.toString().startsWith(prefix), line.toString());
    return Integer.parseInt(line.substring(prefix.length()));
  }
}
