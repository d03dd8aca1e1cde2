package io.peernode.node.streamr.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.http.HttpServer;
import io.peernode.node.streamr.StreamrApi;
import io.prometheus.client.CollectorRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Not a test: heap the node holds per idle WebSocket connection. Run as two processes:
 * {@code server} (prints its port, then heap used after a full GC whenever a line is read from
 * stdin) and {@code clients PORT N} (opens N connections and keeps them idle).
 */
public final class IdleConnectionsBench {

  public static void main(String[] args) throws Exception {
    if (args[0].equals("server")) {
      server();
    } else {
      clients(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
    }
  }

  static long usedAfterGc() throws InterruptedException {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      TimeUnit.MILLISECONDS.sleep(200); // benchmark only: let the collector settle
      best = Math.min(best, mem.getHeapMemoryUsage().getUsed());
    }
    return best;
  }

  static void server() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "idle", ConfigFactory
        .parseString("akka.actor.provider = cluster\n"
            + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
            + "akka.remote.artery.canonical.port = 0\n"
            + "akka.loglevel = WARNING\n"
            + "akka.http.server.idle-timeout = infinite\n"
            + "akka.http.server.max-connections = 20000\n")
        .withFallback(ConfigFactory.load()));
    Cluster.get(system).manager().tell(Join.create(Cluster.get(system).selfMember().address()));
    StreamrApi api = StreamrApi.start(system, system.settings().config(),
        Files.createTempDirectory("idle"), Optional.empty(), "admin", new CollectorRegistry());
    HttpServer b = HttpServer.bind(system, "127.0.0.1", 0, api.routes(), api.webSockets())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    System.out.println("PORT " + b.localAddress().getPort());
    java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      System.out.println("HEAP " + line + " " + usedAfterGc());
    }
    System.exit(0);
  }

  static void clients(int port, int n) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    List<CompletableFuture<WebSocket>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      all.add(http.newWebSocketBuilder()
          .buildAsync(URI.create("ws://127.0.0.1:" + port + "/api/v1/ws"),
              new WebSocket.Listener() {}));
      if (all.size() % 200 == 0) {
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
      }
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
    System.out.println("OPEN " + n);
    Thread.sleep(Long.MAX_VALUE); // keep them open until killed
  }
}
