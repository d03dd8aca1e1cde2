package io.peernode.actors.userapi;

import akka.Done;
import akka.actor.Address;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

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
 * schema of the other serving members (a schema that several nodes share is validated once),
 * and sends the event with the schemas it matched to each node that has at least one match;
 * nodes without a matching subscription get nothing. The events one index read routed to one
 * node travel as one {@link EventBatch} (binary, {@link EventBatchSerializer}). Local
 * subscriptions are served in place. Guarantees: each event reaches each matching subscription
 * once; a second arrival of the same digest within the history is dropped and counted;
 * subscribe returns once the index change reached every node (or the write timed out).
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

  /** The Subscription actor of that schema, for attaching a stream to it (empty: not subscribed). */
  public static final class LookupSubscription implements Command {
    final String schema;
    final ActorRef<java.util.Optional<ActorRef<Subscription.Command>>> replyTo;

    public LookupSubscription(String canonicalSchema, ActorRef<java.util.Optional<ActorRef<Subscription.Command>>> replyTo) {
      this.schema = canonicalSchema;
      this.replyTo = replyTo;
    }
  }

  /**
   * Publish an event given as canonical JSON with its digest. Answered (Done, or the future
   * completed) once the event was handed to the local subscriptions and routed to the other nodes.
   */
  public static final class Publish implements Command {
    /** The canonical text; null from the facade, which gives its UTF-8 ({@link #utf8}) only. */
    final String event;
    /** The digest as hex; null from the facade, which gives its bytes ({@link #rawDigest}) only. */
    final String digest;
    final ActorRef<Done> replyTo;
    /** The canonical text's UTF-8 bytes, the digest's bytes and the caller's future, when the facade made them. */
    final byte[] utf8;
    final byte[] rawDigest;
    final CompletableFuture<Void> done;
    /** The facade's count of bytes in flight, which this publish's {@code utf8.length} leaves when answered. */
    private final java.util.concurrent.atomic.AtomicLong inFlight;
    /** The schemas the caller validated the event against, and the results (null: validate here). */
    final Prematch prematch;
    final boolean[] remoteMatches;
    final boolean[] localMatches;

    public Publish(String canonicalEvent, String digest, ActorRef<Done> replyTo) {
      this.event = canonicalEvent;
      this.digest = digest;
      this.replyTo = replyTo;
      this.utf8 = null;
      this.rawDigest = null;
      this.done = null;
      this.inFlight = null;
      this.prematch = null;
      this.remoteMatches = null;
      this.localMatches = null;
    }

    /**
     * From the facade: the work that needs no actor state (encoding, hashing, validating against
     * {@code prematch}) is done already, on the caller's thread, with the caller's tree
     * ({@code parsed}); the actor never reads that tree (it is the caller's), and validates again,
     * where it has to, from the canonical text.
     */
    Publish(String canonicalEvent, byte[] utf8, String digest, byte[] rawDigest, EventSchema.Event parsed,
        Prematch prematch, CompletableFuture<Void> done) {
      this(canonicalEvent, utf8, digest, rawDigest, parsed, prematch, done, null);
    }

    /**
     * With {@code inFlight}: the facade's bytes in flight, released before {@code done}
     * completes (so a caller that publishes again from its callback finds the room), and
     * {@code done} failing with a {@link UserApiException} (UNAVAILABLE).
     */
    Publish(String canonicalEvent, byte[] utf8, String digest, byte[] rawDigest, EventSchema.Event parsed,
        Prematch prematch, CompletableFuture<Void> done, java.util.concurrent.atomic.AtomicLong inFlight) {
      this.inFlight = inFlight;
      this.event = canonicalEvent;
      this.digest = digest;
      this.replyTo = null;
      this.utf8 = utf8;
      this.rawDigest = rawDigest;
      this.done = done;
      this.prematch = prematch;
      if (prematch != null) {
        this.remoteMatches = prematch.match(prematch.remote, parsed);
        this.localMatches = prematch.match(prematch.local, parsed);
      } else {
        this.remoteMatches = null;
        this.localMatches = null;
      }
    }

    /** Whether this publish's bytes left the facade's in-flight count already ({@link #releaseAll}). */
    private boolean released;

    /**
     * Takes the bytes of these publishes off their facades' in-flight counts, one update per run
     * of publishes that share a count (all of a batch, usually): the count is written by the
     * publishing threads too, and an update per publish moved its cache line between the cores
     * twice per event.
     */
    static void releaseAll(List<Pending> batch) {
      java.util.concurrent.atomic.AtomicLong count = null;
      long bytes = 0;
      for (Pending pending : batch) {
        Publish p = pending.publish;
        if (p.inFlight == null || p.released) {
          continue;
        }
        if (p.inFlight != count) {
          if (count != null) {
            count.addAndGet(-bytes);
          }
          count = p.inFlight;
          bytes = 0;
        }
        bytes += p.utf8.length;
        p.released = true;
      }
      if (count != null) {
        count.addAndGet(-bytes);
      }
    }

    void reply(Throwable failure) {
      if (done != null) {
        if (inFlight != null && !released) {
          released = true;
          inFlight.addAndGet(-utf8.length);
        }
        if (failure == null) {
          done.complete(null);
        } else {
          done.completeExceptionally(inFlight == null ? failure
              : UserApiException.unavailable("the node could not publish: " + failure.getMessage(), failure));
        }
      } else if (replyTo != null && failure == null) {
        replyTo.tell(Done.getInstance());
      }
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

  /**
   * The events one index read routed to the receiving node, in publish order, with the schemas
   * (of that node) each one matched: the schema texts once per batch, each event's matches as
   * indexes into them. Crosses the cluster in a compact binary form ({@link EventBatchSerializer}:
   * the canonical event text as UTF-8 bytes, the digest as 32 bytes), not as JSON.
   */
  public static final class EventBatch implements Command {
    final String[] schemas;
    final String[] digests;
    /** The events' canonical text; null entries on a receiver, which keeps the bytes ({@link #utf8}). */
    final String[] events;
    /**
     * UTF-8 of {@link #events} (where the sender has it already, and always on a receiver) and
     * the 32 bytes of {@link #digests} (where the sender has them, and on a receiver for every
     * SHA-256 digest, whose {@code digests} entry is then null: see {@link #digest}).
     */
    final byte[][] utf8;
    final byte[][] rawDigests;
    final int[][] matched;

    EventBatch(String[] schemas, String[] digests, String[] events, byte[][] utf8, byte[][] rawDigests, int[][] matched) {
      this.schemas = schemas;
      this.digests = digests;
      this.events = events;
      this.utf8 = utf8;
      this.rawDigests = rawDigests;
      this.matched = matched;
    }

    /** The batch of these Delivers (schema texts collected into one table). */
    public static EventBatch of(List<Deliver> delivers) {
      Map<String, Integer> table = new LinkedHashMap<>();
      int n = delivers.size();
      String[] digests = new String[n];
      String[] events = new String[n];
      int[][] matched = new int[n][];
      for (int i = 0; i < n; i++) {
        Deliver d = delivers.get(i);
        digests[i] = d.digest;
        events[i] = d.event;
        matched[i] = new int[d.schemas.size()];
        for (int j = 0; j < matched[i].length; j++) {
          matched[i][j] = table.computeIfAbsent(d.schemas.get(j), k -> table.size());
        }
      }
      return new EventBatch(table.keySet().toArray(new String[0]), digests, events, new byte[n][], new byte[n][], matched);
    }

    public int size() {
      return events.length;
    }

    /** The digest as hex text (a receiver keeps only the 32 bytes of a SHA-256 digest). */
    String digest(int i) {
      return digests[i] != null ? digests[i] : io.peernode.protocol.Hex.encode(rawDigests[i]);
    }

    String text(int i) {
      return events[i] != null ? events[i] : new String(utf8[i], StandardCharsets.UTF_8);
    }

    /** The event as an element of a Subscription queue: its bytes when it came from another node. */
    Object queued(int i) {
      return utf8[i] != null && events[i] == null ? utf8[i] : events[i];
    }

    /** The events of this batch as Delivers, in order. */
    public List<Deliver> delivers() {
      List<Deliver> out = new ArrayList<>(events.length);
      for (int i = 0; i < events.length; i++) {
        List<String> names = new ArrayList<>(matched[i].length);
        for (int s : matched[i]) {
          names.add(schemas[s]);
        }
        out.add(new Deliver(digest(i), text(i), names));
      }
      return out;
    }
  }

  /**
   * Collects one node's share of an index read's publishes into {@link EventBatch}es of at most
   * about {@code max-message-bytes} each; the schema table holds only the schemas matched.
   */
  private static final class BatchBuilder {
    final UserApiMetrics metrics;
    final ActorRef<Command> to;
    final Route route;
    final long maxBytes;
    final int[] remap;
    final List<String> table = new ArrayList<>();
    // The batch's columns, filled as events are added, so that a flush only trims them (no
    // per-event loop and no List.toArray of several element types in it: such a flush was
    // compiled by C2 up to four times, and only late, as it runs once per batch).
    String[] digests;
    String[] texts;
    byte[][] utf8;
    byte[][] raw;
    int[][] matched;
    int size;
    long bytes;

    BatchBuilder(Route route, long maxBytes, UserApiMetrics metrics, int expected) {
      this.metrics = metrics;
      this.to = route.to;
      this.route = route;
      this.maxBytes = maxBytes;
      this.remap = new int[route.schemas.length];
      columns(Math.max(16, expected));
      clear();
    }

    private void columns(int capacity) {
      digests = new String[capacity];
      texts = new String[capacity];
      utf8 = new byte[capacity][];
      raw = new byte[capacity][];
      matched = new int[capacity][];
    }

    /** Adds the event with the first {@code count} of {@code nodeSchemas} (indexes into the route's schemas). */
    void add(Pending p, int[] nodeSchemas, int count) {
      long cost = EventBatchSerializer.eventOverhead(count) + p.utf8.length;
      if (size > 0 && bytes + cost > maxBytes) {
        flush();
      }
      int[] m = count == 1 ? null : new int[count];
      for (int j = 0; j < count; j++) {
        int x = nodeSchemas[j];
        if (remap[x] < 0) {
          remap[x] = table.size();
          table.add(route.schemas[x]);
          bytes += EventBatchSerializer.schemaOverhead() + utf8Length(route.schemas[x]);
        }
        if (m == null) {
          m = EventBatchSerializer.matchedOne(remap[x]);
        } else {
          m[j] = remap[x];
        }
      }
      if (size == digests.length) {
        int capacity = 2 * size;
        digests = java.util.Arrays.copyOf(digests, capacity);
        texts = java.util.Arrays.copyOf(texts, capacity);
        utf8 = java.util.Arrays.copyOf(utf8, capacity);
        raw = java.util.Arrays.copyOf(raw, capacity);
        matched = java.util.Arrays.copyOf(matched, capacity);
      }
      Publish publish = p.publish;
      digests[size] = publish.digest;
      texts[size] = publish.event;
      utf8[size] = p.utf8;
      raw[size] = publish.rawDigest;
      matched[size] = m;
      size++;
      bytes += cost;
    }

    void flush() {
      int n = size;
      if (n == 0) {
        return;
      }
      String[] schemas = new String[table.size()];
      for (int i = 0; i < schemas.length; i++) {
        schemas[i] = table.get(i);
      }
      // The columns go with the batch (no copy when full); the next batch gets new ones.
      EventBatch batch = n == digests.length
          ? new EventBatch(schemas, digests, texts, utf8, raw, matched)
          : new EventBatch(schemas, java.util.Arrays.copyOf(digests, n), java.util.Arrays.copyOf(texts, n),
              java.util.Arrays.copyOf(utf8, n), java.util.Arrays.copyOf(raw, n), java.util.Arrays.copyOf(matched, n));
      if (n == digests.length) {
        columns(n);
      } // else the next events overwrite them: a builder lives for one index read only
      to.tell(batch);
      metrics.eventsSent.inc(n);
      metrics.batchesSent.inc();
      clear();
    }

    private void clear() {
      java.util.Arrays.fill(remap, -1);
      table.clear();
      size = 0;
      bytes = EventBatchSerializer.batchOverhead();
    }
  }

  /** UTF-8 length of {@code s} without encoding it. */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** One other serving node with subscriptions: where its events go and its schemas. */
  private static final class Route {
    final ActorRef<Command> to;
    /** The node's canonical schemas, and for each its index in {@link RoutingTable#distinct}. */
    final String[] schemas;
    final int[] distinct;

    Route(ActorRef<Command> to, String[] schemas, int[] distinct) {
      this.to = to;
      this.schemas = schemas;
      this.distinct = distinct;
    }
  }

  /**
   * Who gets what, derived from one version of the index and of the cluster membership (both
   * immutable, so the table is rebuilt only when either object changes): each distinct schema
   * of the other serving nodes compiled once, and per node the indexes of its schemas.
   */
  private static final class RoutingTable {
    final Object index;
    final Object members;
    /** Distinct schemas of the other serving nodes; null where one does not compile here. */
    final EventSchema[] distinct;
    final Route[] routes;

    RoutingTable(Object index, Object members, EventSchema[] distinct, Route[] routes) {
      this.index = index;
      this.members = members;
      this.distinct = distinct;
      this.routes = routes;
    }
  }

  /**
   * The schemas the node validates events against right now (the distinct schemas of the other
   * nodes from the last routing table, and the local subscriptions), published by the actor for
   * the facade: {@link UserApi#publish} validates the event against them on the caller's thread,
   * in parallel with the actor. The actor uses those results only when it still routes with the
   * very same arrays (same objects); otherwise it validates again, so a publish racing a change
   * of the index or of the local subscriptions is matched exactly as if validated by the actor.
   */
  static class Prematch {
    final EventSchema[] remote;
    final EventSchema[] local;

    Prematch(EventSchema[] remote, EventSchema[] local) {
      this.remote = remote;
      this.local = local;
    }

    boolean[] match(EventSchema[] schemas, EventSchema.Event event) {
      boolean[] out = new boolean[schemas.length];
      for (int i = 0; i < schemas.length; i++) {
        out[i] = schemas[i] != null && schemas[i].matches(event);
      }
      return out;
    }
  }

  /** The local replicator's answer to the index read in flight (there is at most one). */
  private static final class IndexRead implements Command {
    final Replicator.GetResponse<ORMultiMap<String, String>> response;

    IndexRead(Replicator.GetResponse<ORMultiMap<String, String>> response) {
      this.response = response;
    }
  }

  private static final class Pending {
    final Publish publish;
    final byte[] utf8;
    private EventSchema.Event parsed;

    Pending(Publish publish) {
      this.publish = publish;
      this.utf8 = publish.utf8 != null ? publish.utf8 : publish.event.getBytes(StandardCharsets.UTF_8);
    }

    /** The event for validating here, parsed from its canonical text when first needed. */
    EventSchema.Event parsed() {
      if (parsed == null) {
        parsed = EventSchema.Event.parse(utf8);
      }
      return parsed;
    }
  }

  private static final class IndexWritten implements Command {
    final ActorRef<Done> replyTo;

    IndexWritten(ActorRef<Done> replyTo) {
      this.replyTo = replyTo;
    }
  }

  public static Behavior<Command> create(NodeId self, UserApiSettings settings, UserApiMetrics metrics) {
    return create(self, settings, metrics, new Shared());
  }

  /** With {@code shared}, where the actor publishes what the facade may read without asking it. */
  static Behavior<Command> create(NodeId self, UserApiSettings settings, UserApiMetrics metrics, Shared shared) {
    return Behaviors.setup(ctx ->
        DistributedData.withReplicatorMessageAdapter(
            (ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator) ->
                new PubSubNode(ctx, replicator, self, settings, metrics, shared)));
  }

  /**
   * What the actor publishes for the facade ({@link UserApi}) to read on the caller's thread:
   * the schemas to validate a publish against, and per subscription the count of events offered
   * and not yet drained (see {@link Subscription#create(String, int, io.prometheus.client.Counter.Child, AtomicInteger)}).
   * Entries of {@code unread} are put before subscribe answers and removed before unsubscribe
   * answers; only the actor writes either.
   */
  static final class Shared {
    final AtomicReference<Prematch> prematch = new AtomicReference<>();
    final java.util.concurrent.ConcurrentHashMap<String, AtomicInteger> unread = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Publishes handed over by the facade, in the order of its calls, and whether the actor has
     * been told to take them ({@link PublishesQueued}): one message for all the publishes that
     * queue up while the actor is busy, so that under load they reach it, and are routed, as one
     * batch (one index read, one EventBatch per node), not one message each.
     */
    final java.util.concurrent.ConcurrentLinkedQueue<Publish> publishes = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.concurrent.atomic.AtomicBoolean publishesTold = new java.util.concurrent.atomic.AtomicBoolean();
    /** Set when the actor stopped: nothing takes queued publishes any more. */
    volatile boolean stopped;

    /** Queues the publish for the actor {@code node} and tells it, unless it was told already and has not taken the queue yet. */
    void publish(Publish p, ActorRef<Command> node) {
      publishes.add(p);
      // The actor clears the flag before it takes the queue, so a publish queued after its
      // last look finds the flag clear and tells it again.
      if (!publishesTold.get() && !publishesTold.getAndSet(true)) {
        node.tell(PublishesQueued.INSTANCE);
      }
      if (stopped) {
        failQueued();
      }
    }

    void failQueued() {
      IllegalStateException stopped = new IllegalStateException("the node's pub/sub stopped");
      for (Publish p; (p = publishes.poll()) != null; ) {
        p.reply(stopped);
      }
    }
  }

  /** There are publishes in {@link Shared#publishes}. Local only. */
  static final class PublishesQueued implements Command {
    static final PublishesQueued INSTANCE = new PublishesQueued();

    private PublishesQueued() {}
  }

  private final ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator;
  /**
   * Index reads go straight to the replicator with one reply adapter made at start: a local
   * read is answered at once and in order, and an ask per read (a temporary actor and a timeout
   * timer each) cost more than routing the events it serves.
   */
  private final ActorRef<Replicator.Command> replicatorRef;
  private final ActorRef<Replicator.GetResponse<ORMultiMap<String, String>>> indexReplies;
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
  private final io.peernode.protocol.userapi.DigestHistory seen;
  /** Publishes waiting for the next index read, and those of the read in flight (null when none). */
  private List<Pending> waiting = new ArrayList<>();
  private List<Pending> reading;
  private RoutingTable table;
  /** Largest EventBatch: max-message-bytes of events, within the Artery frame it travels in. */
  private final long batchBytes;
  /** Local subscriptions in a fixed order for Prematch (rebuilt on subscribe/unsubscribe). */
  private Local[] localArray = new Local[0];
  private EventSchema[] localSchemas = new EventSchema[0];
  private final AtomicReference<Prematch> prematch;
  private final Map<String, AtomicInteger> unread;
  private final Shared shared;
  /** Queued publishes taken per PublishesQueued message; the rest with the next one. */
  private static final int PUBLISHES_PER_MESSAGE = 4096;

  private static final class Local {
    final EventSchema schema;
    final ActorRef<Subscription.Command> actor;
    final AtomicInteger unread;

    Local(EventSchema schema, ActorRef<Subscription.Command> actor, AtomicInteger unread) {
      this.schema = schema;
      this.actor = actor;
      this.unread = unread;
    }

    /** Counted before it is sent, so a drain that finds the count 0 has really nothing to hand over. */
    void offer(Subscription.Offer offer, int events) {
      unread.addAndGet(events);
      actor.tell(offer);
    }
  }

  private PubSubNode(
      ActorContext<Command> ctx,
      ReplicatorMessageAdapter<Command, ORMultiMap<String, String>> replicator,
      NodeId self,
      UserApiSettings settings,
      UserApiMetrics metrics,
      Shared shared) {
    super(ctx);
    this.prematch = shared.prematch;
    this.unread = shared.unread;
    this.shared = shared;
    this.replicator = replicator;
    this.replicatorRef = DistributedData.get(ctx.getSystem()).replicator();
    @SuppressWarnings("unchecked")
    Class<Replicator.GetResponse<ORMultiMap<String, String>>> getResponse =
        (Class<Replicator.GetResponse<ORMultiMap<String, String>>>) (Class<?>) Replicator.GetResponse.class;
    this.indexReplies = ctx.messageAdapter(getResponse, IndexRead::new);
    this.selfAddress = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
    this.self = self.hex();
    this.settings = settings;
    this.metrics = metrics;
    this.cluster = Cluster.get(ctx.getSystem());
    this.resolver = ActorRefResolver.get(ctx.getSystem());
    this.batchBytes = batchBytes(ctx.getSystem().settings().config(), settings.maxMessageBytes);
    if (batchBytes < settings.maxMessageBytes) {
      ctx.getLog().warn("/system/{} cannot carry events of max-message-bytes ({}) to other nodes, only up to about {} bytes: "
              + "make it an akka.remote.artery.large-message-destinations entry with a maximum-large-frame-size over max-message-bytes",
          NAME, settings.maxMessageBytes, batchBytes);
    }
    int history = settings.dedupHistory;
    this.seen = new io.peernode.protocol.userapi.DigestHistory(settings.dedupHistory);
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
        .onMessage(LookupSubscription.class, l -> {
          Local local = subscriptions.get(l.schema);
          l.replyTo.tell(java.util.Optional.ofNullable(local == null ? null : local.actor));
          return this;
        })
        .onMessage(Publish.class, this::onPublish)
        .onMessage(PublishesQueued.class, q -> onPublishesQueued())
        .onMessage(IndexRead.class, this::onIndexRead)
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(DeliverBatch.class, this::onDeliverBatch)
        .onMessage(EventBatch.class, this::onEventBatch)
        .onMessage(IndexWritten.class, this::onIndexWritten)
        .onSignal(PostStop.class, this::onPostStop)
        .build();
  }

  private Behavior<Command> onSubscribe(Subscribe s) {
    String key = s.schema.canonical();
    if (subscriptions.containsKey(key)) {
      s.replyTo.tell(Done.getInstance());
      return this;
    }
    AtomicInteger count = new AtomicInteger();
    ActorRef<Subscription.Command> actor = getContext().spawnAnonymous(UserApi.keepState(
        Subscription.create(key, settings.maxEventsPerSubscription, settings.eventSourceBatch, metrics.refused.labels("subscription"), count)));
    subscriptions.put(key, new Local(s.schema, actor, count));
    unread.put(key, count);
    localsChanged();
    updateIndex(m -> m.addBinding(selfAddress, self, key), new Replicator.WriteAll(settings.indexWriteTimeout), s.replyTo);
    return this;
  }

  private Behavior<Command> onUnsubscribe(Unsubscribe u) {
    Local local = subscriptions.remove(u.schema);
    if (local == null) {
      u.replyTo.tell(Done.getInstance());
      return this;
    }
    unread.remove(u.schema);
    localsChanged();
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

  /**
   * Takes the queued publishes (at most a batch of them, then tells itself to take the rest, so
   * other messages are not held up) and reads the index once for all of them.
   */
  private Behavior<Command> onPublishesQueued() {
    shared.publishesTold.set(false);
    int taken = 0;
    for (Publish p; taken < PUBLISHES_PER_MESSAGE && (p = shared.publishes.poll()) != null; taken++) {
      try {
        accept(p);
      } catch (RuntimeException e) {
        getContext().getLog().warn("could not publish an event: {}", e.toString());
      }
    }
    if (taken == PUBLISHES_PER_MESSAGE && !shared.publishes.isEmpty() && !shared.publishesTold.getAndSet(true)) {
      getContext().getSelf().tell(PublishesQueued.INSTANCE);
    }
    if (reading == null && !waiting.isEmpty()) {
      readIndex();
    }
    return this;
  }

  private Behavior<Command> onPublish(Publish p) {
    accept(p);
    if (reading == null) {
      readIndex();
    }
    return this;
  }

  /**
   * Serves the local subscriptions and queues the event for routing with the next index read.
   * A failure is the caller's (its future fails) and is thrown on.
   */
  private void accept(Publish p) {
    Pending pending;
    try {
      pending = new Pending(p);
      // Local subscriptions first, in place: the publishing node is a subscriber like any other.
      if (p.rawDigest != null ? seen.add(p.rawDigest) : seen.add(p.digest)) {
        boolean[] pre = p.prematch != null && p.prematch.local == localSchemas ? p.localMatches : null;
        for (int i = 0; i < localArray.length; i++) {
          if (pre != null ? pre[i] : localArray[i].schema.matches(pending.parsed())) {
            offer(localArray[i], p.utf8 != null ? p.utf8 : p.event);
          }
        }
      } else {
        metrics.duplicates.inc();
      }
    } catch (RuntimeException e) {
      p.reply(e);
      throw e;
    }
    // Remote routing needs the index as it is now. One local read serves every publish that
    // arrived before it was issued; publishes arriving meanwhile wait for the next read, so no
    // publish is routed with an index older than the publish itself.
    waiting.add(pending);
  }

  private void readIndex() {
    reading = waiting;
    waiting = new ArrayList<>();
    replicatorRef.tell(new Replicator.Get<>(INDEX, Replicator.readLocal(), indexReplies));
  }

  private Behavior<Command> onIndexRead(IndexRead r) {
    // The publishes that arrived during this read get their own read now, before this batch is
    // routed: reading and routing overlap instead of taking turns. (They arrived before that
    // read is issued, so they are still routed with an index no older than themselves.)
    List<Pending> batch = reading;
    reading = null;
    if (batch == null) {
      return this; // not asked for (cannot happen: one read at a time, answered in order)
    }
    if (!waiting.isEmpty()) {
      readIndex();
    }
    int replied = 0;
    try {
      ORMultiMap<String, String> index = r.response instanceof Replicator.GetSuccess
          ? ((Replicator.GetSuccess<ORMultiMap<String, String>>) r.response).get(INDEX)
          : null;
      RoutingTable t = routingTable(index, cluster.state());
      BatchBuilder[] out = new BatchBuilder[t.routes.length];
      boolean[] matches = new boolean[t.distinct.length];
      int[] scratch = new int[16];
      RuntimeException[] failures = null;
      for (int i = 0; i < batch.size(); i++) {
        try {
          scratch = route(t, batch.get(i), matches, scratch, out, batch.size());
        } catch (RuntimeException e) {
          getContext().getLog().warn("could not route an event: {}", e.toString());
          if (failures == null) {
            failures = new RuntimeException[batch.size()];
          }
          failures[i] = e;
        }
      }
      for (BatchBuilder b : out) {
        if (b != null) {
          b.flush();
        }
      }
      // The events are routed (sent): the callers' futures complete, after their bytes left the
      // in-flight count (so a caller that publishes again from its callback finds the room).
      Publish.releaseAll(batch);
      for (int i = 0; i < batch.size(); i++) {
        replied++;
        batch.get(i).publish.reply(failures == null ? null : failures[i]);
      }
    } catch (RuntimeException e) {
      // Whatever went wrong, no caller of this batch waits forever.
      for (int i = replied; i < batch.size(); i++) {
        batch.get(i).publish.reply(e);
      }
      throw e;
    }
    return this;
  }

  /**
   * Validates the event once per distinct schema of the other serving nodes, then adds it, with
   * the schemas it matched there, to the batch of each node with at least one match.
   */
  private int[] route(RoutingTable t, Pending pending, boolean[] matches, int[] scratch, BatchBuilder[] out, int expected) {
    EventSchema[] distinct = t.distinct;
    Publish p = pending.publish;
    if (p.prematch != null && p.prematch.remote == distinct) {
      System.arraycopy(p.remoteMatches, 0, matches, 0, distinct.length);
    } else {
      for (int i = 0; i < distinct.length; i++) {
        matches[i] = distinct[i] != null && distinct[i].matches(pending.parsed());
      }
    }
    for (int r = 0; r < t.routes.length; r++) {
      Route route = t.routes[r];
      int count = 0;
      for (int j = 0; j < route.distinct.length; j++) {
        if (matches[route.distinct[j]]) {
          if (count == scratch.length) {
            scratch = java.util.Arrays.copyOf(scratch, 2 * count);
          }
          scratch[count++] = j;
        }
      }
      if (count > 0) {
        if (out[r] == null) {
          out[r] = new BatchBuilder(route, batchBytes, metrics, expected);
        }
        out[r].add(pending, scratch, count);
      }
    }
    return scratch;
  }

  /** The routing table for this index and membership: the last one if neither changed. */
  private RoutingTable routingTable(ORMultiMap<String, String> index, CurrentClusterState state) {
    RoutingTable t = table;
    if (t != null && t.index == index && t.members == state) {
      return t;
    }
    Map<String, Set<String>> entries = index == null ? Map.of() : index.getEntries();
    Map<String, Address> serving = new HashMap<>();
    for (Member m : state.getMembers()) {
      if (NodeRoles.isServing(m)) {
        NodeRoles.nodeIdOf(m).ifPresent(id -> serving.put(id.hex(), m.address()));
      }
    }
    Map<String, Integer> distinctIds = new HashMap<>();
    List<EventSchema> distinct = new ArrayList<>();
    List<Route> routes = new ArrayList<>();
    int indexSchemas = 0;
    for (Map.Entry<String, Set<String>> entry : entries.entrySet()) {
      indexSchemas += entry.getValue().size();
      Address address = serving.get(entry.getKey());
      if (entry.getKey().equals(self) || address == null || entry.getValue().isEmpty()) {
        continue;
      }
      String[] schemas = entry.getValue().toArray(new String[0]);
      int[] ids = new int[schemas.length];
      for (int j = 0; j < schemas.length; j++) {
        Integer id = distinctIds.get(schemas[j]);
        if (id == null) {
          id = distinct.size();
          distinct.add(compiledSchema(schemas[j]));
          distinctIds.put(schemas[j], id);
        }
        ids[j] = id;
      }
      routes.add(new Route(remote(address), schemas, ids));
    }
    if (compiled.size() > 2 * indexSchemas + 64) {
      Set<String> live = new java.util.HashSet<>();
      entries.values().forEach(live::addAll);
      compiled.keySet().retainAll(live);
    }
    t = new RoutingTable(index, state, distinct.toArray(new EventSchema[0]), routes.toArray(new Route[0]));
    table = t;
    prematch.set(new Prematch(t.distinct, localSchemas));
    return t;
  }

  /**
   * Batches are at most max-message-bytes of events and must fit the frame of the Artery channel
   * they use: the large-message channel when this actor's path is a large-message destination
   * (as peer-userapi.conf and the node's peer-akka.conf configure), the ordinary one otherwise,
   * where Artery drops (and only logs) any message over its frame.
   */
  static long batchBytes(com.typesafe.config.Config config, long maxMessageBytes) {
    com.typesafe.config.Config artery = config.getConfig("akka.remote.artery");
    boolean large = false;
    for (String pattern : artery.getStringList("large-message-destinations")) {
      large |= pathMatches(pattern, "/system/" + NAME);
    }
    long frame = artery.getBytes(large ? "advanced.maximum-large-frame-size" : "advanced.maximum-frame-size");
    return Math.min(maxMessageBytes, frame - Math.min(frame / 4, 64 * 1024));
  }

  /** Akka's large-message-destinations pattern: path elements, {@code *} for any one element. */
  static boolean pathMatches(String pattern, String path) {
    String[] p = pattern.split("/");
    String[] e = path.split("/");
    if (p.length != e.length) {
      return false;
    }
    for (int i = 0; i < p.length; i++) {
      if (!p[i].equals("*") && !p[i].equals(e[i])) {
        return false;
      }
    }
    return true;
  }

  private void localsChanged() {
    localArray = subscriptions.values().toArray(new Local[0]);
    localSchemas = new EventSchema[localArray.length];
    for (int i = 0; i < localArray.length; i++) {
      localSchemas[i] = localArray[i].schema;
    }
    prematch.set(new Prematch(table != null ? table.distinct : new EventSchema[0], localSchemas));
  }

  private Behavior<Command> onPostStop(PostStop signal) {
    // Nothing will route these any more: their callers learn so rather than waiting forever.
    IllegalStateException stopped = new IllegalStateException("the node's pub/sub stopped");
    if (reading != null) {
      reading.forEach(p -> p.publish.reply(stopped));
    }
    waiting.forEach(p -> p.publish.reply(stopped));
    shared.stopped = true;
    shared.failQueued();
    return this;
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
      subscriptions.get(schema).offer(new Subscription.Offer(events), events.size());
      metrics.delivered.inc(events.size());
    });
    return this;
  }

  private Behavior<Command> onEventBatch(EventBatch b) {
    // The subscriptions the batch's schemas name, looked up once per batch; one Offer per
    // subscription for the whole batch, in order.
    int ns = b.schemas.length;
    Local[] targets = new Local[ns];
    @SuppressWarnings("unchecked")
    List<Object>[] offers = new List[ns];
    for (int s = 0; s < ns; s++) {
      targets[s] = subscriptions.get(b.schemas[s]);
    }
    for (int i = 0; i < b.events.length; i++) {
      if (!(b.rawDigests[i] != null ? seen.add(b.rawDigests[i]) : seen.add(b.digests[i]))) {
        metrics.duplicates.inc();
        continue;
      }
      for (int s : b.matched[i]) {
        if (targets[s] != null) {
          if (offers[s] == null) {
            offers[s] = new ArrayList<>();
          }
          offers[s].add(b.queued(i));
        }
      }
    }
    long delivered = 0;
    for (int s = 0; s < ns; s++) {
      if (offers[s] != null) {
        targets[s].offer(Subscription.Offer.of(offers[s]), offers[s].size());
        delivered += offers[s].size();
      }
    }
    if (delivered > 0) {
      metrics.delivered.inc(delivered);
    }
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

  /** One event, canonical JSON as a String or its UTF-8 bytes. */
  private void offer(Local local, Object event) {
    local.offer(Subscription.Offer.of(List.of(event)), 1);
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
