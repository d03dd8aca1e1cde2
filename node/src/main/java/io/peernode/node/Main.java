package io.peernode.node;

import com.typesafe.config.ConfigException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * {@code java -jar peer-node.jar}: runs a node until SIGTERM/SIGINT, or runs a client
 * subcommand. Exit codes: 0 clean stop, 1 the node could not start or was removed from its
 * cluster, 2 a bad command line or configuration.
 */
public final class Main {

  private Main() {}

  /** The property the JDK reads once, when the common pool is first used. */
  private static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // On one or two cores the common pool's parallelism is 0 or 1, and CompletableFuture's
    // *Async steps then start a new thread per task; continuations of Akka's asks (Scala's
    // CompletableFuture wrapper runs even thenApply asynchronously) are such steps, one per
    // request. Two workers at least keep them on pooled threads. An explicit setting wins.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
    // Initialise logging before the actor system's threads log concurrently. The sync CLI's start
    // is what a sync waits for: its logging is set up in code, on first use, without XML.
    if (args.length > 0 && args[0].equals("sync")) {
      io.peernode.node.sync.CliLogConfigurator.forCli();
    } else {
      if (System.getProperty("logback.configurationFile") == null) {
        System.setProperty("logback.configurationFile", "peer-logback.xml");
      }
      org.slf4j.LoggerFactory.getILoggerFactory();
    }
    if (args.length > 0 && args[0].equals("sync")) {
      System.exit(io.peernode.node.sync.SyncCli.runThenExit(Arrays.copyOfRange(args, 1, args.length),
          System.out, System.err));
    }
    System.exit(run(args, System.out, System.err, true));
  }

  static int run(String[] args, PrintStream out, PrintStream err) {
    return run(args, out, err, false);
  }

  /** @param ownJvm the JVM is the node's own (its JIT policy may be installed) */
  static int run(String[] args, PrintStream out, PrintStream err, boolean ownJvm) {
    if (args.length > 0 && !args[0].startsWith("-")) {
      String[] rest = Arrays.copyOfRange(args, 1, args.length);
      switch (args[0]) {
        case "call":
          return io.peernode.node.cli.CallCommand.run(rest, out, err);
        case "sync":
          return io.peernode.node.sync.SyncCli.run(rest, out, err);
        default:
          err.println("peer-node: unknown command '" + args[0] + "' (see --help)");
          return 2;
      }
    }
    NodeOptions options;
    try {
      options = NodeOptions.parse(args);
    } catch (NodeOptions.UsageException e) {
      err.println("peer-node: " + e.getMessage());
      return 2;
    }
    if (options.help) {
      out.println(NodeOptions.USAGE);
      return 0;
    }
    PeerNode node;
    try {
      com.typesafe.config.Config config = options.toConfig();
      String jit = NodeCompilerPolicy.directives(config); // a bad pattern is a bad configuration
      if (ownJvm && jit != null) {
        NodeCompilerPolicy.applyInBackground(jit); // as early as it can: C2 works from the start
      }
      node = PeerNode.start(config);
    } catch (ConfigException e) {
      err.println("peer-node: bad configuration: " + e.getMessage());
      return 2;
    } catch (NodeStartException e) {
      err.println("peer-node: " + e.getMessage());
      return e.getMessage().startsWith("bad value") || e.getMessage().startsWith("bad configuration") ? 2 : 1;
    }
    return serve(node, out, err);
  }

  /** Prints the admin key and READY, then waits for a signal or for the node to be removed. */
  private static int serve(PeerNode node, PrintStream out, PrintStream err) {
    AtomicBoolean stopRequested = new AtomicBoolean();
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable stop = () -> {
      if (stopRequested.compareAndSet(false, true)) {
        node.stop();
      }
      stopped.countDown();
    };
    // Handling the signals ourselves (rather than only through shutdown hooks) lets a
    // requested stop leave the cluster gracefully and still exit 0.
    for (String signal : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(signal), s -> new Thread(stop, "peer-node-stop").start());
    }
    node.system().getWhenTerminated().thenRun(stopped::countDown);

    out.println("ADMIN_KEY " + node.adminKey());
    out.println(node.readyLine());
    out.flush();
    try {
      stopped.await();
      if (stopRequested.get()) {
        node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return 0;
      }
    } catch (Exception e) {
      Thread.currentThread().interrupt();
    }
    err.println("peer-node: the node was removed from its cluster and stopped");
    return 1;
  }
}
