package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.cli.RpcClient;
import io.peernode.protocol.jsonrpc.RpcException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One embedded node, reached only through its public interfaces: the Java handle and HTTP. */
class PeerNodeTest {

  private static PeerNode node;
  private static RpcClient rpc;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    Path dataDir = Files.createTempDirectory("peer-node-test");
    // The README's embedding example, with free ports.
    node = PeerNode.start(ConfigFactory.parseString(
            "peer { data-dir = \"" + dataDir + "\", http-port = 0, cluster-port = 0, sync-port = 0 }")
        .withFallback(ConfigFactory.load()));
    rpc = RpcClient.forPort(node.httpPort());
  }

  @AfterAll
  static void stop() {
    node.stop();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theHandleTellsIdAndPorts() {
    assertTrue(node.isReady());
    assertEquals(40, node.nodeId().hex().length());
    assertTrue(node.httpPort() > 0 && node.clusterPort() > 0);
    assertTrue(node.readyLine().matches("READY node=[0-9a-f]{40} http=\\d+ sync=\\d+ cluster=\\d+ streams=\\d+"), node.readyLine());
  }

  @Test
  void healthReportsTheNodeAndItsCluster() throws Exception {
    HttpResponse<String> response = get("/health");
    assertEquals(200, response.statusCode());
    JsonNode status = RpcClient.mapper().readTree(response.body());
    assertEquals("up", status.get("status").textValue());
    assertEquals(node.nodeId().hex(), status.get("node").textValue());
    assertEquals(1, status.get("members").size());
    assertEquals("Up", status.get("members").get(0).get("status").textValue());
  }

  @Test
  void metricsAreInPrometheusTextFormat() throws Exception {
    HttpResponse<String> response = get("/metrics");
    assertEquals(200, response.statusCode());
    assertTrue(response.body().contains("# TYPE jvm_memory_bytes_used gauge"), "JVM figures");
    assertTrue(response.body().contains("peer_cluster_members{status=\"Up\",} 1.0"), "cluster figures");
  }

  @Test
  void nodeIdAndPeersOverJsonRpc() throws Exception {
    assertEquals(node.nodeId().hex(), rpc.call("node_id").textValue());
    assertEquals(0, rpc.call("node_peers").size());
  }

  @Test
  void jsonRpcErrorsHaveTheSpecCodes() throws Exception {
    JsonNode parse = rpc.post("{not json".getBytes(StandardCharsets.UTF_8));
    assertEquals(RpcException.PARSE_ERROR, parse.get("error").get("code").intValue());
    JsonNode unknown = rpc.post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no_such\"}".getBytes(StandardCharsets.UTF_8));
    assertEquals(RpcException.METHOD_NOT_FOUND, unknown.get("error").get("code").intValue());
    assertEquals(1, unknown.get("id").intValue());
    JsonNode params = rpc.post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"node_id\",\"params\":[1]}".getBytes(StandardCharsets.UTF_8));
    assertEquals(RpcException.INVALID_PARAMS, params.get("error").get("code").intValue());
    JsonNode invalid = rpc.post("{\"jsonrpc\":\"2.0\",\"id\":3}".getBytes(StandardCharsets.UTF_8));
    assertEquals(RpcException.INVALID_REQUEST, invalid.get("error").get("code").intValue());
  }

  @Test
  void aBatchAnswersEachCallAndNotificationsGetNothing() throws Exception {
    JsonNode batch = rpc.post(("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node_id\"},"
        + "{\"jsonrpc\":\"2.0\",\"method\":\"node_id\"},"
        + "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]").getBytes(StandardCharsets.UTF_8));
    assertEquals(2, batch.size());
    assertEquals(node.nodeId().hex(), batch.get(0).get("result").textValue());
    assertEquals(RpcException.METHOD_NOT_FOUND, batch.get(1).get("error").get("code").intValue());
    assertTrue(rpc.post("{\"jsonrpc\":\"2.0\",\"method\":\"node_id\"}".getBytes(StandardCharsets.UTF_8)).isMissingNode());
  }

  @Test
  void anOversizedRpcBodyIsRefusedWith413() throws Exception {
    // The node answers from the announced length and closes; a client that kept uploading
    // the whole body could see the close before the answer, so send the head only.
    long announced = node.settings().maxRpcBodyBytes + 1;
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", node.httpPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          + "Content-Length: " + announced + "\r\n\r\n[").getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String status = new java.io.BufferedReader(new java.io.InputStreamReader(
          socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
      assertTrue(status != null && status.startsWith("HTTP/1.1 413"), "status line: " + status);
    }
    assertEquals(node.nodeId().hex(), rpc.call("node_id").textValue(), "the node still serves");
  }

}
