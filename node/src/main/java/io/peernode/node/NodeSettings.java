package io.peernode.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The node's own settings, read once from {@code peer.*} and validated; a bad value is a
 * {@link NodeStartException} that names the setting.
 */
public final class NodeSettings {

  /** A host and port, as given to {@code --seed}. */
  public static final class HostPort {
    public final String host;
    public final int port;

    HostPort(String host, int port) {
      this.host = host;
      this.port = port;
    }

    /** Parses {@code HOST:PORT} (IPv6 hosts in brackets). */
    public static HostPort parse(String text) {
      int colon = text.lastIndexOf(':');
      if (colon <= 0 || colon == text.length() - 1) {
        throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
      }
      String host = text.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      return new HostPort(host, parsePort(text.substring(colon + 1), false));
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  public final Path dataDir;
  public final String host;
  public final int clusterPort;
  public final List<HostPort> seeds;
  public final String httpHost;
  public final int httpPort;
  public final int syncPort;
  public final Path syncRoot;
  public final Optional<String> adminKey;
  public final Optional<String> dbUrl;
  public final Duration joinTimeout;
  public final long maxRpcBodyBytes;

  private NodeSettings(Config peer) {
    this.dataDir = Paths.get(nonEmpty(peer, "data-dir")).toAbsolutePath().normalize();
    this.host = nonEmpty(peer, "host");
    this.clusterPort = port(peer, "cluster-port");
    List<HostPort> seedList = new ArrayList<>();
    for (String seed : peer.getStringList("seeds")) {
      try {
        seedList.add(HostPort.parse(seed));
      } catch (IllegalArgumentException e) {
        throw bad("seeds", e.getMessage());
      }
    }
    this.seeds = Collections.unmodifiableList(seedList);
    this.httpHost = nonEmpty(peer, "http-host");
    this.httpPort = port(peer, "http-port");
    this.syncPort = port(peer, "sync-port");
    String root = peer.getString("sync-root");
    this.syncRoot = root.isEmpty() ? dataDir.resolve("sync") : Paths.get(root).toAbsolutePath().normalize();
    this.adminKey = optional(peer.getString("admin-key"));
    this.dbUrl = optional(peer.getString("db-url"));
    this.joinTimeout = peer.getDuration("join-timeout");
    this.maxRpcBodyBytes = peer.getBytes("http.max-rpc-body");
  }

  /** Reads {@code peer.*} of a resolved configuration. */
  public static NodeSettings fromConfig(Config config) {
    try {
      return new NodeSettings(config.getConfig("peer"));
    } catch (ConfigException e) {
      throw new NodeStartException("bad configuration: " + e.getMessage(), e);
    }
  }

  private static String nonEmpty(Config peer, String key) {
    String value = peer.getString(key).trim();
    if (value.isEmpty()) {
      throw bad(key, "must not be empty");
    }
    return value;
  }

  private static int port(Config peer, String key) {
    try {
      return parsePort(peer.getString(key), true);
    } catch (IllegalArgumentException e) {
      throw bad(key, e.getMessage());
    }
  }

  static int parsePort(String text, boolean allowZero) {
    int port;
    try {
      port = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected a port number, got '" + text + "'");
    }
    if (port < (allowZero ? 0 : 1) || port > 65535) {
      throw new IllegalArgumentException("port must be between " + (allowZero ? 0 : 1) + " and 65535, got " + port);
    }
    return port;
  }

  private static Optional<String> optional(String value) {
    return value == null || value.trim().isEmpty() ? Optional.empty() : Optional.of(value.trim());
  }

  private static NodeStartException bad(String key, String why) {
    return new NodeStartException("bad value for peer." + key + ": " + why);
  }
}
