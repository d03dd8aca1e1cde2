package io.peernode.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A small JSON-RPC 2.0 client over HTTP: the CLI's {@code call} command and the tests use it. */
public final class RpcClient {

  /** A JSON-RPC error answered by the node. */
  public static final class RpcError extends Exception {
    public final int code;

    RpcError(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final URI uri;
  private final HttpClient http;
  private final Duration timeout;
  private final AtomicLong ids = new AtomicLong();

  public RpcClient(URI rpcUri, Duration timeout) {
    this.uri = rpcUri;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  public static RpcClient forPort(int httpPort) {
    return new RpcClient(URI.create("http://127.0.0.1:" + httpPort + "/rpc"), Duration.ofSeconds(30));
  }

  /** Calls {@code method} with params (a JSON array or object, or null) and returns its result. */
  public JsonNode call(String method, JsonNode params) throws RpcError, IOException, InterruptedException {
    ObjectNode request = MAPPER.createObjectNode();
    request.put("jsonrpc", "2.0");
    request.put("id", ids.incrementAndGet());
    request.put("method", method);
    if (params != null) {
      request.set("params", params);
    }
    JsonNode response = post(MAPPER.writeValueAsBytes(request));
    JsonNode error = response.get("error");
    if (error != null && !error.isNull()) {
      throw new RpcError(error.path("code").asInt(), error.path("message").asText());
    }
    return response.get("result");
  }

  /** Calls with positional params given as Java values. */
  public JsonNode call(String method, Object... params) throws RpcError, IOException, InterruptedException {
    return call(method, MAPPER.valueToTree(params));
  }

  /** Posts a raw body and returns the parsed response (an object, or an array for a batch). */
  public JsonNode post(byte[] body) throws IOException, InterruptedException {
    HttpResponse<byte[]> response = http.send(
        HttpRequest.newBuilder(uri).timeout(timeout).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() == 204) {
      return MAPPER.missingNode();
    }
    if (response.statusCode() != 200) {
      throw new IOException("HTTP " + response.statusCode() + " from " + uri + ": " + new String(response.body()));
    }
    return MAPPER.readTree(response.body());
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
