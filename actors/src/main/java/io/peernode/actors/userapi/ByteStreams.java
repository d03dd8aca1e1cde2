package io.peernode.actors.userapi;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.peernode.actors.JsonSerializable;
import io.peernode.protocol.userapi.StreamDataHandshake;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The node's byte streams, one per node at {@code /system/userapi-streams}.
 *
 * <p>Owns the {@link ByteStreamEndpoint} children (one per stream this node is an end of) and
 * the count of streams held open. Receives {@link Open} from this node's {@code stream_open},
 * {@link OpenRequest} from other nodes, and lookups from the facade. Guarantees: at most
 * {@code max-open-streams} streams are held at once on this node, counting both the streams it
 * opened and those it accepted; an open beyond that is refused (null for the local caller, a
 * {@link ByteStreamEndpoint.Refused} to a remote one) with a logged reason. A stream stops
 * counting once it is closed and its unread bytes are gone.
 *
 * <p>Also routes the data connections that arrive at this node's {@link ByteStreamDataServer}
 * ({@link AttachData}) to the endpoint they name; it tells the streams it accepts where that
 * server is ({@link DataAddress}, set once by the facade after it bound the server).
 */
public final class ByteStreams extends AbstractBehavior<ByteStreams.Command> {

  public static final String NAME = "userapi-streams";

  public interface Command {}

  /** Open a stream to the node whose {@code ByteStreams} is {@code peer}. Local only. */
  public static final class Open implements Command {
    final ActorRef<Command> peer;
    final ActorRef<Optional<String>> replyTo;

    public Open(ActorRef<Command> peer, ActorRef<Optional<String>> replyTo) {
      this.peer = peer;
      this.replyTo = replyTo;
    }
  }

  /** Another node opens a stream with this one. Crosses the cluster. */
  public static final class OpenRequest implements Command, JsonSerializable {
    public final String streamId;
    public final String from;
    public final ActorRef<ByteStreamEndpoint.Command> initiator;
    public final int initiatorBuffer;

    @JsonCreator
    public OpenRequest(
        @JsonProperty("streamId") String streamId,
        @JsonProperty("from") String from,
        @JsonProperty("initiator") ActorRef<ByteStreamEndpoint.Command> initiator,
        @JsonProperty("initiatorBuffer") int initiatorBuffer) {
      this.streamId = streamId;
      this.from = from;
      this.initiator = initiator;
      this.initiatorBuffer = initiatorBuffer;
    }
  }

  /** Where this node's stream data server listens (host and bound port). Local only, sent once. */
  public static final class DataAddress implements Command {
    final String host;
    final int port;

    public DataAddress(String host, int port) {
      this.host = host;
      this.port = port;
    }
  }

  /** A data connection arrived for {@code streamId}: hand it to that endpoint. Local only. */
  static final class AttachData implements Command {
    final String streamId;
    final StreamDataHandshake handshake;
    final ActorRef<ByteStreamEndpoint.DataAttached> replyTo;

    AttachData(String streamId, StreamDataHandshake handshake, ActorRef<ByteStreamEndpoint.DataAttached> replyTo) {
      this.streamId = streamId;
      this.handshake = handshake;
      this.replyTo = replyTo;
    }
  }

  /** The endpoint of a stream id, if this node has one. Local only. */
  public static final class Lookup implements Command {
    final String streamId;
    final ActorRef<Optional<ActorRef<ByteStreamEndpoint.Command>>> replyTo;

    public Lookup(String streamId, ActorRef<Optional<ActorRef<ByteStreamEndpoint.Command>>> replyTo) {
      this.streamId = streamId;
      this.replyTo = replyTo;
    }
  }

  /** All endpoints, by stream id. Local only. */
  public static final class ListEndpoints implements Command {
    final ActorRef<Map<String, ActorRef<ByteStreamEndpoint.Command>>> replyTo;

    public ListEndpoints(ActorRef<Map<String, ActorRef<ByteStreamEndpoint.Command>>> replyTo) {
      this.replyTo = replyTo;
    }
  }

  static final class EndpointClosed implements Command {
    final String streamId;

    EndpointClosed(String streamId) {
      this.streamId = streamId;
    }
  }

  static final class EndpointReleased implements Command {
    final String streamId;

    EndpointReleased(String streamId) {
      this.streamId = streamId;
    }
  }

  private static final class EndpointStopped implements Command {
    final String streamId;

    EndpointStopped(String streamId) {
      this.streamId = streamId;
    }
  }

  public static Behavior<Command> create(String selfNodeId, UserApiSettings settings, UserApiMetrics metrics) {
    return Behaviors.setup(ctx -> new ByteStreams(ctx, selfNodeId, settings, metrics));
  }

  private final String self;
  private final UserApiSettings settings;
  private final UserApiMetrics metrics;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, ActorRef<ByteStreamEndpoint.Command>> endpoints = new LinkedHashMap<>();
  /** Streams that no longer count: closed, nothing left unread. */
  private final Set<String> released = new HashSet<>();
  private final Set<String> closed = new HashSet<>();
  private DataAddress dataAddress;

  private ByteStreams(ActorContext<Command> ctx, String self, UserApiSettings settings, UserApiMetrics metrics) {
    super(ctx);
    this.self = self;
    this.settings = settings;
    this.metrics = metrics;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Open.class, this::onOpen)
        .onMessage(OpenRequest.class, this::onOpenRequest)
        .onMessage(DataAddress.class, this::onDataAddress)
        .onMessage(AttachData.class, this::onAttachData)
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(ListEndpoints.class, this::onList)
        .onMessage(EndpointClosed.class, this::onClosed)
        .onMessage(EndpointReleased.class, this::onReleased)
        .onMessage(EndpointStopped.class, this::onStopped)
        .build();
  }

  private int held() {
    return endpoints.size() - released.size();
  }

  private Behavior<Command> onOpen(Open o) {
    if (held() >= settings.maxOpenStreams) {
      getContext().getLog().warn("stream_open refused: this node already holds {} streams (peer.userapi.max-open-streams)", settings.maxOpenStreams);
      o.replyTo.tell(Optional.empty());
      return this;
    }
    String id = newId();
    spawn(id, ByteStreamEndpoint.initiator(id, self, o.peer, getContext().getSelf(), o.replyTo, settings));
    return this;
  }

  private Behavior<Command> onOpenRequest(OpenRequest r) {
    if (held() >= settings.maxOpenStreams) {
      getContext().getLog().warn("stream from node {} refused: this node already holds {} streams (peer.userapi.max-open-streams)", r.from, settings.maxOpenStreams);
      r.initiator.tell(new ByteStreamEndpoint.Refused("the peer holds its maximum of " + settings.maxOpenStreams + " streams"));
      return this;
    }
    if (endpoints.containsKey(r.streamId)) {
      r.initiator.tell(new ByteStreamEndpoint.Refused("stream id already in use"));
      return this;
    }
    if (dataAddress == null) {
      r.initiator.tell(new ByteStreamEndpoint.Refused("the peer's stream data server is not bound yet"));
      return this;
    }
    byte[] token = new byte[StreamDataHandshake.TOKEN_BYTES];
    random.nextBytes(token);
    spawn(r.streamId, ByteStreamEndpoint.acceptor(r.streamId, r.initiator, r.initiatorBuffer,
        dataAddress.host, dataAddress.port, token, getContext().getSelf(), settings));
    return this;
  }

  private Behavior<Command> onDataAddress(DataAddress a) {
    dataAddress = a;
    return this;
  }

  private Behavior<Command> onAttachData(AttachData a) {
    ActorRef<ByteStreamEndpoint.Command> endpoint = endpoints.get(a.streamId);
    if (endpoint == null) {
      a.replyTo.tell(ByteStreamEndpoint.DataAttached.refused("no such stream on this node"));
    } else {
      endpoint.tell(new ByteStreamEndpoint.AttachData(a.handshake, a.replyTo));
    }
    return this;
  }

  private void spawn(String id, Behavior<ByteStreamEndpoint.Command> behavior) {
    ActorRef<ByteStreamEndpoint.Command> endpoint = getContext().spawn(UserApi.keepState(behavior), "stream-" + id);
    getContext().watchWith(endpoint, new EndpointStopped(id));
    endpoints.put(id, endpoint);
    gauge();
  }

  private String newId() {
    byte[] bytes = new byte[16];
    String id;
    do {
      random.nextBytes(bytes);
      id = io.peernode.protocol.Hex.encode(bytes);
    } while (endpoints.containsKey(id));
    return id;
  }

  private Behavior<Command> onLookup(Lookup l) {
    l.replyTo.tell(Optional.ofNullable(endpoints.get(l.streamId)));
    return this;
  }

  private Behavior<Command> onList(ListEndpoints l) {
    l.replyTo.tell(Map.copyOf(endpoints));
    return this;
  }

  private Behavior<Command> onClosed(EndpointClosed c) {
    if (endpoints.containsKey(c.streamId)) {
      closed.add(c.streamId);
      gauge();
    }
    return this;
  }

  private Behavior<Command> onReleased(EndpointReleased r) {
    if (endpoints.containsKey(r.streamId)) {
      released.add(r.streamId);
    }
    return this;
  }

  private Behavior<Command> onStopped(EndpointStopped s) {
    endpoints.remove(s.streamId);
    released.remove(s.streamId);
    closed.remove(s.streamId);
    gauge();
    return this;
  }

  private void gauge() {
    metrics.openStreams.set(endpoints.size() - closed.size());
  }
}
