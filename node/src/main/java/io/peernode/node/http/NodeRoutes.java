package io.peernode.node.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peernode.node.rpc.RpcMethods;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The node's HTTP surface: {@code /health}, {@code /metrics}, {@code POST /rpc}, and the
 * routes each protocol contributes (the Streamr API under {@code /api/v1}).
 */
public final class NodeRoutes extends AllDirectives {

  private final ObjectMapper mapper;
  private final RpcMethods rpc;
  private final CollectorRegistry registry;
  private final Supplier<JsonNode> health;
  private final long maxRpcBodyBytes;

  /**
   * @param health the node's status document, or null while it is not ready to serve
   */
  public NodeRoutes(ObjectMapper mapper, RpcMethods rpc, CollectorRegistry registry,
                    Supplier<JsonNode> health, long maxRpcBodyBytes) {
    this.mapper = mapper;
    this.rpc = rpc;
    this.registry = registry;
    this.health = health;
    this.maxRpcBodyBytes = maxRpcBodyBytes;
  }

  public Route routes(List<Route> protocolRoutes) {
    Route own = concat(
        path("health", () -> get(this::healthRoute)),
        path("metrics", () -> get(this::metricsRoute)),
        path("rpc", () -> post(this::rpcRoute)));
    if (protocolRoutes.isEmpty()) {
      return own;
    }
    Route[] rest = protocolRoutes.toArray(new Route[0]);
    return concat(own, rest);
  }

  private Route healthRoute() {
    JsonNode status = health.get();
    if (status == null) {
      return complete(HttpResponse.create()
          .withStatus(StatusCodes.SERVICE_UNAVAILABLE)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, "{\"status\":\"starting\"}")));
    }
    return complete(json(StatusCodes.OK, status));
  }

  private Route metricsRoute() {
    StringWriter out = new StringWriter();
    try {
      TextFormat.write004(out, registry.metricFamilySamples());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return complete(HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, out.toString())));
  }

  private Route rpcRoute() {
    return withSizeLimit(maxRpcBodyBytes, () ->
        entity(Unmarshaller.entityToByteString(), body ->
            completeWithFuture(rpc.dispatch(body.toArray()).thenApply(answer ->
                answer.map(response -> json(StatusCodes.OK, response))
                    .orElseGet(() -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT))))));
  }

  private HttpResponse json(akka.http.javadsl.model.StatusCode status, JsonNode body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
