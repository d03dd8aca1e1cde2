package io.peernode.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The command-line options of {@code java -jar peer-node.jar}. Each maps onto one
 * {@code peer.*} setting and overrides it; {@code --config FILE} names a configuration file
 * (like the top-level {@code application.conf}) that sits between the options and the defaults.
 */
final class NodeOptions {

  /** A bad command line: the message names the option; exit code 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  static final String USAGE = String.join("\n",
      "usage: java -jar peer-node.jar [options]            run a node",
      "       java -jar peer-node.jar call [--url URL] METHOD [ARG...]   call the JSON-RPC user API",
      "       java -jar peer-node.jar sync pull|push HOST:PORT REMOTE_PATH LOCAL_PATH [--block-size N]",
      "",
      "options (each also settable in the configuration under peer.*):",
      "  --data-dir DIR        keys, the embedded database, the sync root         (./data)",
      "  --host HOST           address the node binds and advertises for the cluster (127.0.0.1)",
      "  --cluster-port N      Akka Artery port; 0 picks a free one               (25520)",
      "  --seed HOST:PORT      a cluster seed node, repeatable; none: form a cluster of its own",
      "  --http-port N         WebSocket, REST, JSON-RPC, /health, /metrics      (8890)",
      "  --http-host HOST      where the HTTP server binds                       (127.0.0.1)",
      "  --sync-port N         block sync protocol (TCP)                         (8891)",
      "  --sync-root DIR       files served and accepted by sync                 (<data-dir>/sync)",
      "  --admin-key KEY       the key with every permission (default: generated once into the data dir)",
      "  --db-url URL          JDBC URL of the history store                     (embedded, in the data dir)",
      "  --config FILE         a HOCON configuration file (see application.conf)",
      "  --help                this text");

  private static final Map<String, String> SETTINGS = Map.of(
      "--data-dir", "data-dir",
      "--host", "host",
      "--cluster-port", "cluster-port",
      "--http-port", "http-port",
      "--http-host", "http-host",
      "--sync-port", "sync-port",
      "--sync-root", "sync-root",
      "--admin-key", "admin-key",
      "--db-url", "db-url");

  private static final List<String> PORTS = List.of("--cluster-port", "--http-port", "--sync-port");

  final Config overrides;
  final Optional<Path> configFile;
  final boolean help;

  private NodeOptions(Config overrides, Optional<Path> configFile, boolean help) {
    this.overrides = overrides;
    this.configFile = configFile;
    this.help = help;
  }

  static NodeOptions parse(String[] args) {
    Map<String, Object> values = new HashMap<>();
    List<String> seeds = new ArrayList<>();
    Path configFile = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (name.equals("--help") || name.equals("-h")) {
        return new NodeOptions(ConfigFactory.empty(), Optional.empty(), true);
      }
      if (!SETTINGS.containsKey(name) && !name.equals("--seed") && !name.equals("--config")) {
        throw new UsageException("unknown option '" + arg + "' (see --help)");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new UsageException("option " + name + " needs a value");
        }
        value = args[++i];
      }
      if (PORTS.contains(name)) {
        try {
          NodeSettings.parsePort(value, true);
        } catch (IllegalArgumentException e) {
          throw new UsageException("option " + name + ": " + e.getMessage());
        }
      }
      if (name.equals("--seed")) {
        try {
          NodeSettings.HostPort.parse(value);
        } catch (IllegalArgumentException e) {
          throw new UsageException("option --seed: " + e.getMessage());
        }
        seeds.add(value);
      } else if (name.equals("--config")) {
        configFile = Paths.get(value);
        if (!Files.isRegularFile(configFile)) {
          throw new UsageException("option --config: no such file '" + value + "'");
        }
      } else {
        if (value.trim().isEmpty() && !name.equals("--admin-key") && !name.equals("--db-url")) {
          throw new UsageException("option " + name + " needs a non-empty value");
        }
        values.put("peer." + SETTINGS.get(name), value);
      }
    }
    if (!seeds.isEmpty()) {
      values.put("peer.seeds", seeds);
    }
    return new NodeOptions(ConfigFactory.parseMap(values), Optional.ofNullable(configFile), false);
  }

  /** Options over the config file over {@code ConfigFactory.load()} (system properties, reference.conf). */
  Config toConfig() {
    Config base = ConfigFactory.load();
    if (configFile.isPresent()) {
      base = ConfigFactory.parseFile(configFile.get().toFile()).withFallback(base);
    }
    return overrides.withFallback(base);
  }
}
