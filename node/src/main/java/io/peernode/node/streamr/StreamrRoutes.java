package io.peernode.node.streamr;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.PathMatchers;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peernode.actors.streams.ClientConnection;
import io.peernode.actors.streams.EventRange;
import io.peernode.actors.streams.EventStore;
import io.peernode.actors.streams.StreamPartition;
import io.peernode.actors.streams.StreamsSettings;
import io.peernode.node.storage.MetadataStore;
import io.peernode.node.storage.JdbcMetadataStore.KeyRecord;
import io.peernode.node.storage.JdbcMetadataStore.PermissionRecord;
import io.peernode.node.storage.JdbcMetadataStore.StreamRecord;
import io.peernode.node.streamr.MetadataAccess.Caller;
import io.peernode.node.streamr.MetadataAccess.Op;
import io.peernode.protocol.streamr.PartitionKeys;
import io.peernode.protocol.streamr.ServerMessages;
import io.peernode.protocol.streamr.StreamIds;
import io.peernode.protocol.streamr.StreamMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the data API: the WebSocket at {@code /api/v1/ws} (frames go to a
 * {@link ClientConnection}) and the REST API of client-protocol.md. Bad input is a 4xx JSON
 * error {@code {"code", "message"}}, never a 500.
 */
final class StreamrRoutes extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(StreamrRoutes.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ActorSystem<?> system;
  private final StreamsSettings settings;
  private final MetadataAccess access;
  private final MetadataStore metadata;
  private final EventStore events;
  private final ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions;
  /** Largest WebSocket frame: a request carrying a maximal msg, escaped, plus its fields. */
  private final long maxFrameChars;
  /** The flow of every WebSocket connection (each materialization is one connection). */
  private final Flow<String, ByteString, NotUsed> connections;
  /** The same at frame level, for {@link TextWebSocket}. */
  private final akka.stream.scaladsl.Flow<akka.http.impl.engine.ws.FrameEvent,
      akka.http.impl.engine.ws.FrameEvent, Object> connectionFrames;
  /** On the connection's bytes after the handshake, for the upgrades HttpServer takes. */
  private final Flow<ByteString, ByteString, NotUsed> connectionBytes;

  StreamrRoutes(ActorSystem<?> system, StreamsSettings settings, ClientConnection.Deps deps,
      MetadataAccess access, MetadataStore metadata, EventStore events,
      ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions) {
    this.system = system;
    this.settings = settings;
    this.access = access;
    this.metadata = metadata;
    this.events = events;
    this.partitions = partitions;
    this.maxFrameChars = 2L * settings.maxMessageBytes + 64 * 1024;
    this.connections = ClientConnection.flow(system, deps);
    this.connectionFrames = TextWebSocket.frames(system, connections, maxFrameChars,
        ClientConnection.FRAME_TOO_LARGE);
    // Bursts of messages as one element, rendered as frames (unless frames are to be logged).
    this.connectionBytes = TextWebSocket.logsFrames(system)
        ? TextWebSocket.bytes(connectionFrames)
        : TextWebSocket.renderedBytes(system,
            ClientConnection.flow(system, deps, ServerFrames.TEXT), maxFrameChars,
            ClientConnection.FRAME_TOO_LARGE);
  }

  Route routes() {
    return pathPrefix("api", () -> pathPrefix("v1", () ->
        handleExceptions(exceptions(), () -> handleRejections(rejections(), () -> concat(
            path("ws", () -> extractWebSocketUpgrade(this::webSocket)),
            pathPrefix("keys", this::keyRoutes),
            pathPrefix("streams", this::streamRoutes))))));
  }

  // ---- WebSocket ------------------------------------------------------------------------------

  /** The WebSocket's flow on the connection's bytes after the handshake (for HttpServer). */
  Flow<ByteString, ByteString, NotUsed> webSocketBytes() {
    return connectionBytes;
  }

  /**
   * Text frames, collected up to the frame limit, through one ClientConnection: by {@link
   * TextWebSocket}'s message layer on Akka HTTP's frame layers (no substream per message).
   */
  private Route webSocket(akka.http.javadsl.model.ws.WebSocketUpgrade upgrade) {
    if (upgrade instanceof akka.http.impl.engine.ws.UpgradeToWebSocketLowLevel) {
      return complete(TextWebSocket.handle(upgrade, connectionFrames));
    }
    return complete(upgrade.handleMessagesWith(webSocketMessages()));
  }

  /** The same through Akka HTTP's message API (where the frame API is not offered). */
  private Flow<Message, Message, NotUsed> webSocketMessages() {
    return Flow.<Message>create()
        .mapAsync(1, m -> {
          if (m.isText() && m.asTextMessage().isStrict()) {
            String text = m.asTextMessage().getStrictText();
            return CompletableFuture.completedFuture(
                text.length() > maxFrameChars ? ClientConnection.FRAME_TOO_LARGE : text);
          }
          if (m.isText()) {
            // The frame is read to its end (Akka HTTP needs that to go on with the
            // connection) but kept only up to the limit.
            return m.asTextMessage().getStreamedText()
                .runFold(new StringBuilder(), (sb, part) -> {
                  if (sb.length() <= maxFrameChars) {
                    sb.append(part, 0, (int) Math.min(part.length(),
                        maxFrameChars + 1 - sb.length()));
                  }
                  return sb;
                }, system)
                .thenApply(sb -> sb.length() > maxFrameChars
                    ? ClientConnection.FRAME_TOO_LARGE : sb.toString());
          }
          // Binary frames are drained and answered as what they are: not a JSON request.
          return m.asBinaryMessage().getStreamedData().runWith(Sink.ignore(), system)
              .thenApply(d -> "<binary frame>");
        })
        .via(connections)
        .map(utf8 -> (Message) TextMessage.create(utf8.utf8String()));
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create().withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
  }

  private static HttpResponse error(StatusCode status, String code, String message) {
    ObjectNode e = JSON.createObjectNode();
    e.put("code", code);
    e.put("message", message);
    return json(status, e);
  }

  private Route fail(StatusCode status, String code, String message) {
    return complete(error(status, code, message));
  }

  /** Completes with the response; a failed store answers 503 rather than a 500. */
  private Route async(CompletionStage<HttpResponse> response) {
    return completeWithFuture(response.exceptionally(t -> {
      log.warn("data API request failed: {}", t.toString());
      return error(StatusCodes.SERVICE_UNAVAILABLE, "UNAVAILABLE",
          "storage is unavailable: " + rootMessage(t));
    }));
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) c = c.getCause();
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(akka.http.scaladsl.model.EntityStreamSizeException.class, e ->
            fail(StatusCodes.PAYLOAD_TOO_LARGE, "TOO_LARGE",
                "request body is larger than the limit of " + e.limit() + " bytes"))
        .matchAny(e -> {
          log.warn("data API request failed: {}", e.toString());
          return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", rootMessage(e));
        })
        .build();
  }

  /** Akka's rejection responses, as JSON errors. */
  private RejectionHandler rejections() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(response -> {
      if (response.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
        return response;
      }
      String text = response.entity() instanceof akka.http.javadsl.model.HttpEntity.Strict
          ? ((akka.http.javadsl.model.HttpEntity.Strict) response.entity()).getData()
              .utf8String()
          : response.status().reason();
      return error(response.status(), "REJECTED", text);
    });
  }

  /** Resolves the {@code Authorization: token KEY} header; unknown keys get 401. */
  private Route withCaller(Function<Caller, Route> inner) {
    return optionalHeaderValueByName("Authorization", header -> {
      Optional<String> key = Optional.empty();
      if (header.isPresent()) {
        String h = header.get().trim();
        int space = h.indexOf(' ');
        String scheme = space < 0 ? "" : h.substring(0, space);
        if (!scheme.equalsIgnoreCase("token") && !scheme.equalsIgnoreCase("bearer")) {
          return fail(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED",
              "Authorization header must be 'token KEY'");
        }
        key = Optional.of(h.substring(space + 1).trim());
      }
      return onSuccess(access.caller(key), caller -> caller == null
          ? fail(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED", "unknown API key")
          : inner.apply(caller));
    });
  }

  /** The request body as a JSON object (limit: max-message-bytes), or a 400. */
  private Route jsonObject(Function<ObjectNode, Route> inner) {
    return withSizeLimit(settings.maxMessageBytes, () ->
        entity(Unmarshaller.entityToString(), body -> {
          JsonNode n;
          try {
            n = JSON.readTree(body.isBlank() ? "{}" : body);
          } catch (JsonProcessingException e) {
            return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST",
                "body is not valid JSON: " + e.getOriginalMessage());
          }
          if (!(n instanceof ObjectNode)) {
            return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "body must be a JSON object");
          }
          return inner.apply((ObjectNode) n);
        }));
  }

  /** Runs inner with the stream and the caller's operations on it; 404 or 403 otherwise. */
  private Route withStream(Caller caller, String id, Op needed,
      java.util.function.BiFunction<StreamRecord, Set<Op>, Route> inner) {
    return onSuccess(access.stream(id).thenCompose(s -> s.isEmpty()
        ? CompletableFuture.completedFuture(null)
        : access.operations(caller, id).thenApply(ops -> new Object[] {s.get(), ops})), found -> {
          if (found == null) {
            return fail(StatusCodes.NOT_FOUND, "NOT_FOUND", "stream " + id + " not found");
          }
          StreamRecord s = (StreamRecord) found[0];
          @SuppressWarnings("unchecked")
          Set<Op> ops = (Set<Op>) found[1];
          if (!ops.contains(needed)) {
            return caller.key().isEmpty()
                ? fail(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED",
                    "anonymous access has no " + needed.wire + " permission on stream " + id)
                : fail(StatusCodes.FORBIDDEN, "FORBIDDEN",
                    "the key has no " + needed.wire + " permission on stream " + id);
          }
          return inner.apply(s, ops);
        });
  }

  private static ObjectNode streamJson(StreamRecord s) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", s.id());
    o.put("name", s.name());
    o.put("description", s.description());
    try {
      o.set("config", JSON.readTree(s.config()));
    } catch (JsonProcessingException e) {
      o.putObject("config");
    }
    o.put("partitions", s.partitions());
    o.put("ttl", s.ttlSeconds());
    o.put("dateCreated", Instant.ofEpochMilli(s.created()).toString());
    o.put("lastUpdated", Instant.ofEpochMilli(s.updated()).toString());
    return o;
  }

  private static ObjectNode permissionJson(PermissionRecord p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", p.id());
    o.put("operation", p.operation());
    if (p.anonymous()) o.put("anonymous", true);
    else o.put("user", p.key());
    return o;
  }

  private static ObjectNode keyJson(KeyRecord k) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", k.key());
    o.put("name", k.name());
    return o;
  }

  /** Validated stream fields of a create or update body. */
  private Optional<String> invalidStreamFields(ObjectNode b, boolean nameRequired) {
    JsonNode name = b.get("name");
    if (name == null || name.isNull()) {
      if (nameRequired) return Optional.of("missing field 'name'");
    } else if (!name.isTextual() || name.asText().isBlank()) {
      return Optional.of("field 'name' must be a non-empty string");
    }
    JsonNode d = b.get("description");
    if (d != null && !d.isNull() && !d.isTextual()) {
      return Optional.of("field 'description' must be a string");
    }
    JsonNode c = b.get("config");
    if (c != null && !c.isNull() && !c.isObject()) {
      return Optional.of("field 'config' must be an object");
    }
    JsonNode p = b.get("partitions");
    if (p != null && !p.isNull() && (!p.canConvertToInt() || !p.isIntegralNumber()
        || p.asInt() < 1 || p.asInt() > settings.maxPartitions)) {
      return Optional.of("field 'partitions' must be an integer from 1 to "
          + settings.maxPartitions);
    }
    JsonNode t = b.get("ttl");
    if (t != null && !t.isNull() && (!t.isIntegralNumber() || t.asLong() < 1
        || t.asLong() > Integer.MAX_VALUE)) {
      return Optional.of("field 'ttl' must be a positive number of seconds");
    }
    return Optional.empty();
  }

  private static String text(ObjectNode b, String field, String dflt) {
    JsonNode n = b.get(field);
    return n == null || n.isNull() ? dflt : n.asText();
  }

  private static int integer(ObjectNode b, String field, int dflt) {
    JsonNode n = b.get(field);
    return n == null || n.isNull() ? dflt : n.asInt();
  }

  private static String config(ObjectNode b, String dflt) {
    JsonNode n = b.get("config");
    return n == null || n.isNull() ? dflt : n.toString();
  }

  // ---- /keys ----------------------------------------------------------------------------------

  private Route keyRoutes() {
    return withCaller(caller -> {
      if (caller.key().isEmpty()) {
        return fail(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED", "an API key is required");
      }
      if (!caller.admin()) {
        return fail(StatusCodes.FORBIDDEN, "FORBIDDEN", "only an admin key may manage keys");
      }
      return concat(
          pathEnd(() -> concat(
              get(() -> async(metadata.keys().thenApply(keys -> {
                ArrayNode a = JSON.createArrayNode();
                keys.forEach(k -> a.add(keyJson(k)));
                return json(StatusCodes.OK, a);
              }))),
              post(() -> jsonObject(b -> {
                String name = text(b, "name", "");
                KeyRecord k = new KeyRecord(metadata.newKeySecret(), name, false, null,
                    System.currentTimeMillis());
                return async(metadata.createKey(k).thenApply(
                    created -> json(StatusCodes.OK, keyJson(created))));
              })))),
          path(PathMatchers.segment(), id -> delete(() -> async(metadata.deleteKey(id)
              .thenApply(deleted -> {
                access.invalidate();
                return deleted ? json(StatusCodes.OK, JSON.createObjectNode())
                    : error(StatusCodes.NOT_FOUND, "NOT_FOUND", "key not found");
              })))));
    });
  }

  // ---- /streams -------------------------------------------------------------------------------

  private Route streamRoutes() {
    return withCaller(caller -> concat(
        pathEnd(() -> concat(
            get(() -> parameterOptional("name", name -> parameterOptional("public", pub ->
                listStreams(caller, name, pub.map(Boolean::parseBoolean))))),
            post(() -> jsonObject(b -> createStream(caller, b))))),
        pathPrefix(PathMatchers.segment(), id -> concat(
            pathEnd(() -> concat(
                get(() -> withStream(caller, id, Op.READ,
                    (s, ops) -> complete(json(StatusCodes.OK, streamJson(s))))),
                put(() -> jsonObject(b -> withStream(caller, id, Op.WRITE,
                    (s, ops) -> updateStream(s, b)))),
                delete(() -> withStream(caller, id, Op.SHARE, (s, ops) -> deleteStream(s))))),
            pathPrefix("permissions", () -> permissionRoutes(caller, id)),
            path("detectFields", () -> get(() -> withStream(caller, id, Op.READ,
                (s, ops) -> detectFields(s)))),
            path("keys", () -> post(() -> jsonObject(b -> withStream(caller, id, Op.SHARE,
                (s, ops) -> createStreamKey(s, b))))),
            pathPrefix("data", () -> dataRoutes(caller, id))))));
  }

  private Route listStreams(Caller caller, Optional<String> name, Optional<Boolean> onlyPublic) {
    return async(metadata.streams(name).thenCompose(all -> {
      List<CompletableFuture<Optional<StreamRecord>>> visible = new ArrayList<>();
      for (StreamRecord s : all) {
        CompletionStage<Set<Op>> ops = onlyPublic.orElse(false)
            ? access.operations(Caller.ANONYMOUS, s.id())
            : access.operations(caller, s.id());
        visible.add(ops.thenApply(o -> o.contains(Op.READ) ? Optional.of(s)
            : Optional.<StreamRecord>empty()).toCompletableFuture());
      }
      return CompletableFuture.allOf(visible.toArray(new CompletableFuture[0])).thenApply(d -> {
        ArrayNode a = JSON.createArrayNode();
        visible.forEach(f -> f.join().ifPresent(s -> a.add(streamJson(s))));
        return json(StatusCodes.OK, a);
      });
    }));
  }

  private Route createStream(Caller caller, ObjectNode b) {
    if (caller.key().isEmpty()) {
      return fail(StatusCodes.UNAUTHORIZED, "UNAUTHORIZED", "creating a stream needs an API key");
    }
    Optional<String> invalid = invalidStreamFields(b, true);
    if (invalid.isPresent()) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", invalid.get());
    }
    long now = System.currentTimeMillis();
    String owner = caller.keyId().get();
    StreamRecord s = new StreamRecord(StreamIds.generate(), text(b, "name", ""),
        text(b, "description", ""), config(b, "{}"), integer(b, "partitions", 1),
        integer(b, "ttl", settings.defaultTtlSeconds), owner, now, now);
    // The owner gets read, write and share: three permissions.
    return async(metadata.createStream(s)
        .thenCompose(c -> metadata.grant(s.id(), "read", owner))
        .thenCompose(p -> metadata.grant(s.id(), "write", owner))
        .thenCompose(p -> metadata.grant(s.id(), "share", owner))
        .thenApply(p -> {
          access.invalidate();
          return json(StatusCodes.OK, streamJson(s));
        }));
  }

  private Route updateStream(StreamRecord s, ObjectNode b) {
    Optional<String> invalid = invalidStreamFields(b, false);
    if (invalid.isPresent()) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", invalid.get());
    }
    StreamRecord u = new StreamRecord(s.id(), text(b, "name", s.name()),
        text(b, "description", s.description()), config(b, s.config()),
        integer(b, "partitions", s.partitions()), integer(b, "ttl", s.ttlSeconds()), s.owner(),
        s.created(), System.currentTimeMillis());
    return async(metadata.updateStream(u).thenApply(ok -> {
      access.invalidate();
      return json(StatusCodes.OK, streamJson(u));
    }));
  }

  private Route deleteStream(StreamRecord s) {
    return async(metadata.deleteStream(s.id())
        .thenCompose(d -> events.deleteStream(s.id()))
        .thenApply(d -> {
          access.invalidate();
          return json(StatusCodes.OK, JSON.createObjectNode());
        }));
  }

  private Route permissionRoutes(Caller caller, String id) {
    return concat(
        pathEnd(() -> concat(
            get(() -> withStream(caller, id, Op.SHARE, (s, ops) ->
                async(metadata.permissions(id).thenApply(perms -> {
                  ArrayNode a = JSON.createArrayNode();
                  perms.forEach(p -> a.add(permissionJson(p)));
                  return json(StatusCodes.OK, a);
                })))),
            post(() -> jsonObject(b -> withStream(caller, id, Op.SHARE, (s, ops) -> {
              Optional<Op> op = Op.of(text(b, "operation", ""));
              if (op.isEmpty()) {
                return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST",
                    "field 'operation' must be read, write or share");
              }
              boolean anonymous = b.path("anonymous").asBoolean(false);
              String user = text(b, "user", null);
              if (!anonymous && user == null) {
                return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST",
                    "give 'user' (an API key) or 'anonymous': true");
              }
              return async(metadata.grant(id, op.get().wire, anonymous ? null : user)
                  .thenApply(p -> {
                    access.invalidate();
                    return json(StatusCodes.OK, permissionJson(p));
                  }));
            }))))),
        path(PathMatchers.longSegment(), pid -> delete(() ->
            withStream(caller, id, Op.SHARE, (s, ops) -> async(metadata.revoke(id, pid)
                .thenApply(ok -> {
                  access.invalidate();
                  return ok ? json(StatusCodes.OK, JSON.createObjectNode())
                      : error(StatusCodes.NOT_FOUND, "NOT_FOUND", "permission not found");
                }))))));
  }

  private Route createStreamKey(StreamRecord s, ObjectNode b) {
    String permission = text(b, "permission", "read");
    if (!permission.equals("read") && !permission.equals("write")) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "field 'permission' must be read or write");
    }
    KeyRecord k = new KeyRecord(metadata.newKeySecret(), text(b, "name", ""), false, s.id(),
        System.currentTimeMillis());
    return async(metadata.createKey(k)
        .thenCompose(c -> metadata.grant(s.id(), permission, k.key()))
        .thenApply(p -> {
          access.invalidate();
          ObjectNode o = keyJson(k);
          o.put("permission", permission);
          return json(StatusCodes.OK, o);
        }));
  }

  // ---- data -----------------------------------------------------------------------------------

  private Route dataRoutes(Caller caller, String id) {
    return concat(
        pathEnd(() -> post(() -> parameterOptional("pkey", pkey ->
            withSizeLimit(settings.maxMessageBytes, () ->
                entity(Unmarshaller.entityToString(), body ->
                    withStream(caller, id, Op.WRITE, (s, ops) -> publish(s, body, pkey))))))),
        pathPrefix("partitions", () -> pathPrefix(PathMatchers.integerSegment(), p ->
            withStream(caller, id, Op.READ, (s, ops) -> {
              if (p < 0 || p >= s.partitions()) {
                return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "bad partition " + p
                    + ": stream " + id + " has " + s.partitions() + " partition(s)");
              }
              return parameterOptional("wrapper", wrapper -> {
                boolean objects = wrapper.map("object"::equals).orElse(false);
                return concat(
                    path("last", () -> get(() -> parameterOptional("count", count ->
                        last(s, p, count, objects)))),
                    path("range", () -> get(() -> range(s, p, objects))));
              });
            }))));
  }

  private Route publish(StreamRecord s, String body, Optional<String> pkey) {
    try {
      JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST",
          "the event must be JSON: " + e.getOriginalMessage());
    }
    int partition = pkey.map(k -> PartitionKeys.partitionFor(k, s.partitions()))
        .orElseGet(() -> ThreadLocalRandom.current().nextInt(s.partitions()));
    CompletionStage<StreamPartition.PublishReply> reply = AskPattern.ask(partitions,
        replyTo -> new ShardingEnvelope<>(StreamPartition.entityId(s.id(), partition),
            new StreamPartition.Publish(body, System.currentTimeMillis(), s.ttlSeconds(),
                replyTo)),
        settings.askTimeout, system.scheduler());
    return async(reply.thenApply(r -> {
      if (r instanceof StreamPartition.Published) {
        ObjectNode o = JSON.createObjectNode();
        o.put("stream", s.id());
        o.put("partition", partition);
        o.put("offset", ((StreamPartition.Published) r).offset);
        return json(StatusCodes.OK, o);
      }
      return error(StatusCodes.SERVICE_UNAVAILABLE, "UNAVAILABLE",
          ((StreamPartition.PublishRejected) r).error);
    }));
  }

  private Route last(StreamRecord s, int partition, Optional<String> count, boolean objects) {
    long n;
    try {
      n = count.map(Long::parseLong).orElse(1L);
    } catch (NumberFormatException e) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "count must be a number");
    }
    if (n < 0) {
      return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "count must not be negative");
    }
    return stored(s, partition, EventRange.all(), Math.min(n, settings.restMaxEvents), objects);
  }

  private Route range(StreamRecord s, int partition, boolean objects) {
    return parameterOptional("fromOffset", fo -> parameterOptional("toOffset", to ->
        parameterOptional("fromTimestamp", ft -> parameterOptional("toTimestamp", tt -> {
          try {
            EventRange r;
            if (fo.isPresent()) {
              r = EventRange.offsets(Long.parseLong(fo.get()),
                  to.map(Long::parseLong).orElse(Long.MAX_VALUE));
            } else if (ft.isPresent()) {
              r = EventRange.timestamps(Long.parseLong(ft.get()),
                  tt.map(Long::parseLong).orElse(Long.MAX_VALUE));
            } else {
              return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST",
                  "give fromOffset (and toOffset) or fromTimestamp (and toTimestamp)");
            }
            if (r.fromOffset < 0 || r.fromTimestamp < 0) {
              return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "bounds must not be negative");
            }
            return stored(s, partition, r, -1, objects);
          } catch (NumberFormatException e) {
            return fail(StatusCodes.BAD_REQUEST, "BAD_REQUEST", "bounds must be numbers");
          }
        }))));
  }

  /** Streams stored events (from the partition's node) as a JSON array, with back-pressure. */
  private Route stored(StreamRecord s, int partition, EventRange range, long last,
      boolean objects) {
    CompletionStage<StreamPartition.ResendReply> reply = AskPattern.ask(partitions,
        replyTo -> new ShardingEnvelope<>(StreamPartition.entityId(s.id(), partition),
            new StreamPartition.Resend(range, last, replyTo)),
        settings.askTimeout, system.scheduler());
    return async(reply.thenApply(r -> {
      if (r instanceof StreamPartition.ResendRejected) {
        return error(StatusCodes.SERVICE_UNAVAILABLE, "UNAVAILABLE",
            ((StreamPartition.ResendRejected) r).error);
      }
      Source<ByteString, NotUsed> body = ((StreamPartition.ResendStream) r).events.getSource()
          .take(settings.restMaxEvents)
          .map(m -> objects ? eventObject(m) : ServerMessages.eventArray(m))
          .intersperse("[", ",", "]")
          .orElse(Source.single("[]"))
          .map(ByteString::fromString);
      return HttpResponse.create().withStatus(StatusCodes.OK)
          .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body));
    }));
  }

  private static String eventObject(StreamMessage m) {
    ObjectNode o = JSON.createObjectNode();
    o.put("version", StreamMessage.VERSION);
    o.put("streamId", m.streamId());
    o.put("partition", m.partition());
    o.put("timestamp", m.timestamp());
    o.put("ttl", m.ttl());
    o.put("offset", m.offset());
    if (m.previousOffset() == null) o.putNull("previousOffset");
    else o.put("previousOffset", m.previousOffset());
    o.put("contentType", StreamMessage.CONTENT_TYPE_JSON);
    try {
      o.set("content", JSON.readTree(m.content()));
    } catch (JsonProcessingException e) {
      o.put("content", m.content());
    }
    return o.toString();
  }

  private Route detectFields(StreamRecord s) {
    CompletionStage<StreamPartition.ResendReply> reply = AskPattern.ask(partitions,
        replyTo -> new ShardingEnvelope<>(StreamPartition.entityId(s.id(), 0),
            new StreamPartition.Resend(EventRange.all(), 1, replyTo)),
        settings.askTimeout, system.scheduler());
    return async(reply.thenCompose(r -> r instanceof StreamPartition.ResendStream
        ? ((StreamPartition.ResendStream) r).events.getSource().runWith(Sink.seq(), system)
        : CompletableFuture.<List<StreamMessage>>completedFuture(List.of()))
        .thenApply(latest -> {
          ObjectNode stream = streamJson(s);
          ObjectNode config = stream.with("config");
          ArrayNode fields = config.putArray("fields");
          if (!latest.isEmpty()) {
            try {
              JsonNode content = JSON.readTree(latest.get(latest.size() - 1).content());
              Iterator<java.util.Map.Entry<String, JsonNode>> it = content.fields();
              while (it.hasNext()) {
                java.util.Map.Entry<String, JsonNode> f = it.next();
                ObjectNode field = fields.addObject();
                field.put("name", f.getKey());
                field.put("type", typeOf(f.getValue()));
              }
            } catch (JsonProcessingException e) {
              // the latest event is not JSON: no fields to detect
            }
          }
          return json(StatusCodes.OK, stream);
        }));
  }

  private static String typeOf(JsonNode v) {
    if (v.isNumber()) return "number";
    if (v.isBoolean()) return "boolean";
    if (v.isObject()) return "map";
    if (v.isArray()) return "list";
    return "string";
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
