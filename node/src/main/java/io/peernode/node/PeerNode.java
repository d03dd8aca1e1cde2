package io.peernode.node;

import akka.actor.Address;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.JoinSeedNodes;
import akka.http.javadsl.server.Route;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import io.peernode.actors.cluster.NodeDirectory;
import io.peernode.actors.cluster.NodeRoles;
import io.peernode.actors.sync.SyncServer;
import io.peernode.actors.sync.SyncSettings;
import io.peernode.actors.sync.SyncTransfers;
import io.peernode.node.streamr.StreamrApi;
import io.peernode.node.sync.SyncRpc;
import io.peernode.node.http.HttpServer;
import io.peernode.node.http.NodeRoutes;
import io.peernode.actors.userapi.UserApi;
import io.peernode.node.rpc.NodeRpc;
import io.peernode.node.userapi.UserApiRpc;
import io.peernode.node.rpc.RpcMethods;
import io.peernode.protocol.NodeId;
import io.prometheus.client.CollectorRegistry;
import java.io.IOException;
import java.net.BindException;
import java.sql.SQLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A running peer node: the entry point for applications that embed one.
 *
 * <pre>{@code
 * PeerNode node = PeerNode.start(ConfigFactory.parseString("peer.data-dir = /var/lib/app/peer")
 *     .withFallback(ConfigFactory.load()));
 * System.out.println(node.nodeId() + " serves JSON-RPC on port " + node.httpPort());
 * node.stop();
 * }</pre>
 *
 * {@link #start} returns once the node is a member of its cluster and every server is bound.
 * {@link #stop} leaves the cluster gracefully (coordinated shutdown) and closes the servers.
 */
public final class PeerNode implements AutoCloseable {

  /** All nodes of a network use this ActorSystem name: Akka only clusters systems of one name. */
  public static final String SYSTEM_NAME = "peer";

  private final NodeSettings settings;
  private final NodeIdentity identity;
  private final String adminKey;
  private final ActorSystem<Void> system;
  private final CollectorRegistry metrics;
  private final RpcMethods rpc;
  private final UserApi userApi;
  private final ObjectMapper mapper;
  private final Config config;
  private volatile HttpServer httpBinding;
  private volatile SyncServer.Binding syncBinding;
  private volatile StreamrApi streamr;
  private volatile boolean ready;

  private PeerNode(NodeSettings settings, NodeIdentity identity, String adminKey, ActorSystem<Void> system,
                   Config config) {
    this.settings = settings;
    this.config = config;
    this.identity = identity;
    this.adminKey = adminKey;
    this.system = system;
    this.mapper = new ObjectMapper();
    this.metrics = NodeMetrics.create(system, identity.id().hex());
    this.rpc = new RpcMethods(mapper);
    this.userApi = UserApi.create(system, identity.id(), system.settings().config(), metrics);
  }

  /**
   * Starts a node from a configuration holding {@code peer.*} (and optionally {@code akka.*})
   * settings; the defaults of the node's {@code reference.conf} fill in the rest.
   *
   * @throws NodeStartException with a one-line reason when the node cannot start
   */
  public static PeerNode start(Config config) {
    Config full = withNodeDefaults(config);
    NodeSettings settings = NodeSettings.fromConfig(full);
    prepareDataDir(settings.dataDir);
    NodeIdentity identity = NodeIdentity.loadOrCreate(settings.dataDir);
    String adminKey = AdminKey.resolve(settings);

    ActorSystem<Void> system = createSystem(settings, identity.id(), full);
    PeerNode node = new PeerNode(settings, identity, adminKey, system, full);
    try {
      node.joinCluster();
      node.bindServers();
      node.awaitMemberUp();
      node.ready = true;
      return node;
    } catch (RuntimeException e) {
      node.stop();
      throw e;
    }
  }

  /**
   * The application's configuration over the node's Akka defaults ({@code peer-akka.conf})
   * over every module's {@code reference.conf}. A setting the application left at a
   * reference.conf value (it may have passed {@code ConfigFactory.load()}) takes the node's.
   */
  static Config withNodeDefaults(Config app) {
    Config nodeDefaults = ConfigFactory.parseResources(PeerNode.class.getClassLoader(), "peer-akka.conf");
    if (nodeDefaults.isEmpty()) {
      throw new IllegalStateException("peer-akka.conf is missing from the classpath");
    }
    Config merged = app.withFallback(ConfigFactory.defaultReference(PeerNode.class.getClassLoader()));
    for (Map.Entry<String, ConfigValue> entry : nodeDefaults.entrySet()) {
      String path = entry.getKey();
      if (!app.hasPath(path) || "reference.conf".equals(app.getValue(path).origin().resource())) {
        merged = merged.withValue(path, entry.getValue());
      }
    }
    return merged.resolve();
  }

  private static void prepareDataDir(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
      Path probe = Files.createTempFile(dataDir, ".write-probe", ".tmp");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw new NodeStartException("data dir " + dataDir + " is not writable: " + e.getMessage(), e);
    }
  }

  private static ActorSystem<Void> createSystem(NodeSettings settings, NodeId id, Config full) {
    Map<String, Object> overrides = new HashMap<>();
    overrides.put("akka.remote.artery.canonical.hostname", settings.host);
    overrides.put("akka.remote.artery.canonical.port", settings.clusterPort);
    overrides.put("akka.cluster.roles", List.of(NodeRoles.roleOf(id)));
    Config akkaConfig = ConfigFactory.parseMap(overrides).withFallback(full);
    try {
      return ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, akkaConfig);
    } catch (RuntimeException e) {
      if (causedBy(e, BindException.class)) {
        throw new NodeStartException("cluster port " + settings.clusterPort + " on " + settings.host
            + " is in use (or the address is not local): " + rootMessage(e), e);
      }
      throw new NodeStartException("cannot start the actor system: " + rootMessage(e), e);
    }
  }

  private void joinCluster() {
    Cluster cluster = Cluster.get(system);
    if (settings.seeds.isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    } else {
      List<Address> seeds = new ArrayList<>();
      for (NodeSettings.HostPort seed : settings.seeds) {
        seeds.add(new Address("akka", SYSTEM_NAME, seed.host, seed.port));
      }
      cluster.manager().tell(new JoinSeedNodes(seeds));
    }
  }

  private void bindServers() {
    NodeRpc.register(rpc, system, identity.id());
    UserApiRpc.register(rpc, userApi);
    List<Route> protocolRoutes = new ArrayList<>();
    try {
      streamr = StreamrApi.start(system, config, settings.dataDir, settings.dbUrl, adminKey, metrics);
    } catch (SQLException e) {
      throw new NodeStartException("cannot open the event store "
          + settings.dbUrl.orElse("in " + settings.dataDir) + ": " + rootMessage(e), e);
    }
    protocolRoutes.add(streamr.routes());
    NodeRoutes routes = new NodeRoutes(mapper, rpc, metrics, this::health, settings.maxRpcBodyBytes);
    try {
      httpBinding = HttpServer.bind(system, settings.httpHost, settings.httpPort,
              routes.routes(protocolRoutes), streamr.webSockets())
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      httpBinding.addToCoordinatedShutdown(Duration.ofSeconds(3), system);
    } catch (ExecutionException e) {
      throw new NodeStartException("cannot bind HTTP on " + settings.httpHost + ":" + settings.httpPort
          + " (port in use?): " + rootMessage(e), e);
    } catch (InterruptedException | TimeoutException e) {
      throw new NodeStartException("HTTP server did not bind on " + settings.httpHost + ":" + settings.httpPort, e);
    }
    bindSync();
    system.systemActorOf(NodeDirectory.create(new NodeDirectory.NodeInfo(
        identity.id().hex(), settings.host, clusterPort(), httpPort(), syncPort())), "node-directory", Props.empty());
  }

  /** The block sync server on --sync-port, and the client side that sync_pull/sync_push drive. */
  private void bindSync() {
    Config syncConfig = config.getConfig("peer.sync");
    if (syncConfig.getString("host").isEmpty()) {
      syncConfig = syncConfig.withValue("host", ConfigValueFactory.fromAnyRef(settings.host));
    }
    SyncSettings sync = SyncSettings.fromConfig(syncConfig, settings.syncRoot, settings.syncPort);
    try {
      syncBinding = SyncServer.bind(system, sync, metrics).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new NodeStartException("cannot start sync on " + sync.host + ":" + settings.syncPort
          + " (port in use, or sync root " + settings.syncRoot + " not writable?): " + rootMessage(e), e);
    } catch (InterruptedException | TimeoutException e) {
      throw new NodeStartException("sync server did not bind on " + sync.host + ":" + settings.syncPort, e);
    }
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "sync-unbind",
        () -> syncBinding.unbind());
    ActorRef<SyncTransfers.Command> transfers =
        system.systemActorOf(SyncTransfers.create(sync), "sync-transfers", Props.empty());
    SyncRpc.register(rpc, system, transfers, sync, config.getDuration("peer.http.sync-rpc-wait"),
        Duration.ofSeconds(5));
  }

  private void awaitMemberUp() {
    CompletableFuture<Void> up = new CompletableFuture<>();
    akka.cluster.Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> up.complete(null));
    try {
      up.get(settings.joinTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new NodeStartException("did not join the cluster within " + settings.joinTimeout.toSeconds()
          + " s (seeds: " + (settings.seeds.isEmpty() ? "none" : settings.seeds) + ")");
    } catch (InterruptedException | ExecutionException e) {
      throw new NodeStartException("interrupted while joining the cluster", e);
    }
  }

  /** The status document of {@code GET /health}, or null while the node is not ready. */
  private JsonNode health() {
    if (!ready) {
      return null;
    }
    ObjectNode status = mapper.createObjectNode();
    status.put("status", "up");
    status.put("node", identity.id().hex());
    ArrayNode members = status.putArray("members");
    var state = Cluster.get(system).state();
    for (Member member : state.getMembers()) {
      ObjectNode m = members.addObject();
      m.put("node", NodeRoles.nodeIdOf(member).map(NodeId::hex).orElse(null));
      m.put("address", NodeRoles.hostPort(member.address()));
      m.put("status", NodeMetrics.statusName(member.status()));
      m.put("reachable", !state.getUnreachable().contains(member));
    }
    return status;
  }

  public NodeId nodeId() {
    return identity.id();
  }

  public NodeIdentity identity() {
    return identity;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public NodeSettings settings() {
    return settings;
  }

  /** The key with every permission on the data API. */
  public String adminKey() {
    return adminKey;
  }

  public String host() {
    return settings.host;
  }

  public int clusterPort() {
    return (int) Cluster.get(system).selfMember().address().port().get();
  }

  public int httpPort() {
    return httpBinding.localAddress().getPort();
  }

  public int syncPort() {
    return syncBinding.port();
  }

  /** The Streamr-compatible data API: its stores and the region of stream partitions. */
  public StreamrApi streamr() {
    return streamr;
  }

  /** The node's Prometheus registry, for applications that export their own figures beside the node's. */
  public CollectorRegistry metrics() {
    return metrics;
  }

  /** The user API (pubsub, direct messages, byte streams) for applications that embed the node. */
  public UserApi userApi() {
    return userApi;
  }

  /** The JSON-RPC methods this node serves at {@code POST /rpc}. */
  public RpcMethods rpc() {
    return rpc;
  }

  public boolean isReady() {
    return ready;
  }

  /** The line a node prints when it is ready to serve. */
  public String readyLine() {
    return "READY node=" + nodeId().hex() + " http=" + httpPort() + " sync=" + syncPort() + " cluster=" + clusterPort()
        + " streams=" + userApi.streamDataPort();
  }

  /** Leaves the cluster, closes the servers and stops the actor system; waits up to 30 s. */
  public void stop() {
    ready = false;
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The system is going down regardless; nothing more to do here.
    }
  }

  @Override
  public void close() {
    stop();
  }

  static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
  }
}
