package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.cluster.ClusterEvent.CurrentClusterState;
import akka.cluster.Member;
import akka.cluster.ddata.ORMultiMap;
import akka.cluster.ddata.Key;
import akka.cluster.ddata.ORMultiMapKey;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.actors.JsonSerializable;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.protocol.NodeId;
import io.peernode.protocol.userapi.CanonicalJson;
import io.peernode.protocol.userapi.EventSchema;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * This node's end of the schema pub/sub, one per node at {@code /system/userapi-pubsub}.
 *
 * <p>Owns the node's {@link Subscription} actors (one per schema, keyed by canonical JSON), its
 * entry in the replicated subscription index (Distributed Data {@code ORMultiMap}: node id ->
 * canonical schemas), and a bounded history of event digests seen. Receives subscribe /
 * unsubscribe / list / drain from the facade, {@link Publish} from this node's users and
 * {@link Deliver} from publishers on other nodes.
 *
 * <p>Routing: a publish reads the index locally, validates the event once against each distinct
 * schema of every other serving member, and sends one {@link Deliver} (event + the schemas it
 * matched) to each node that has at least one match; nodes without a matching subscription get
 * nothing. Local subscriptions are served in place. Guarantees: each event reaches each matching
 * subscription once; a second arrival of the same digest within the history is dropped and
 * counted; subscribe returns once the index change reached every node (or the write timed out).
 */
public final class PubSubNode extends AbstractBehavior<PubSubNode.Command> {

  public static final String NAME = "userapi-pubsub";
  static final Key<ORMultiMap<String, String>> INDEX = ORMultiMapKey.create("peer-userapi-subscriptions");

  public interface Command {}

  public static final class Subscribe implements Command {
    final EventSchema schema;
    final ActorRef<Done> replyTo;

    public Subscribe(EventSchema schema, ActorRef<Done> replyTo) {
      this.schema = schema;
      this.replyTo = replyTo;
    }
  }

  public static final class Unsubscribe implements Command {
    final String schema;
    final ActorRef<Done> replyTo;

    public Unsubscribe(String canonicalSchema, ActorRef<Done> replyTo) {
      this.schema = canonicalSchema;
      this.replyTo = replyTo;
    }
  }

  public static final class ListSubscriptions implements Command {
    final ActorRef<List<JsonNode>> replyTo;

    public ListSubscriptions(ActorRef<List<JsonNode>> replyTo) {
      this.replyTo = replyTo;
    }
  }

  public static final class DrainEvents implements Command {
    final String schema;
    final ActorRef<Subscription.Events> replyTo;

    public DrainEvents(String canonicalSchema, ActorRef<Subscription.Events> replyTo) {
      this.schema = canonicalSchema;
      this.replyTo = replyTo;
    }
  }

  /** Publish an event given as canonical JSON with its digest. */
  public static final class Publish implements Command {
    final String event;
    final String digest;
    final ActorRef<Done> replyTo;

    public Publish(String canonicalEvent, String digest, ActorRef<Done> replyTo) {
      this.event = canonicalEvent;
      this.digest = digest;
      this.replyTo = replyTo;
    }
  }

  /** An event for the subscriptions {@code schemas} of the receiving node. Crosses the cluster. */
  public static final class Deliver implements Command, JsonSerializable {
    public final String digest;
    public final String event;
    public final List<String> schemas;

    @JsonCreator
    public Deliver(
        @JsonProperty("digest") String digest,
        @JsonProperty("event") String event,
        @JsonProperty("schemas") List<String> schemas) {
      this.digest = digest;
      this.event = event;
      this.schemas = List.copyOf(schemas);
    }
  }

  /**
   * The events one index read routed to the receiving node, in publish order: one cluster
   * message for many events when publishes come faster than index reads. Crosses the cluster.
   */
  public static final class DeliverBatch implements Command, JsonSerializable {
    public final List<Deliver> events;

    @JsonCreator
    public DeliverBatch(@JsonProperty("events") List<Deliver> events) {
      this.events = List.copyOf(events);
    }
  }

  private static final class IndexRead implements Command {
    final Replicator.GetResponse<ORMultiMap<String, String>> response;
    final List<Pending> batch;

    IndexRead(Replicator.GetResponse<ORMultiMap<String, String>> response, List<Pending> batch) {
      this.response = response;
      this.batch = batch;
    }
  }

  private static final class Pending {
    final Publish publish;
    final EventSchema.Event parsed;

    Pending(Publish publish, EventSchema.Event parsed) {
      this.publish = publish;
      this.parsed = parsed;
    }
  }

  private static final class IndexWritten implements Command {
    final ActorRef<Done> replyTo;

    IndexWritten(ActorRef<Done> replyTo) {
      this.replyTo = replyTo;
    }
  }

  public static Behavior<Command> create(NodeId self, UserApiSettings settings, UserApiMetrics metrics) {
    return Behaviors.setup(ctx ->
        DistributedData.withReplicatorMessageAdapter(
            (ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator) ->
                new PubSubNode(ctx, replicator, self, settings, metrics)));
  }

  private final ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator;
  private final SelfUniqueAddress selfAddress;
  private final String self;
  private final UserApiSettings settings;
  private final UserApiMetrics metrics;
  private final Cluster cluster;
  private final ActorRefResolver resolver;

  private final Map<String, Local> subscriptions = new TreeMap<>();
  /** Compiled schemas of other nodes, by canonical text; pruned to the index's schemas. */
  private final Map<String, EventSchema> compiled = new HashMap<>();
  private final Map<Address, ActorRef<Command>> remotes = new HashMap<>();
  private final Set<String> seen;
  /** Publishes waiting for the next index read, and whether one is in flight. */
  private List<Pending> waiting = new ArrayList<>();
  private boolean reading;

  private static final class Local {
    final EventSchema schema;
    final ActorRef<Subscription.Command> actor;

    Local(EventSchema schema, ActorRef<Subscription.Command> actor) {
      this.schema = schema;
      this.actor = actor;
    }
  }

  private PubSubNode(
      ActorContext<Command> ctx,
      ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator,
      NodeId self,
      UserApiSettings settings,
      UserApiMetrics metrics) {
    super(ctx);
    this.replicator = replicator;
    this.selfAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.self = self.hex();
    this.settings = settings;
    this.metrics = metrics;
    this.cluster = Cluster.get(ctx.getSystem());
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    int history = settings.dedupHistory;
    this.seen = Collections.newSetFromMap(new LinkedHashMap<>(16, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > history;
      }
    });
    // A node restarting with the same id starts with no subscriptions: drop what an earlier
    // incarnation left in the index.
    updateIndex(m -> m.remove(selfAddress, this.self), Replicator.writeLocal(), null);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Subscribe.class, this::onSubscribe)
        .onMessage(Unsubscribe.class, this::onUnsubscribe)
        .onMessage(ListSubscriptions.class, this::onList)
        .onMessage(DrainEvents.class, this::onDrain)
        .onMessage(Publish.class, this::onPublish)
        .onMessage(IndexRead.class, this::onIndexRead)
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(DeliverBatch.class, this::onDeliverBatch)
        .onMessage(IndexWritten.class, this::onIndexWritten)
        .build();
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    String key = s.schema.canonical();
    if (subscriptions.containsKey(key)) {
      s.replyTo.tell(Done.getInstance());
      return this;
    }
    ActorRef<Subscription.Command> actor = getContext().spawnAnonymous(UserApi.keepState(
        Subscription.create(key, settings.maxEventsPerSubscription, metrics.refused.labels("subscription"))));
    subscriptions.put(key, new Local(s.schema, actor));
    updateIndex(m -> m.addBinding(selfAddress, self, key), new Replicator.WriteAll(settings.indexWriteTimeout), s.replyTo);
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    Local local = subscriptions.remove(u.schema);
    if (local == null) {
      u.replyTo.tell(Done.getInstance());
      return this;
    }
    getContext().stop(local.actor);
    updateIndex(m -> m.removeBinding(selfAddress, self, u.schema), new Replicator.WriteAll(settings.indexWriteTimeout), u.replyTo);
    return this;
  }

  private void updateIndex(
      java.util.function.Function<ORMultiMap<String, String>, ORMultiMap<String, String>> modify,
      Replicator.WriteConsistency consistency,
      ActorRef<Done> replyTo) {
    replicator.askUpdate(
        askReplyTo -> new Replicator.Update<>(INDEX, ORMultiMap.emptyWithValueDeltas(), consistency, askReplyTo, modify),
        // Success or timeout alike: the local replica has the change and gossip spreads it.
        response -> new IndexWritten(replyTo));
  }

  private Behavior<Command> onIndexWritten(IndexWritten w) {
    if (w.replyTo != null) {
      w.replyTo.tell(Done.getInstance());
    }
    return this;
  }

  private Behavior<Command> onList(ListSubscriptions l) {
    List<JsonNode> out = new ArrayList<>();
    for (Local local : subscriptions.values()) {
      out.add(local.schema.document());
    }
    l.replyTo.tell(out);
    return this;
  }

  private Behavior<Command> onDrain(DrainEvents d) {
    Local local = subscriptions.get(d.schema);
    if (local == null) {
      d.replyTo.tell(new Subscription.Events(false, List.of()));
    } else {
      local.actor.tell(new Subscription.Drain(d.replyTo));
    }
    return this;
  }

  private Behavior<Command> onPublish(Publish p) {
    EventSchema.Event parsed = EventSchema.Event.parse(p.event);
    // Local subscriptions first, in place: the publishing node is a subscriber like any other.
    if (seen.add(p.digest)) {
      for (Local local : subscriptions.values()) {
        if (local.schema.matches(parsed)) {
          offer(local, p.event);
        }
      }
    } else {
      metrics.duplicates.inc();
    }
    // Remote routing needs the index as it is now. One local read serves every publish that
    // arrived before it was issued; publishes arriving meanwhile wait for the next read, so no
    // publish is routed with an index older than the publish itself.
    waiting.add(new Pending(p, parsed));
    if (!reading) {
      readIndex();
    }
    return this;
  }

  private void readIndex() {
    reading = true;
    List<Pending> batch = waiting;
    waiting = new ArrayList<>();
    replicator.askGet(
        askReplyTo -> new Replicator.Get<>(INDEX, Replicator.readLocal(), askReplyTo),
        response -> new IndexRead(response, batch));
  }

  private Behavior<Command> onIndexRead(IndexRead r) {
    Map<String, Set<String>> index = r.response instanceof Replicator.GetSuccess
        ? ((Replicator.GetSuccess<ORMultiMap<String, String>>) r.response).get(INDEX).getEntries()
        : Map.of();
    CurrentClusterState state = cluster.state();
    Map<String, Address> serving = new HashMap<>();
    for (Member m : state.getMembers()) {
      if (NodeRoles.isServing(m)) {
        NodeRoles.nodeIdOf(m).ifPresent(id -> serving.put(id.hex(), m.address()));
      }
    }
    Map<Address, List<Deliver>> outgoing = new HashMap<>();
    for (Pending pending : r.batch) {
      route(index, serving, pending, outgoing);
      pending.publish.replyTo.tell(Done.getInstance());
    }
    outgoing.forEach(this::send);
    if (compiled.size() > 2 * index.values().stream().mapToInt(Set::size).sum() + 64) {
      Set<String> live = new java.util.HashSet<>();
      index.values().forEach(live::addAll);
      compiled.keySet().retainAll(live);
    }
    reading = false;
    if (!waiting.isEmpty()) {
      readIndex();
    }
    return this;
  }

  /** One Deliver for each other serving node with at least one schema the event matches. */
  private void route(
      Map<String, Set<String>> index, Map<String, Address> serving, Pending pending, Map<Address, List<Deliver>> outgoing) {
    for (Map.Entry<String, Set<String>> entry : index.entrySet()) {
      Address address = serving.get(entry.getKey());
      if (entry.getKey().equals(self) || address == null) {
        continue;
      }
      List<String> matched = new ArrayList<>();
      for (String schema : entry.getValue()) {
        EventSchema compiledSchema = compiledSchema(schema);
        if (compiledSchema != null && compiledSchema.matches(pending.parsed)) {
          matched.add(schema);
        }
      }
      if (!matched.isEmpty()) {
        outgoing.computeIfAbsent(address, a -> new ArrayList<>())
            .add(new Deliver(pending.publish.digest, pending.publish.event, matched));
      }
    }
  }

  /** The events for one node, as few messages as the frame limit allows (at most max-message-bytes of events each). */
  private void send(Address address, List<Deliver> events) {
    ActorRef<Command> to = remote(address);
    if (events.size() == 1) {
      to.tell(events.get(0));
      return;
    }
    List<Deliver> batch = new ArrayList<>();
    long bytes = 0;
    for (Deliver d : events) {
      if (!batch.isEmpty() && bytes + d.event.length() > settings.maxMessageBytes) {
        to.tell(new DeliverBatch(batch));
        batch = new ArrayList<>();
        bytes = 0;
      }
      batch.add(d);
      bytes += d.event.length();
    }
    to.tell(batch.size() == 1 ? batch.get(0) : new DeliverBatch(batch));
  }

  private Behavior<Command> onDeliverBatch(DeliverBatch b) {
    // One Offer per subscription for the whole batch, in order.
    Map<String, List<String>> bySchema = new HashMap<>();
    for (Deliver d : b.events) {
      if (!seen.add(d.digest)) {
        metrics.duplicates.inc();
        continue;
      }
      for (String schema : d.schemas) {
        if (subscriptions.containsKey(schema)) {
          bySchema.computeIfAbsent(schema, k -> new ArrayList<>()).add(d.event);
        }
      }
    }
    bySchema.forEach((schema, events) -> {
      subscriptions.get(schema).actor.tell(new Subscription.Offer(events));
      metrics.delivered.inc(events.size());
    });
    return this;
  }

  private Behavior<Command> onDeliver(Deliver d) {
    if (!seen.add(d.digest)) {
      metrics.duplicates.inc();
      return this;
    }
    for (String schema : d.schemas) {
      Local local = subscriptions.get(schema);
      if (local != null) {
        offer(local, d.event);
      }
    }
    return this;
  }

  private void offer(Local local, String event) {
    local.actor.tell(new Subscription.Offer(event));
    metrics.delivered.inc();
  }

  private EventSchema compiledSchema(String canonical) {
    EventSchema s = compiled.get(canonical);
    if (s == null) {
      try {
        s = EventSchema.compile(CanonicalJson.parse(canonical));
        compiled.put(canonical, s);
      } catch (IllegalArgumentException e) {
        // Another node's schema that does not compile here (e.g. a newer validator there): it
        // cannot be matched, and saying so once per publish is enough.
        getContext().getLog().debug("cannot compile a replicated schema: {}", e.getMessage());
      }
    }
    return s;
  }

  private ActorRef<Command> remote(Address address) {
    if (remotes.size() > 1024) {
      remotes.clear(); // addresses of long-gone incarnations; resolving again is cheap
    }
    return remotes.computeIfAbsent(address, a ->
        resolver.resolveActorRef(a.toString() + "/system/" + NAME));
  }
}
