package io.peernode.node.sync;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.peernode.actors.sync.PullHeadStart;
import io.peernode.actors.sync.SyncClient;
import io.peernode.actors.sync.SyncFailedException;
import io.peernode.actors.sync.SyncProgress;
import io.peernode.actors.sync.SyncResult;
import io.peernode.actors.sync.SyncSettings;
import io.peernode.protocol.sync.SyncMessage.Action;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code peer-node sync pull|push HOST:PORT REMOTE_PATH LOCAL_PATH [--block-size N]}: syncs one
 * file with a node's sync server. A progress bar on a terminal, plain progress lines otherwise,
 * and a summary (blocks compared, blocks transferred, bytes on the wire, time).
 * Exit codes: 0 done, 1 refused or failed (with the server's status and message), 2 usage.
 */
public final class SyncCli {

  static final String USAGE =
      "usage: peer-node sync pull|push HOST:PORT REMOTE_PATH LOCAL_PATH [--block-size N]\n"
          + "         [--tree-cache DIR | --no-tree-cache]\n"
          + "  pull: make LOCAL_PATH equal to the node's REMOTE_PATH; push: the other way round.\n"
          + "  --block-size N    bytes (suffix K or M allowed), a power of two from 1K to 16M; default 1M\n"
          + "  --tree-cache DIR  where the trees of local files are kept, so an unchanged file is not\n"
          + "                    hashed again (default $XDG_CACHE_HOME or ~/.cache, /peer-node/sync-trees)\n"
          + "  --no-tree-cache   hash the local file every time";

  private SyncCli() {}

  /** {@code args} may start with the word {@code sync} or directly with {@code pull}/{@code push}. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.console() != null, false);
  }

  /**
   * As {@link #run(String[], PrintStream, PrintStream)}, for a process that exits as soon as this
   * returns (the {@code peer-node sync} command): after a sync that succeeded its actor system is
   * not even told to terminate. Nothing is left for it to do then (the commit, and the deletion of
   * a staging copy that was not needed, come before the result), and its coordinated shutdown
   * loaded and ran ~100 classes' worth of code on the way out, 0.1 s of every pull.
   */
  public static int runThenExit(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, System.console() != null, true);
  }

  static int run(String[] args, PrintStream out, PrintStream err, boolean tty) {
    return run(args, out, err, tty, false);
  }

  private static int run(String[] args, PrintStream out, PrintStream err, boolean tty, boolean exitNext) {
    java.util.List<String> positional = new java.util.ArrayList<>();
    Long blockSizeArg = null;
    String treeCacheArg = null;
    boolean noTreeCache = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        out.println(USAGE);
        return 0;
      } else if (a.equals("--no-tree-cache")) {
        noTreeCache = true;
      } else if (a.equals("--tree-cache") || a.startsWith("--tree-cache=")) {
        treeCacheArg = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.length ? args[++i] : null);
        if (treeCacheArg == null || treeCacheArg.isEmpty()) {
          err.println("peer-node sync: --tree-cache needs a directory\n" + USAGE);
          return 2;
        }
      } else if (a.equals("--block-size") || a.startsWith("--block-size=")) {
        String v = a.contains("=") ? a.substring(a.indexOf('=') + 1) : (i + 1 < args.length ? args[++i] : null);
        blockSizeArg = v == null ? -1L : parseSize(v);
        if (blockSizeArg < 0) {
          err.println("peer-node sync: bad --block-size '" + v + "'\n" + USAGE);
          return 2;
        }
      } else if (a.startsWith("--")) {
        err.println("peer-node sync: unknown option " + a + "\n" + USAGE);
        return 2;
      } else {
        positional.add(a);
      }
    }
    if (!positional.isEmpty() && positional.get(0).equals("sync")) {
      positional.remove(0);
    }
    if (positional.size() != 4) {
      err.println("peer-node sync: expected 4 arguments, got " + positional.size() + "\n" + USAGE);
      return 2;
    }
    Action action;
    switch (positional.get(0)) {
      case "pull" -> action = Action.PULL;
      case "push" -> action = Action.PUSH;
      default -> {
        err.println("peer-node sync: the first argument must be pull or push\n" + USAGE);
        return 2;
      }
    }
    String hostPort = positional.get(1);
    int colon = hostPort.lastIndexOf(':');
    int port;
    try {
      port = colon < 1 ? -1 : Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      err.println("peer-node sync: expected HOST:PORT, got '" + hostPort + "'\n" + USAGE);
      return 2;
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String remote = positional.get(2);
    Path local = Path.of(positional.get(3));

    ClassLoader loader = cliLoader(SyncCli.class.getClassLoader());
    Config config = cliConfig(ConfigFactory.load(loader));
    String c2 = config.getString("peer.sync.client.cli-c2");
    if (!c2.equals("sha-only") && !c2.equals("all")) {
      err.println("peer-node sync: peer.sync.client.cli-c2 must be sha-only or all, not '" + c2 + "'");
      return 2;
    }
    if (exitNext && c2.equals("sha-only")) {
      CliCompilerPolicy.applyInBackground(); // for this process only: not when run inside another
    }
    SyncSettings settings = SyncSettings.clientFromConfig(
        withTreeCache(config.getConfig("peer.sync"), treeCacheArg, noTreeCache));
    int blockSize = blockSizeArg == null ? settings.blockSizeFor(localSize(local))
        : (int) Math.min(Integer.MAX_VALUE, blockSizeArg);
    if (!settings.validBlockSize(blockSize)) {
      err.println("peer-node sync: --block-size must be a power of two from " + settings.minBlockSize
          + " to " + settings.maxBlockSize);
      return 2;
    }
    // A pull's connection and init go out before the actor system starts (most of a second here),
    // so the server hashes its copy meanwhile.
    PullHeadStart headStart = action == Action.PULL && settings.clientBlockingTransport && settings.clientHeadStart
        ? PullHeadStart.begin(settings, host, port, remote, local, blockSize) : null;
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), "peer-sync-cli",
          akka.actor.BootstrapSetup.create(config).withClassloader(loader));
    } catch (RuntimeException e) {
      if (headStart != null) {
        headStart.abandon();
      }
      throw e;
    }
    Progress progress = new Progress(out, tty);
    boolean done = false;
    try {
      SyncResult r = (headStart != null ? SyncClient.pull(system, headStart, progress)
          : SyncClient.run(system, settings, action, host, port, remote, local, blockSize, progress))
          .toCompletableFuture().get(7, TimeUnit.DAYS);
      progress.finish();
      out.println(summary(r));
      done = true;
      return 0;
    } catch (ExecutionException e) {
      progress.finish();
      Throwable c = e.getCause();
      if (c instanceof SyncFailedException f) {
        err.println("peer-node sync: " + action.wire() + " failed"
            + (f.status() != 0 ? " (status " + f.status() + (f.retrySeconds() > 0 ? ", retry in " + f.retrySeconds() + "s" : "") + ")" : "")
            + ": " + f.getMessage());
      } else {
        err.println("peer-node sync: " + action.wire() + " failed: " + c);
      }
      return 1;
    } catch (Exception e) {
      err.println("peer-node sync: " + e);
      return 1;
    } finally {
      // Not waited for: the sync is over (committed, or failed and cleaned up, before the result
      // came), and the process exits next; waiting for the actor system's shutdown was a tenth
      // of a second at the end of every run. Not even begun after a success when the process
      // exits next (runThenExit).
      if (!(done && exitNext)) {
        system.terminate();
      }
    }
  }

  /** What the CLI's actor system takes as its reference configuration (see {@link #cliLoader}). */
  static final java.util.List<String> CLI_REFERENCE = java.util.List.of(
      "peer-sync-cli/akka-actor/reference.conf", "peer-sync-cli/akka-actor-typed/reference.conf",
      "peer-sync-cli/akka-stream/reference.conf", "peer-blocking.conf", "peer-sync.conf");

  /**
   * A class loader that loads every class and resource as {@code parent} does, except that its
   * {@code reference.conf} is the CLI's own: the reference configurations of the modules its actor
   * system uses (akka-actor, akka-actor-typed, akka-stream, copied in at build time) and the
   * node's {@code peer.blocking-dispatcher} and {@code peer.sync}. The shaded jar's merged
   * {@code reference.conf} holds every Akka module (cluster, HTTP, persistence, ...), and Akka
   * parses and validates against all of it at start: a third of a second of the CLI's start.
   * {@code parent} itself when a piece is missing (not built into the jar).
   */
  static ClassLoader cliLoader(ClassLoader parent) {
    java.util.List<java.net.URL> refs = new java.util.ArrayList<>();
    for (String r : CLI_REFERENCE) {
      java.net.URL u = parent.getResource(r);
      if (u == null) {
        return parent;
      }
      refs.add(u);
    }
    return new ClassLoader(parent) {
      @Override
      public java.net.URL getResource(String name) {
        return name.equals("reference.conf") ? refs.get(0) : super.getResource(name);
      }

      @Override
      public java.util.Enumeration<java.net.URL> getResources(String name) throws java.io.IOException {
        return name.equals("reference.conf") ? java.util.Collections.enumeration(refs) : super.getResources(name);
      }
    };
  }

  /**
   * The CLI's actor system: local, quiet, no slf4j, and a {@link SyncCliSerializer} in place of
   * each configured serializer (the system never serializes; building the node's serializers was
   * a quarter of the CLI's start). Its one connection uses {@code client.transport = blocking}
   * (see {@code BlockingConnection}), unless a system property says otherwise. Everything else,
   * {@code peer.sync} included, is as loaded.
   */
  static Config cliConfig(Config loaded) {
    StringBuilder s = new StringBuilder()
        .append("akka.actor.provider = local\n")
        .append("akka.loglevel = ERROR\n")
        .append("akka.stdout-loglevel = OFF\n")
        .append("akka.use-slf4j = off\n")
        .append("akka.loggers = [\"akka.event.Logging$DefaultLogger\"]\n")
        .append("akka.logging-filter = \"akka.event.DefaultLoggingFilter\"\n")
        .append("akka.log-dead-letters = off\n")
        .append("akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n");
    for (String name : loaded.getConfig("akka.actor.serializers").root().keySet()) {
      s.append("akka.actor.serializers.").append(com.typesafe.config.ConfigUtil.quoteString(name))
          .append(" = \"").append(SyncCliSerializer.class.getName()).append("\"\n");
    }
    Config defaults = ConfigFactory.parseString("peer.sync.client.transport = blocking");
    return ConfigFactory.parseString(s.toString())
        .withFallback(ConfigFactory.systemProperties().withFallback(defaults))
        .withFallback(loaded);
  }

  /**
   * The tree cache the CLI uses: {@code --tree-cache DIR}, else {@code peer.sync.client.tree-cache.dir},
   * else the user's cache directory; none with {@code --no-tree-cache} or {@code enabled = off}.
   */
  static Config withTreeCache(Config peerSync, String dirArg, boolean off) {
    String key = "client.tree-cache.dir";
    if (off) {
      return peerSync.withValue("client.tree-cache.enabled", ConfigValueFactory.fromAnyRef(false));
    }
    String dir = dirArg != null ? dirArg : peerSync.getString(key);
    if (dir.isEmpty()) {
      String xdg = System.getenv("XDG_CACHE_HOME");
      Path base = xdg != null && Path.of(xdg).isAbsolute() ? Path.of(xdg)
          : Path.of(System.getProperty("user.home"), ".cache");
      dir = base.resolve("peer-node").resolve("sync-trees").toString();
    }
    return peerSync.withValue(key, ConfigValueFactory.fromAnyRef(dir));
  }

  static String summary(SyncResult r) {
    return String.format(Locale.ROOT,
        "%s %s: %d bytes, block size %d%nblocks compared: %d%nblocks transferred: %d%n"
            + "bytes on the wire: %d (sent %d, received %d)%nlocal tree: %s%ntime: %.3f s",
        r.action(), r.remotePath(), r.size(), r.blockSize(), r.blocksCompared(), r.blocksTransferred(),
        r.bytesOnWire(), r.bytesSent(), r.bytesReceived(), r.localTreeCached() ? "cached" : "hashed",
        r.elapsed().toNanos() / 1e9);
  }

  static long parseSize(String v) {
    String s = v.trim().toUpperCase(Locale.ROOT);
    long mult = 1;
    if (s.endsWith("IB")) {
      s = s.substring(0, s.length() - 2);
    } else if (s.endsWith("B")) {
      s = s.substring(0, s.length() - 1);
    }
    if (s.endsWith("K")) {
      mult = 1024;
      s = s.substring(0, s.length() - 1);
    } else if (s.endsWith("M")) {
      mult = 1024 * 1024;
      s = s.substring(0, s.length() - 1);
    }
    try {
      long n = Long.parseLong(s);
      return n <= 0 || n > (1L << 31) / mult ? -1 : n * mult;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A bar redrawn in place on a terminal; otherwise a line per phase and per 10% of transfer. */
  static final class Progress implements SyncProgress {
    private final PrintStream out;
    private final boolean tty;
    private Phase lastPhase;
    private long lastDecile = -1;
    private boolean drawn;

    Progress(PrintStream out, boolean tty) {
      this.out = out;
      this.tty = tty;
    }

    @Override
    public synchronized void onProgress(Phase phase, long done, long total, long bytesOnWire) {
      if (tty && phase == Phase.COMPARE) {
        out.printf(Locale.ROOT, "\r%-8s tree level %d, %d bytes on the wire%s", "compare", done, bytesOnWire,
            " ".repeat(30));
        out.flush();
        drawn = true;
        return;
      }
      if (tty) {
        int width = 30;
        int filled = total > 0 ? (int) (width * Math.min(done, total) / total) : (phase == Phase.COMPARE ? 0 : width);
        String bar = "#".repeat(filled) + "-".repeat(width - filled);
        out.printf(Locale.ROOT, "\r%-8s [%s] %d/%d blocks, %d bytes on the wire ",
            phase.name().toLowerCase(Locale.ROOT), bar, done, total, bytesOnWire);
        out.flush();
        drawn = true;
        return;
      }
      long decile = total > 0 ? done * 10 / total : 0;
      if (phase != lastPhase || (phase == Phase.TRANSFER && decile != lastDecile)) {
        out.printf(Locale.ROOT, "%s: %d/%d, %d bytes on the wire%n",
            phase.name().toLowerCase(Locale.ROOT), done, total, bytesOnWire);
        lastPhase = phase;
        lastDecile = decile;
      }
    }

    synchronized void finish() {
      if (tty && drawn) {
        out.println();
        drawn = false;
      }
    }
  }

  /** The size of the local copy, or -1 when there is none (then no block can be reused). */
  static long localSize(Path local) {
    try {
      return java.nio.file.Files.isRegularFile(local) ? java.nio.file.Files.size(local) : -1;
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}
