package io.peernode.protocol.jsonrpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * JSON-RPC 2.0 framing: a body is one request or a batch; each element is either a
 * well-formed {@link Call} or an already-decided error response. Pure: no dispatching here.
 */
public final class JsonRpc {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private JsonRpc() {}

  /** One parsed body. */
  public static final class Body {
    public final boolean batch;
    /** In request order; each is a call or an error response. */
    public final List<Element> elements;

    Body(boolean batch, List<Element> elements) {
      this.batch = batch;
      this.elements = elements;
    }
  }

  /** A call to dispatch, or an error already decided while parsing. */
  public static final class Element {
    public final Call call;
    public final ObjectNode error;

    private Element(Call call, ObjectNode error) {
      this.call = call;
      this.error = error;
    }
  }

  /** A well-formed request. {@code id} is null for a notification, which gets no response. */
  public static final class Call {
    public final JsonNode id;
    public final String method;
    public final JsonNode params;

    public Call(JsonNode id, String method, JsonNode params) {
      this.id = id;
      this.method = method;
      this.params = params;
    }

    public boolean isNotification() {
      return id == null;
    }
  }

  /**
   * Parses a request body. A body that is not JSON is a single parse error; an empty batch is
   * a single invalid-request error; every other problem is confined to its own element.
   */
  public static Body parse(ObjectMapper mapper, byte[] body) {
    JsonNode root;
    try {
      root = mapper.readTree(body);
    } catch (JsonProcessingException e) {
      return single(error(null, RpcException.PARSE_ERROR, "parse error: " + e.getOriginalMessage()));
    } catch (IOException e) {
      return single(error(null, RpcException.PARSE_ERROR, "parse error: " + e.getMessage()));
    }
    if (root == null || root.isMissingNode()) {
      return single(error(null, RpcException.PARSE_ERROR, "parse error: empty body"));
    }
    if (root.isArray()) {
      if (root.size() == 0) {
        return single(error(null, RpcException.INVALID_REQUEST, "invalid request: empty batch"));
      }
      List<Element> elements = new ArrayList<>(root.size());
      for (JsonNode item : root) {
        elements.add(element(item));
      }
      return new Body(true, elements);
    }
    return new Body(false, Collections.singletonList(element(root)));
  }

  private static Body single(ObjectNode error) {
    return new Body(false, Collections.singletonList(new Element(null, error)));
  }

  private static Element element(JsonNode item) {
    if (!item.isObject()) {
      return new Element(null, error(null, RpcException.INVALID_REQUEST, "invalid request: not an object"));
    }
    JsonNode id = item.get("id");
    boolean idValid = id == null || id.isTextual() || id.isNumber() || id.isNull();
    JsonNode replyId = idValid ? (id == null ? null : id) : null;
    if (!idValid) {
      return new Element(null, error(null, RpcException.INVALID_REQUEST, "invalid request: id must be a string, a number or null"));
    }
    if (!"2.0".equals(textOrNull(item.get("jsonrpc")))) {
      return new Element(null, error(replyId, RpcException.INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\""));
    }
    JsonNode method = item.get("method");
    if (method == null || !method.isTextual()) {
      return new Element(null, error(replyId, RpcException.INVALID_REQUEST, "invalid request: method must be a string"));
    }
    JsonNode params = item.get("params");
    if (params != null && !params.isArray() && !params.isObject() && !params.isNull()) {
      return new Element(null, error(replyId, RpcException.INVALID_PARAMS, "params must be an array or an object"));
    }
    return new Element(new Call(id, method.textValue(), params), null);
  }

  private static String textOrNull(JsonNode node) {
    return node != null && node.isTextual() ? node.textValue() : null;
  }

  public static ObjectNode result(JsonNode id, JsonNode result) {
    ObjectNode response = JSON.objectNode();
    response.put("jsonrpc", "2.0");
    response.set("result", result == null ? JSON.nullNode() : result);
    response.set("id", id == null ? JSON.nullNode() : id);
    return response;
  }

  public static ObjectNode error(JsonNode id, int code, String message) {
    ObjectNode response = JSON.objectNode();
    response.put("jsonrpc", "2.0");
    ObjectNode error = response.putObject("error");
    error.put("code", code);
    error.put("message", message);
    response.set("id", id == null ? JSON.nullNode() : id);
    return response;
  }
}
