package io.peernode.node.streamr;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.Props;
import akka.cluster.sharding.typed.ShardingEnvelope;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import akka.util.ByteString;
import com.typesafe.config.Config;
import io.peernode.actors.streams.ClientConnection;
import io.peernode.actors.streams.EventExpiry;
import io.peernode.actors.streams.PartitionTopics;
import io.peernode.actors.streams.StreamPartition;
import io.peernode.actors.streams.StreamsMetrics;
import io.peernode.actors.streams.StreamsSettings;
import io.peernode.node.storage.JdbcEventStore;
import io.peernode.node.storage.JdbcMetadataStore;
import io.peernode.node.storage.MetadataStore;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The Streamr-compatible data API of a node (client-protocol.md), wired: the event and metadata
 * stores, sharding of {@link StreamPartition}s, pub/sub topics, retention, and the HTTP routes
 * ({@code /api/v1/ws} WebSocket, {@code /api/v1/streams…}, {@code /api/v1/keys}).
 *
 * <p>The node calls {@link #start} once after its ActorSystem exists and adds {@link #routes()}
 * to its HTTP routes. The stores are closed by coordinated shutdown (after the servers).
 */
public final class StreamrApi {

  /** The path of the data API's WebSocket. */
  public static final String WEBSOCKET_PATH = "/api/v1/ws";

  private final StreamsSettings settings;
  private final JdbcEventStore events;
  private final MetadataStore metadata;
  private final MetadataAccess access;
  private final ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions;
  private final StreamrRoutes routes;

  private StreamrApi(StreamsSettings settings, JdbcEventStore events, MetadataStore metadata,
      MetadataAccess access, ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions,
      StreamrRoutes routes) {
    this.settings = settings;
    this.events = events;
    this.metadata = metadata;
    this.access = access;
    this.partitions = partitions;
    this.routes = routes;
  }

  /**
   * Starts the data API on this node. Call on every node of the cluster.
   *
   * @param config the node's full configuration (with {@code peer.streams})
   * @param dataDir where the embedded store lives ({@code streams.db})
   * @param dbUrl a shared database ({@code jdbc:postgresql://…}); empty for the embedded store
   * @param adminKey the node's key with every permission
   * @param registry the node's Prometheus registry
   * @throws SQLException when the database cannot be opened
   */
  public static StreamrApi start(ActorSystem<?> system, Config config, Path dataDir,
      Optional<String> dbUrl, String adminKey, CollectorRegistry registry) throws SQLException {
    StreamsSettings settings = new StreamsSettings(config);
    Executor blocking = system.dispatchers()
        .lookup(DispatcherSelector.fromConfig("peer.blocking-dispatcher"));
    String url = dbUrl.filter(u -> !u.isBlank())
        .orElse("jdbc:sqlite:" + dataDir.resolve("streams.db"));
    JdbcEventStore events = JdbcEventStore.open(url, settings, blocking);
    JdbcMetadataStore jdbcMetadata;
    try {
      jdbcMetadata = new JdbcMetadataStore(url, blocking);
    } catch (SQLException e) {
      events.close();
      throw e;
    }
    // Embedded store: each node has its own database, so metadata is replicated to every node
    // and each partition lives on its stream's home node (whose store holds its history). A
    // shared database needs neither: any node may host any partition.
    boolean embedded = dbUrl.filter(u -> !u.isBlank()).isEmpty();
    ReplicatedMetadata replicated = embedded
        ? ReplicatedMetadata.start(system, jdbcMetadata, config,
            streamId -> events.deleteStream(streamId))
        : null;
    MetadataStore metadata = embedded ? replicated : jdbcMetadata;
    StreamsMetrics metrics = new StreamsMetrics(registry);
    PartitionTopics topics = new PartitionTopics(system);
    ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions =
        StreamPartition.initSharding(system, events, topics, settings, metrics,
            replicated != null && replicated.isPinning() ? replicated : null);
    MetadataAccess access = new MetadataAccess(metadata, adminKey, settings);
    if (replicated != null) {
      replicated.onChange(access::invalidate);
    }
    ClientConnection.Deps deps =
        new ClientConnection.Deps(settings, access, partitions, topics, metrics);
    system.systemActorOf(EventExpiry.create(events, settings.expiryInterval), "streamr-expiry",
        Props.empty());
    CoordinatedShutdown.get(system).addTask(
        CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "streamr-close-stores",
        () -> CompletableFuture.supplyAsync(() -> {
          events.close();
          metadata.close();
          return Done.getInstance();
        }));
    StreamrRoutes routes = new StreamrRoutes(system, settings, deps, access, metadata, events,
        partitions);
    return new StreamrApi(settings, events, metadata, access, partitions, routes);
  }

  /** {@code /api/v1/ws} and {@code /api/v1/streams…}, {@code /api/v1/keys…}. */
  /**
   * The WebSocket paths that {@link io.peernode.node.http.HttpServer} takes on the connection
   * itself, each with its flow of bytes after the handshake.
   */
  public Map<String, Flow<ByteString, ByteString, ?>> webSockets() {
    return Map.of(WEBSOCKET_PATH, routes.webSocketBytes());
  }

  public Route routes() {
    return routes.routes();
  }

  public StreamsSettings settings() {
    return settings;
  }

  /** The region of stream partitions (for embedding applications and tests). */
  public ActorRef<ShardingEnvelope<StreamPartition.Command>> partitions() {
    return partitions;
  }

  public JdbcEventStore eventStore() {
    return events;
  }

  public MetadataStore metadataStore() {
    return metadata;
  }

  public MetadataAccess access() {
    return access;
  }
}
