package io.peernode.node.streamr;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.http.HttpServer;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One node's data API for a test: a one-member cluster (on free loopback ports, HTTP idle
 * timeout off) serving the REST routes and the WebSocket on the node's {@link HttpServer}, as
 * {@code peer-node.jar} does, with the embedded store in a fresh temporary directory.
 */
final class DataApiServer implements AutoCloseable {

  final ActorSystem<Void> system;
  final int port;

  private DataApiServer(ActorSystem<Void> system, int port) {
    this.system = system;
    this.port = port;
  }

  /** @param extraConfig settings over the fixture's own (HOCON, may be empty) */
  static DataApiServer start(String name, String adminKey, String extraConfig) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, ConfigFactory
        .parseString("akka.actor.provider = cluster\n"
            + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
            + "akka.remote.artery.canonical.port = 0\n"
            + "akka.http.server.idle-timeout = infinite\n"
            + extraConfig)
        .withFallback(ConfigFactory.load()));
    Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
    StreamrApi api = StreamrApi.start(system, system.settings().config(),
        Files.createTempDirectory(name), Optional.empty(), adminKey, new CollectorRegistry());
    HttpServer server = HttpServer.bind(system, "127.0.0.1", 0, api.routes(), api.webSockets())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    return new DataApiServer(system, server.localAddress().getPort());
  }

  @Override
  public void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
