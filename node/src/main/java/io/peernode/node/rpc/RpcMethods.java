package io.peernode.node.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peernode.protocol.jsonrpc.JsonRpc;
import io.peernode.protocol.jsonrpc.RpcException;
import io.peernode.protocol.jsonrpc.RpcParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON-RPC 2.0 methods of a node, by name, and their dispatch. Each protocol registers
 * its calls here; a handler gets its params bound to the declared names and answers with a
 * future, failed with an {@link RpcException} for errors the caller should see.
 */
public final class RpcMethods {

  private static final Logger log = LoggerFactory.getLogger(RpcMethods.class);

  /** One method's implementation. */
  @FunctionalInterface
  public interface Handler {
    CompletionStage<JsonNode> handle(RpcParams params) throws Exception;
  }

  private static final class Method {
    final List<String> params;
    final Handler handler;

    Method(List<String> params, Handler handler) {
      this.params = params;
      this.handler = handler;
    }
  }

  private final ObjectMapper mapper;
  private final Map<String, Method> methods = new ConcurrentHashMap<>();

  public RpcMethods(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  /** Registers {@code name} with its params in positional order. */
  public RpcMethods register(String name, List<String> params, Handler handler) {
    if (methods.putIfAbsent(name, new Method(List.copyOf(params), handler)) != null) {
      throw new IllegalStateException("JSON-RPC method registered twice: " + name);
    }
    return this;
  }

  public ObjectMapper mapper() {
    return mapper;
  }

  /**
   * Answers one request body: the response to serialize, or empty when every request in it
   * was a notification (nothing to answer).
   */
  public CompletionStage<Optional<JsonNode>> dispatch(byte[] body) {
    JsonRpc.Body parsed = JsonRpc.parse(mapper, body);
    List<CompletableFuture<ObjectNode>> answers = new ArrayList<>(parsed.elements.size());
    for (JsonRpc.Element element : parsed.elements) {
      if (element.error != null) {
        answers.add(CompletableFuture.completedFuture(element.error));
      } else {
        CompletableFuture<ObjectNode> answer = call(element.call).toCompletableFuture();
        answers.add(element.call.isNotification() ? answer.thenApply(ignored -> null) : answer);
      }
    }
    return CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      List<ObjectNode> responses = new ArrayList<>();
      for (CompletableFuture<ObjectNode> answer : answers) {
        ObjectNode response = answer.join();
        if (response != null) {
          responses.add(response);
        }
      }
      if (responses.isEmpty()) {
        return Optional.empty();
      }
      if (!parsed.batch) {
        return Optional.of(responses.get(0));
      }
      ArrayNode array = mapper.createArrayNode();
      responses.forEach(array::add);
      return Optional.of(array);
    });
  }

  private CompletionStage<ObjectNode> call(JsonRpc.Call call) {
    Method method = methods.get(call.method);
    if (method == null) {
      return CompletableFuture.completedFuture(
          JsonRpc.error(call.id, RpcException.METHOD_NOT_FOUND, "unknown method '" + call.method + "'"));
    }
    CompletionStage<JsonNode> result;
    try {
      result = method.handler.handle(RpcParams.bind(call.params, method.params));
    } catch (Exception e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.handle((value, failure) ->
        failure == null ? JsonRpc.result(call.id, value) : errorResponse(call, failure));
  }

  private static ObjectNode errorResponse(JsonRpc.Call call, Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof RpcException) {
      RpcException rpc = (RpcException) cause;
      return JsonRpc.error(call.id, rpc.code(), rpc.getMessage());
    }
    log.warn("JSON-RPC method {} failed", call.method, cause);
    return JsonRpc.error(call.id, RpcException.INTERNAL_ERROR, "internal error in " + call.method + ": " + cause);
  }
}
