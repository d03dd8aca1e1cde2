package io.peernode.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.PathMatchers;
import akka.stream.javadsl.Flow;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.streamr.StreamrApi;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A one-node process serving the Streamr data API ({@code /api/v1/ws}, {@code /api/v1/streams})
 * for the benchmarks, while {@code peer-node.jar}'s Main does not mount it yet: the node's Akka
 * settings ({@code peer-akka.conf}), a one-member cluster, {@link StreamrApi#start} on the
 * embedded store in the data dir, and the API's routes bound on 127.0.0.1. Prints
 * {@code ADMIN_KEY key} and {@code READY node=bench http=PORT} like the node.
 *
 * <pre>
 * java -cp peer-bench.jar io.peernode.bench.DataApiNode --data-dir DIR --admin-key KEY [--config FILE]
 * </pre>
 */
public final class DataApiNode {

  public static void main(String[] args) throws Exception {
    Path dataDir = null;
    String adminKey = "bench-admin-key";
    Config file = ConfigFactory.empty();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--data-dir": dataDir = Paths.get(args[i + 1]); break;
        case "--admin-key": adminKey = args[i + 1]; break;
        case "--config": file = ConfigFactory.parseFile(Paths.get(args[i + 1]).toFile()); break;
        default: // ports and other node options: 0 / defaults here
      }
    }
    if (dataDir == null) {
      System.err.println("usage: DataApiNode --data-dir DIR [--admin-key KEY] [--config FILE]");
      System.exit(2);
    }
    Files.createDirectories(dataDir);
    Config config = file
        .withFallback(ConfigFactory.parseString(
            "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "akka.remote.artery.canonical.port = 0\n"))
        .withFallback(ConfigFactory.parseResources(DataApiNode.class.getClassLoader(),
            "peer-akka.conf"))
        .withFallback(ConfigFactory.load())
        .resolve();
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "peer", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    StreamrApi api = StreamrApi.start(system, system.settings().config(), dataDir,
        Optional.empty(), adminKey, new CollectorRegistry());
    ServerBinding binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(Directives.concat(api.routes(),
            // Akka HTTP's own cost of a WebSocket, for ws-idle's baseline: an echo.
            Directives.path(PathMatchers.segment("bench").slash("echo"),
                () -> Directives.handleWebSocketMessages(Flow.<Message>create()))))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println("ADMIN_KEY " + adminKey);
    System.out.println("READY node=bench http=" + binding.localAddress().getPort()
        + " durability=" + config.getString("peer.streams.durability"));
    System.out.flush();
    system.getWhenTerminated().toCompletableFuture().get();
  }

  private DataApiNode() {
  }
}
