package io.peernode.node.userapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.peernode.actors.userapi.UserApi;
import io.peernode.actors.userapi.UserApiException;
import io.peernode.node.rpc.RpcMethods;
import io.peernode.protocol.jsonrpc.RpcException;
import io.peernode.protocol.jsonrpc.RpcParams;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * The JSON-RPC calls of the user API (user-api.md): pubsub_*, message_* and stream_*, each a
 * thin binding of params onto {@link UserApi}. {@code node_id} and {@code node_peers} are the
 * node's own ({@code NodeRpc}). A {@link UserApiException} becomes the JSON-RPC error it names
 * (-32602 with the bad param, -32001 not found, -32002 unavailable).
 */
public final class UserApiRpc {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private UserApiRpc() {}

  public static void register(RpcMethods methods, UserApi api) {
    methods.register("pubsub_publish", List.of("event"), p ->
        map(api.publish(p.required("event")).thenApply(v -> NullNode.instance)));
    methods.register("pubsub_subscribe", List.of("schema"), p ->
        map(api.subscribe(p.required("schema")).thenApply(v -> NullNode.instance)));
    methods.register("pubsub_subscriptions", List.of(), p ->
        map(api.subscriptions().thenApply(UserApiRpc::array)));
    methods.register("pubsub_unsubscribe", List.of("schema"), p ->
        map(api.unsubscribe(p.required("schema")).thenApply(v -> NullNode.instance)));
    methods.register("pubsub_events", List.of("schema"), p ->
        map(api.events(p.required("schema")).thenApply(UserApiRpc::array)));

    methods.register("message_send", List.of("nodeid", "ip", "port", "message"), p ->
        map(api.messageSend(hex(p, "nodeid"), p.text("ip"), (int) p.integer("port", 1, 65535), p.required("message"))
            .thenApply(BooleanNode::valueOf)));
    methods.register("message_list", List.of(), p ->
        map(api.messageList().thenApply(bySender -> {
          ObjectNode out = JSON.objectNode();
          bySender.forEach((from, messages) -> out.set(from, array(messages)));
          return out;
        })));

    methods.register("stream_list", List.of(), p ->
        map(api.streamList().thenApply(streams -> {
          ObjectNode out = JSON.objectNode();
          streams.forEach(out::put);
          return out;
        })));
    methods.register("stream_open", List.of("nodeid", "ip", "port"), p ->
        map(api.streamOpen(hex(p, "nodeid"), p.text("ip"), (int) p.integer("port", 1, 65535))
            .thenApply(id -> id.<JsonNode>map(TextNode::valueOf).orElse(NullNode.instance))));
    methods.register("stream_close", List.of("streamid"), p ->
        map(api.streamClose(hex(p, "streamid")).thenApply(BooleanNode::valueOf)));
    methods.register("stream_read", List.of("streamid", "size"), p -> {
      Long size = p.optionalInteger("size", 0, Integer.MAX_VALUE);
      return map(api.streamReadHex(hex(p, "streamid"), size == null ? null : size.intValue())
          .thenApply(hex -> hex == null ? NullNode.instance : TextNode.valueOf(hex)));
    });
    methods.register("stream_write", List.of("streamid", "data"), p ->
        map(api.streamWriteHex(hex(p, "streamid"), hex(p, "data"))
            .thenApply(n -> n.<JsonNode>map(IntNode::valueOf).orElse(NullNode.instance))));
  }

  /**
   * A hex param. The CLI passes each argument as JSON when it parses as JSON, so hex made only
   * of digits ({@code 1234}) arrives as a number; its digits are the hex meant.
   */
  private static String hex(RpcParams p, String name) {
    JsonNode value = p.required(name);
    if (value.isIntegralNumber() && value.asText().matches("[0-9]+")) {
      return value.asText();
    }
    return p.text(name);
  }

  private static ArrayNode array(List<JsonNode> items) {
    ArrayNode out = JSON.arrayNode(items.size());
    items.forEach(out::add);
    return out;
  }

  /** The user API's failures as JSON-RPC errors. */
  private static CompletionStage<JsonNode> map(CompletionStage<? extends JsonNode> stage) {
    return stage.handle((value, failure) -> {
      if (failure == null) {
        return value;
      }
      Throwable cause = failure;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof UserApiException) {
        UserApiException e = (UserApiException) cause;
        throw new RpcException(e.jsonRpcCode(), e.getMessage());
      }
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      throw new CompletionException(cause);
    });
  }
}
