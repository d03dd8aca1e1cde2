package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.node.cli.RpcClient;
import io.peernode.node.testkit.InJvmCluster;
import io.peernode.protocol.jsonrpc.RpcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** sync_pull, sync_push and sync_status between the nodes of a 3-node cluster, over JSON-RPC. */
class SyncClusterTest {

  private static final int BLOCK = 4096;
  private static InJvmCluster cluster;
  private static PeerNode a;
  private static PeerNode b;
  private static PeerNode c;

  @BeforeAll
  static void start() {
    cluster = InJvmCluster.start(3);
    a = cluster.node(0);
    b = cluster.node(1);
    c = cluster.node(2);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static RpcClient rpc(PeerNode node) {
    return RpcClient.forPort(node.httpPort());
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  @Test
  void pullFetchesAPeersFileAndThenOnlyTheChangedBlock() throws Exception {
    byte[] data = randomBytes(10 * BLOCK + 17, 1);
    Files.createDirectories(b.settings().syncRoot.resolve("docs"));
    Files.write(b.settings().syncRoot.resolve("docs/report.bin"), data);

    JsonNode first = rpc(a).call("sync_pull", b.nodeId().hex(), "docs/report.bin", "mirror/report.bin", BLOCK);
    assertEquals("done", first.get("state").textValue(), first.toString());
    assertEquals(11, first.get("blocks_transferred").intValue());
    assertArrayEquals(data, Files.readAllBytes(a.settings().syncRoot.resolve("mirror/report.bin")));

    data[5 * BLOCK + 3] ^= 0x5a;
    Files.write(b.settings().syncRoot.resolve("docs/report.bin"), data);
    JsonNode delta = rpc(a).call("sync_pull", b.nodeId().hex(), "docs/report.bin", "mirror/report.bin", BLOCK);
    assertEquals(1, delta.get("blocks_transferred").intValue(), delta.toString());
    assertTrue(delta.get("bytes_on_wire").longValue() < 3 * BLOCK, delta.toString());
    assertArrayEquals(data, Files.readAllBytes(a.settings().syncRoot.resolve("mirror/report.bin")));

    JsonNode status = rpc(a).call("sync_status");
    assertTrue(status.size() >= 2, status.toString());
    assertEquals("done", status.get(0).get("state").textValue());
    assertEquals(b.nodeId().hex(), status.get(0).get("peer").textValue());
    assertEquals("mirror/report.bin", status.get(0).get("local_path").textValue());
  }

  @Test
  void pushSendsALocalFileToAPeer() throws Exception {
    byte[] data = randomBytes(3 * BLOCK, 2);
    Files.write(a.settings().syncRoot.resolve("outgoing.bin"), data);
    JsonNode pushed = rpc(a).call("sync_push", c.nodeId().hex(), "outgoing.bin", "inbox/from-a.bin", BLOCK);
    assertEquals("done", pushed.get("state").textValue(), pushed.toString());
    assertArrayEquals(data, Files.readAllBytes(c.settings().syncRoot.resolve("inbox/from-a.bin")));
  }

  @Test
  void badRequestsAreJsonRpcErrorsNamingTheProblem() {
    String bId = b.nodeId().hex();
    RpcClient.RpcError missing = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", bId, "no/such/file", "x.bin"));
    assertEquals(RpcException.NODE_ERROR, missing.code);
    assertTrue(missing.getMessage().contains("404"), missing.getMessage());

    RpcClient.RpcError stranger = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", "ab".repeat(20), "f", "x.bin"));
    assertEquals(RpcException.NODE_ERROR, stranger.code);

    RpcClient.RpcError escape = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", bId, "f", "../outside.bin"));
    assertEquals(RpcException.INVALID_PARAMS, escape.code);
    assertTrue(escape.getMessage().contains("local_path"), escape.getMessage());

    RpcClient.RpcError absolute = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_push", bId, "/etc/passwd", "p"));
    assertEquals(RpcException.INVALID_PARAMS, absolute.code);

    RpcClient.RpcError block = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", bId, "f", "x.bin", 3000));
    assertTrue(block.getMessage().contains("block_size"), block.getMessage());

    RpcClient.RpcError badId = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", "not-a-node", "f", "x.bin"));
    assertTrue(badId.getMessage().contains("nodeid"), badId.getMessage());
  }

  @Test
  void aSymlinkOutOfTheSyncRootIsRefusedAsALocalPath() throws Exception {
    Path outside = Files.createTempDirectory("outside");
    Files.createSymbolicLink(a.settings().syncRoot.resolve("escape"), outside);
    RpcClient.RpcError e = assertThrows(RpcClient.RpcError.class,
        () -> rpc(a).call("sync_pull", b.nodeId().hex(), "f", "escape/x.bin"));
    assertEquals(RpcException.INVALID_PARAMS, e.code);
    try (var files = Files.list(outside)) {
      assertEquals(0, files.count());
    }
  }
}
