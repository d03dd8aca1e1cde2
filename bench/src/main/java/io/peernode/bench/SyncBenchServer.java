package io.peernode.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.actors.sync.SyncServer;
import io.peernode.actors.sync.SyncSettings;
import io.prometheus.client.CollectorRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Stand-in for the node's sync server while the node does not start one yet: binds
 * {@link SyncServer} exactly as the wiring notes of {@code io.peernode.actors.sync} say (same
 * {@code peer.sync} defaults, own metrics registry) on a sync root and prints
 * {@code READY node=bench-sync-server http=0 sync=PORT cluster=0}. Runs until SIGTERM.
 *
 * <p>Usage: {@code java -cp bench/target/peer-bench.jar io.peernode.bench.SyncBenchServer SYNC_ROOT [PORT]}
 */
public final class SyncBenchServer {

  private SyncBenchServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: SyncBenchServer SYNC_ROOT [PORT]");
      System.exit(2);
    }
    Path root = Path.of(args[0]);
    Files.createDirectories(root);
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    Config config = ConfigFactory.parseString(
            "akka.actor.provider = local\n"
                + "akka.loglevel = WARNING\n"
                + "akka.log-dead-letters = off\n")
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench-sync-server", config);
    SyncSettings settings = SyncSettings.fromConfig(config.getConfig("peer.sync"), root, port);
    SyncServer.Binding binding =
        SyncServer.bind(system, settings, new CollectorRegistry()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      system.terminate();
      stop.countDown();
    }));
    System.out.println("READY node=bench-sync-server http=0 sync=" + binding.port() + " cluster=0");
    System.out.flush();
    stop.await();
  }
}
