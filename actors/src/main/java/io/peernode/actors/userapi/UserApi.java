package io.peernode.actors.userapi;

import akka.NotUsed;
import akka.actor.Address;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.RecipientRef;
import akka.actor.typed.javadsl.AskPattern;
import akka.cluster.ClusterEvent.CurrentClusterState;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import akka.stream.CompletionStrategy;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSource;
import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.protocol.Hex;
import io.peernode.protocol.NodeId;
import io.peernode.protocol.userapi.CanonicalJson;
import io.peernode.protocol.userapi.EventDigest;
import io.peernode.protocol.userapi.EventSchema;
import io.peernode.protocol.userapi.InvalidSchemaException;
import io.prometheus.client.CollectorRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The user API of one node (pubsub, direct messages, byte streams) as a typed Java API: one
 * method per call of user-api.md, each returning a {@link CompletionStage}. Bad input fails the
 * stage with a {@link UserApiException} that names the parameter; nothing here blocks.
 *
 * <p>Create one per node with {@link #create}; it starts the node's {@link PubSubNode},
 * {@link Inbox} and {@link ByteStreams} as system actors at fixed paths, which is how the other
 * nodes find them.
 */
public final class UserApi {

  private static final Pattern STREAM_ID = Pattern.compile("[0-9a-f]{32}");

  /** A cluster member as node_peers reports it. */
  public static final class Peer {
    public final NodeId nodeId;
    public final String host;
    public final int port;

    Peer(NodeId nodeId, String host, int port) {
      this.nodeId = nodeId;
      this.host = host;
      this.port = port;
    }

    @Override
    public String toString() {
      return "[" + nodeId + ", " + host + ", " + port + "]";
    }
  }

  private final ActorSystem<?> system;
  private final NodeId self;
  private final UserApiSettings settings;
  private final UserApiMetrics metrics;
  private final ActorRef<PubSubNode.Command> pubsub;
  private final ActorRef<Inbox.Command> inbox;
  private final ActorRef<ByteStreams.Command> streams;
  private final ActorRefResolver resolver;
  private final CoordinatedShutdown shutdown;
  private volatile ByteStreamDataServer.Binding streamData;
  /** Bytes of events handed to the PubSubNode and not yet routed (bounded by max-publish-bytes-in-flight). */
  private final AtomicLong publishBytesInFlight = new AtomicLong();
  /** What the PubSubNode publishes for this facade: the schemas it routes with, the unread counts. */
  private final PubSubNode.Shared shared = new PubSubNode.Shared();

  private UserApi(ActorSystem<?> system, NodeId self, UserApiSettings settings, CollectorRegistry registry) {
    this.system = system;
    this.self = self;
    this.settings = settings;
    this.metrics = UserApiMetrics.register(registry);
    this.resolver = ActorRefResolver.get(system);
    this.shutdown = CoordinatedShutdown.get(system);
    this.pubsub = system.systemActorOf(
        keepState(PubSubNode.create(self, settings, metrics, shared)), PubSubNode.NAME, Props.empty());
    this.inbox = system.systemActorOf(
        keepState(Inbox.create(settings.inboxSize, metrics.refused.labels("inbox"))), Inbox.NAME, Props.empty());
    this.streams = system.systemActorOf(
        keepState(ByteStreams.create(self.hex(), settings, metrics)), ByteStreams.NAME, Props.empty());
  }

  /**
   * Starts the user API of this node.
   *
   * @param system the node's (clustered) actor system; its member must carry the role
   *     {@link NodeRoles#roleOf(NodeId)}
   * @param self this node's id
   * @param config the {@code peer.userapi} section (or a root config that contains it)
   * @param registry the node's metrics registry
   */
  public static UserApi create(ActorSystem<?> system, NodeId self, Config config, CollectorRegistry registry) {
    Config section = config.hasPath("peer.userapi") ? config.getConfig("peer.userapi") : config;
    UserApiSettings settings = UserApiSettings.from(section);
    UserApi api = new UserApi(system, self, settings, registry);
    api.bindStreamData();
    return api;
  }

  /**
   * Binds the byte streams' data server (on {@code stream-data-host}, by default this member's
   * cluster host) and tells {@link ByteStreams} where it is; streams accepted before that are
   * refused. Blocks until bound (node start-up), at most 30 s.
   */
  private void bindStreamData() {
    String host = settings.streamDataHost.isEmpty()
        ? Cluster.get(system).selfMember().address().host().getOrElse(() -> "127.0.0.1")
        : settings.streamDataHost;
    ByteStreamDataServer.Binding binding;
    try {
      binding = ByteStreamDataServer.bind(system, host, settings.streamDataPort, streams, settings)
          .toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      throw new IllegalStateException("cannot bind the byte stream data server on " + host + ":" + settings.streamDataPort
          + " (peer.userapi.stream-data-host/-port): " + cause.getMessage(), cause);
    }
    streamData = binding;
    streams.tell(new ByteStreams.DataAddress(host, binding.localAddress().getPort()));
    shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "userapi-stream-data-unbind",
        binding::unbind);
  }

  /** The port the byte streams' data server is bound to (printed by the node as {@code streams=}). */
  public int streamDataPort() {
    return streamData.localAddress().getPort();
  }

  public UserApiSettings settings() {
    return settings;
  }

  /** For tests: what the PubSubNode publishes for this facade. */
  PubSubNode.Shared pubsubShared() {
    return shared;
  }

  // ---- node

  /** node_id */
  public NodeId nodeId() {
    return self;
  }

  /** node_peers: the other serving, reachable members of the cluster, by node id. */
  public CompletionStage<List<Peer>> peers() {
    List<Peer> out = new ArrayList<>();
    CurrentClusterState state = Cluster.get(system).state();
    for (Member m : state.getMembers()) {
      if (!NodeRoles.isServing(m) || state.getUnreachable().contains(m)) {
        continue;
      }
      Optional<NodeId> id = NodeRoles.nodeIdOf(m);
      if (id.isPresent() && !id.get().equals(self)) {
        Address a = m.address();
        out.add(new Peer(id.get(), a.host().getOrElse(() -> ""), a.port().getOrElse(() -> 0)));
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  // ---- pubsub

  /**
   * pubsub_publish: the event goes to every matching subscription in the cluster, once. Completes
   * once the event is routed (queued locally and sent to the matching nodes). Fails at once with
   * {@link UserApiException.Kind#UNAVAILABLE} when {@code max-publish-bytes-in-flight} of events
   * are still being routed: the node's back-pressure; nothing was published, retry later.
   */
  public CompletionStage<Void> publish(JsonNode event) {
    try {
      requireObject("event", event);
      // Everything that needs no actor state happens here, on the caller's thread: canonical
      // text, its UTF-8 bytes, the digest, the event tree the validator walks, and validation
      // against the schemas the node routes with now (the actor checks they are still current).
      // The canonical text is written straight as UTF-8 (no String): it is what is hashed, sent
      // and queued; receivers parse the bytes.
      byte[] utf8 = CanonicalJson.utf8(event);
      if (utf8.length > settings.maxMessageBytes) {
        throw UserApiException.badParam("event", "is " + utf8.length + " bytes of JSON, over the limit of " + settings.maxMessageBytes);
      }
      byte[] rawDigest = EventDigest.sha256(utf8);
      if (shutdown.getShutdownReason().isPresent()) {
        throw UserApiException.unavailable("the node is shutting down", null);
      }
      long size = utf8.length;
      long queued = publishBytesInFlight.addAndGet(size);
      if (queued > settings.maxPublishBytesInFlight && queued != size) {
        publishBytesInFlight.addAndGet(-size);
        metrics.refused.labels("publish").inc();
        throw UserApiException.unavailable("the node is busy: " + (queued - size)
            + " bytes of events are still being routed (max-publish-bytes-in-flight); retry later", null);
      }
      // The digest's hex text is made only where it is needed (for a peer that wants text).
      CompletableFuture<Void> result = new CompletableFuture<>();
      PubSubNode.Publish publish = new PubSubNode.Publish(null, utf8, null, rawDigest, EventSchema.Event.of(event),
          shared.prematch.get(), result, publishBytesInFlight);
      shared.publish(publish, pubsub);
      return result;
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** pubsub_subscribe: completes once the subscription is known to every node (or the index write timed out). */
  public CompletionStage<Void> subscribe(JsonNode schema) {
    try {
      EventSchema compiled = compile(schema);
      return ask(pubsub, (ActorRef<akka.Done> r) -> new PubSubNode.Subscribe(compiled, r),
          settings.indexWriteTimeout.plus(settings.askTimeout)).thenApply(done -> null);
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** pubsub_subscriptions: this node's schemas (keys sorted). */
  public CompletionStage<List<JsonNode>> subscriptions() {
    return ask(pubsub, PubSubNode.ListSubscriptions::new, settings.askTimeout);
  }

  /** pubsub_unsubscribe: drops the subscription and its unread events; a schema not subscribed is fine. */
  public CompletionStage<Void> unsubscribe(JsonNode schema) {
    try {
      String key = schemaKey(schema);
      return ask(pubsub, (ActorRef<akka.Done> r) -> new PubSubNode.Unsubscribe(key, r),
          settings.indexWriteTimeout.plus(settings.askTimeout)).thenApply(done -> null);
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * pubsub_events: the events of that subscription since the last call, oldest first. When
   * nothing was offered to the subscription since the last drain (its unread count is 0) the
   * answer is the empty list at once, without a message to the actors: polling an idle
   * subscription costs no more than computing the schema's canonical text.
   */
  public CompletionStage<List<JsonNode>> events(JsonNode schema) {
    try {
      String key = schemaKey(schema);
      java.util.concurrent.atomic.AtomicInteger unread = shared.unread.get(key);
      if (unread != null && unread.get() == 0) {
        return CompletableFuture.completedFuture(List.of());
      }
      return ask(pubsub, (ActorRef<Subscription.Events> r) -> new PubSubNode.DrainEvents(key, r), settings.askTimeout)
          .thenApply(events -> {
            if (!events.subscribed) {
              throw UserApiException.notFound("no subscription for that schema on this node");
            }
            return events.events;
          });
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The events of that subscription as they arrive, pushed in batches (oldest first, each event
   * once, at most {@code event-source-batch} per element): the Java API's alternative to polling
   * {@link #events}. Back-pressured: the subscription hands over the next batch only when the
   * stream has taken the previous one, so events a slow consumer has not taken yet wait in the
   * subscription's bounded queue (when it is full the newest are refused and counted, as for
   * {@code pubsub_events}). Events go either to the stream or to a {@code pubsub_events} drain,
   * never to both. One stream per subscription: attaching another completes the first.
   * Completes when the subscription is dropped; fails with NOT_FOUND when there is none.
   */
  public Source<List<JsonNode>, NotUsed> eventSource(JsonNode schema) {
    return attach(schema, Subscription.Batch::parse);
  }

  /**
   * {@link #eventSource}, with each event as its canonical JSON text in UTF-8 (keys sorted, no
   * whitespace: the bytes that crossed the cluster), not parsed: for consumers that read events
   * with a parser of their own, or only pass them on. The same guarantees and the same queue
   * (the two share the one stream a subscription has). The bytes are shared with any other
   * subscription of this node that the event matched; a ByteString does not let them change.
   */
  public Source<List<ByteString>, NotUsed> eventBytesSource(JsonNode schema) {
    return attach(schema, Subscription.Batch::bytes);
  }

  /** The subscription's stream, its batches given to the consumer as {@code convert} makes them (on the stream, not the actor). */
  private <T> Source<T, NotUsed> attach(JsonNode schema, java.util.function.Function<Subscription.Batch, T> convert) {
    String key;
    try {
      key = schemaKey(schema);
    } catch (UserApiException e) {
      return Source.failed(e);
    }
    return Source.completionStageSource(
            ask(pubsub, (ActorRef<Optional<ActorRef<Subscription.Command>>> r) -> new PubSubNode.LookupSubscription(key, r),
                settings.askTimeout)
                // handle, not thenApply: the stream fails with the UserApiException itself,
                // not with the CompletionException a throwing stage would wrap it in.
                .handle((found, failure) -> {
                  if (failure != null) {
                    return Source.<T>failed(failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
                  }
                  if (found.isEmpty()) {
                    return Source.<T>failed(UserApiException.notFound("no subscription for that schema on this node"));
                  }
                  ActorRef<Subscription.Command> sub = found.get();
                  Object token = new Object();
                  return ActorSource.<Subscription.Delivery, Subscription.Command>actorRefWithBackpressure(
                          sub,
                          new Subscription.StreamAck(token),
                          d -> d == Subscription.Completed.INSTANCE ? Optional.of(CompletionStrategy.draining()) : Optional.empty(),
                          d -> Optional.empty())
                      .mapMaterializedValue(ref -> {
                        sub.tell(new Subscription.Attach(ref, token));
                        return NotUsed.notUsed();
                      })
                      .<T>map(d -> convert.apply((Subscription.Batch) d));
                }))
        .mapMaterializedValue(f -> NotUsed.notUsed());
  }

  // ---- direct messages

  /**
   * message_send: true when the target's inbox accepted the message; false for a wrong node id
   * at that address, a node that is not (or no longer) a member, a full inbox, or no answer
   * within {@code send-timeout}.
   */
  public CompletionStage<Boolean> messageSend(String nodeId, String ip, int port, JsonNode message) {
    try {
      NodeId target = parseNodeId(nodeId);
      requireAddress(ip, port);
      if (message == null || message.isMissingNode()) {
        throw UserApiException.badParam("message", "is missing");
      }
      String text = CanonicalJson.mapper().writeValueAsString(message);
      requireSize("message", text);
      Optional<Address> address = resolve(target, ip, port);
      if (address.isEmpty()) {
        return CompletableFuture.completedFuture(false);
      }
      ActorRef<Inbox.Command> remoteInbox = resolver.resolveActorRef(address.get() + "/system/" + Inbox.NAME);
      return AskPattern.<Inbox.Command, Inbox.Accepted>ask(
              remoteInbox, r -> new Inbox.Deliver(self.hex(), text, r), settings.sendTimeout, system.scheduler())
          .handleAsync((accepted, failure) -> failure == null && accepted.accepted, SAME_THREAD);
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(UserApiException.badParam("message", "cannot be written as JSON"));
    }
  }

  /** message_list: messages since the last call, by sender node id, in arrival order per sender. */
  public CompletionStage<Map<String, List<JsonNode>>> messageList() {
    return ask(inbox, Inbox.Drain::new, settings.askTimeout);
  }

  // ---- byte streams

  /** stream_list: open streams (and closed ones with bytes left) and their unread bytes. */
  public CompletionStage<Map<String, Integer>> streamList() {
    return ask(streams, ByteStreams.ListEndpoints::new, settings.askTimeout).thenCompose(endpoints -> {
      Map<String, CompletableFuture<Integer>> counts = new TreeMap<>();
      endpoints.forEach((id, ep) -> counts.put(id,
          ask(ep, ByteStreamEndpoint.Unread::new, settings.askTimeout).toCompletableFuture()
              .exceptionally(t -> -1)));
      return CompletableFuture.allOf(counts.values().toArray(new CompletableFuture<?>[0])).thenApply(v -> {
        Map<String, Integer> out = new TreeMap<>();
        counts.forEach((id, f) -> {
          int n = f.join();
          if (n >= 0) {
            out.put(id, n);
          }
        });
        return out;
      });
    });
  }

  /**
   * stream_open: the new stream id, or empty (null) when the node id does not fit the address,
   * the node is not a member, either node holds its maximum of streams, or the peer did not
   * answer within {@code open-timeout}.
   */
  public CompletionStage<Optional<String>> streamOpen(String nodeId, String ip, int port) {
    try {
      NodeId target = parseNodeId(nodeId);
      requireAddress(ip, port);
      if (target.equals(self)) {
        // Both ends would live here under one stream id, and reads could not tell them apart.
        system.log().info("stream_open to this node itself refused: a stream connects two nodes");
        return CompletableFuture.completedFuture(Optional.empty());
      }
      Optional<Address> address = resolve(target, ip, port);
      if (address.isEmpty()) {
        system.log().info("stream_open to {} at {}:{} refused: no such member at that address", target, ip, port);
        return CompletableFuture.completedFuture(Optional.empty());
      }
      ActorRef<ByteStreams.Command> peerStreams = resolver.resolveActorRef(address.get() + "/system/" + ByteStreams.NAME);
      return ask(streams, (ActorRef<Optional<String>> r) -> new ByteStreams.Open(peerStreams, r),
          settings.openTimeout.plus(settings.askTimeout));
    } catch (UserApiException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** stream_close: true when this call closed the stream (both sides), false when it was closed already. */
  public CompletionStage<Boolean> streamClose(String streamId) {
    return endpoint(streamId).thenCompose(ep -> ask(ep, ByteStreamEndpoint.Close::new, settings.askTimeout));
  }

  /**
   * stream_read: up to {@code size} unread bytes (all when null; empty when none yet); empty
   * Optional (null) once the stream is closed and every byte was read.
   */
  public CompletionStage<Optional<ByteString>> streamRead(String streamId, Integer size) {
    if (size != null && size < 0) {
      return CompletableFuture.failedFuture(UserApiException.badParam("size", "must not be negative, got " + size));
    }
    int max = size == null ? Integer.MAX_VALUE : size;
    return endpoint(streamId).thenCompose(ep ->
        ask(ep, (ActorRef<Optional<ByteString>> r) -> new ByteStreamEndpoint.Read(max, r), settings.askTimeout));
  }

  /** stream_read with hex data, as JSON-RPC carries it: hex or null. */
  public CompletionStage<String> streamReadHex(String streamId, Integer size) {
    return streamRead(streamId, size).thenApply(o -> o.map(b -> Hex.encode(b.toArray())).orElse(null));
  }

  /**
   * stream_write: how many of the bytes the peer's buffer accepted (0 when full; the caller
   * writes the rest later); empty Optional (null) when the stream is closed. Never waits for room.
   */
  public CompletionStage<Optional<Integer>> streamWrite(String streamId, ByteString data) {
    if (data == null) {
      return CompletableFuture.failedFuture(UserApiException.badParam("data", "is missing"));
    }
    if (data.size() > settings.maxMessageBytes) {
      return CompletableFuture.failedFuture(UserApiException.badParam("data",
          "is " + data.size() + " bytes, over the limit of " + settings.maxMessageBytes));
    }
    return endpoint(streamId).thenCompose(ep ->
        ask(ep, (ActorRef<Optional<Integer>> r) -> new ByteStreamEndpoint.Write(data, r), settings.askTimeout));
  }

  /** stream_write with hex data, as JSON-RPC carries it. */
  public CompletionStage<Optional<Integer>> streamWriteHex(String streamId, String hex) {
    if (hex == null) {
      return CompletableFuture.failedFuture(UserApiException.badParam("data", "is missing"));
    }
    if (hex.length() / 2 > settings.maxMessageBytes) {
      return CompletableFuture.failedFuture(UserApiException.badParam("data",
          "is " + hex.length() / 2 + " bytes, over the limit of " + settings.maxMessageBytes));
    }
    try {
      return streamWrite(streamId, ByteString.fromArrayUnsafe(Hex.decode(hex)));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(UserApiException.badParam("data", e.getMessage()));
    }
  }

  /**
   * The stream's incoming bytes as a back-pressured source: bytes are taken from the buffer
   * only as fast as downstream pulls (up to {@code stream-chunk} at a time, emitted in elements
   * of at most {@code stream-source-chunk}), so a slow consumer leaves the buffer full and the
   * peer's writes accept 0. Completes when the stream is closed and drained. One reader per
   * stream (a second one completes at once).
   */
  public Source<ByteString, NotUsed> streamSource(String streamId) {
    // Each materialization looks the stream up and attaches itself when it starts.
    return Source.fromGraph(new ByteStreamReader(() -> endpoint(streamId).thenCompose(ep ->
        ask(ep, (ActorRef<Optional<ByteStreamPipe>> r) -> new ByteStreamEndpoint.AttachReader(r), settings.askTimeout)
            .thenApply(pipe -> pipe.map(p -> new ByteStreamPipe.End(p, ep)))), settings));
  }

  /**
   * A back-pressured sink into the stream: each element is taken only when the peer's buffer
   * has room for it, so a slow reader slows the writer. Completing the sink closes the stream;
   * when the stream is closed first, the sink cancels its upstream.
   */
  public Sink<ByteString, NotUsed> streamSink(String streamId) {
    return Sink.fromGraph(new ByteStreamWriter(() -> endpoint(streamId).thenCompose(ep ->
        ask(ep, (ActorRef<ByteStreamPipe> r) -> new ByteStreamEndpoint.AttachWriter(r), settings.askTimeout)
            .thenApply(pipe -> new ByteStreamPipe.End(pipe, ep))), settings));
  }

  // ---- helpers

  /**
   * These actors hold users' queued data: an unexpected exception (say, a malformed message from
   * another node) must not lose it, so they resume instead of the default stop.
   */
  static <T> akka.actor.typed.Behavior<T> keepState(akka.actor.typed.Behavior<T> behavior) {
    return akka.actor.typed.javadsl.Behaviors.supervise(behavior)
        .onFailure(Exception.class, akka.actor.typed.SupervisorStrategy.resume());
  }

  private CompletionStage<ActorRef<ByteStreamEndpoint.Command>> endpoint(String streamId) {
    if (streamId == null || !STREAM_ID.matcher(streamId).matches()) {
      return CompletableFuture.failedFuture(UserApiException.badParam("streamid", "a stream id is 32 lowercase hex characters"));
    }
    return ask(streams, (ActorRef<Optional<ActorRef<ByteStreamEndpoint.Command>>> r) -> new ByteStreams.Lookup(streamId, r),
        settings.askTimeout)
        .thenApply(found -> found.orElseThrow(() -> UserApiException.notFound("unknown stream id " + streamId)));
  }

  private Optional<Address> resolve(NodeId target, String ip, int port) {
    CurrentClusterState state = Cluster.get(system).state();
    return Members.resolve(state, target, ip, port);
  }

  /**
   * Runs a continuation on the thread that completed the stage, as a plain CompletableFuture does.
   * The stages Akka's javadsl ask returns are Scala's CompletableFuture wrapper, which runs even
   * non-async continuations ({@code handle}, {@code thenApply}) asynchronously on the common
   * pool; with fewer than 3 cores the JDK gives that pool no threads and starts a new thread
   * per continuation, i.e. per call of this API.
   */
  private static final java.util.concurrent.Executor SAME_THREAD = Runnable::run;

  private <Req, Res> CompletionStage<Res> ask(
      RecipientRef<Req> ref, akka.japi.function.Function<ActorRef<Res>, Req> request, Duration timeout) {
    return AskPattern.ask(ref, request, timeout, system.scheduler())
        .handleAsync((Res value, Throwable failure) -> {
          if (failure == null) {
            return value;
          }
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
          if (cause instanceof UserApiException) {
            throw (UserApiException) cause;
          }
          if (cause instanceof TimeoutException) {
            throw UserApiException.unavailable("the node did not answer within " + timeout, cause);
          }
          throw UserApiException.unavailable("the node could not serve the call: " + cause.getMessage(), cause);
        }, SAME_THREAD);
  }

  private EventSchema compile(JsonNode schema) {
    if (schema == null || schema.isMissingNode()) {
      throw UserApiException.badParam("schema", "is missing");
    }
    requireSize("schema", CanonicalJson.of(schema));
    try {
      return EventSchema.compile(schema);
    } catch (InvalidSchemaException e) {
      throw UserApiException.badParam("schema", e.getMessage());
    }
  }

  private String schemaKey(JsonNode schema) {
    if (schema == null || !(schema.isObject() || schema.isBoolean())) {
      throw UserApiException.badParam("schema", "a JSON Schema is an object or a boolean");
    }
    String canonical = CanonicalJson.of(schema);
    requireSize("schema", canonical);
    return canonical;
  }

  private void requireObject(String param, JsonNode value) {
    if (value == null || !value.isObject()) {
      String got = value == null || value.isMissingNode() ? "nothing" : value.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
      throw UserApiException.badParam(param, "must be a JSON object, got " + got);
    }
  }

  private void requireSize(String param, String json) {
    // UTF-8 length without encoding: cheap upper bound first.
    if (json.length() > settings.maxMessageBytes / 3) {
      int bytes = json.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > settings.maxMessageBytes) {
        throw UserApiException.badParam(param, "is " + bytes + " bytes of JSON, over the limit of " + settings.maxMessageBytes);
      }
    }
  }

  private static NodeId parseNodeId(String nodeId) {
    try {
      return NodeId.parse(Objects.requireNonNull(nodeId, "node id"));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw UserApiException.badParam("nodeid", e.getMessage());
    }
  }

  private static void requireAddress(String ip, int port) {
    if (ip == null || ip.isBlank()) {
      throw UserApiException.badParam("ip", "is missing");
    }
    if (port < 1 || port > 65535) {
      throw UserApiException.badParam("port", "must be 1..65535, got " + port);
    }
  }
}
