package io.peernode.bench;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.actors.sync.SyncClient;
import io.peernode.actors.sync.SyncResult;
import io.peernode.actors.sync.SyncSettings;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Full pulls of one file, several in one JVM, through the Java client ({@link SyncClient}): the
 * first pays the JIT of a fresh JVM as the CLI does (but not its JVM start), the later ones show
 * what the protocol and the data path cost once compiled (bench/sync's warm row).
 *
 * <p>{@code SyncPullBench --port P --remote NAME --dir DIR [--host H] [--block-size N] [--rounds N]
 * [--transport akka|blocking] [--server-pid PID]}. Each round pulls into a new file in DIR (no
 * local copy: every block moves), after a {@code sync} as bench/sync does before each pull, and
 * prints {@code round N: wall S s, cpu C s, server cpu C s, bytes B}; the CPU is this process's
 * (user + system), the server's from {@code /proc/PID/stat} when its pid is given.
 */
public final class SyncPullBench {

  private SyncPullBench() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = BenchSupport.args(argv, 0);
    String host = a.getOrDefault("host", "127.0.0.1");
    int port = Integer.parseInt(BenchSupport.need(a, "port"));
    String remote = BenchSupport.need(a, "remote");
    Path dir = Path.of(BenchSupport.need(a, "dir"));
    int blockSize = Integer.parseInt(a.getOrDefault("block-size", "131072"));
    int rounds = Integer.parseInt(a.getOrDefault("rounds", "3"));
    String transport = a.getOrDefault("transport", "akka");
    long serverPid = Long.parseLong(a.getOrDefault("server-pid", "0"));
    Config config = ConfigFactory.parseString(
            "akka.actor.provider = local\nakka.loglevel = WARNING\n"
                + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                + "peer.sync.client.tree-cache.dir = \"\"\n" // no local copy anyway; keep the user's cache out
                + "peer.sync.client.transport = " + transport + "\n")
        .withFallback(ConfigFactory.load());
    SyncSettings settings = SyncSettings.clientFromConfig(config.getConfig("peer.sync"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "sync-pull-bench", config);
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try {
      Files.createDirectories(dir);
      for (int r = 1; r <= rounds; r++) {
        Path local = dir.resolve("warm-" + r + ".bin");
        Files.deleteIfExists(local);
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        long cpu0 = os.getProcessCpuTime();
        long srv0 = serverTicks(serverPid);
        long t0 = System.nanoTime();
        SyncResult res = SyncClient.run(system, settings, Action.PULL, host, port, remote, local, blockSize, null)
            .toCompletableFuture().get(1, TimeUnit.HOURS);
        long t1 = System.nanoTime();
        long cpu1 = os.getProcessCpuTime();
        long srv1 = serverTicks(serverPid);
        System.out.printf(Locale.ROOT, "round %d: wall %.3f s, cpu %.2f s, server cpu %.2f s, bytes %d%n",
            r, (t1 - t0) / 1e9, (cpu1 - cpu0) / 1e9, (srv1 - srv0) / 100.0, res.bytesOnWire());
        System.out.flush();
        Files.deleteIfExists(local);
      }
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** utime + stime of a process in clock ticks (100 per second on Linux), 0 without a pid. */
  private static long serverTicks(long pid) throws java.io.IOException {
    if (pid <= 0) {
      return 0;
    }
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }
}
