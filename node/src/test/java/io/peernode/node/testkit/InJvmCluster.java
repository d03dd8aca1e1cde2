package io.peernode.node.testkit;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.PeerNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * N clustered nodes, each its own ActorSystem, in this JVM, on free ports. {@link #start}
 * returns once every node sees all N members Up. Tests talk to the nodes through their
 * public interfaces (HTTP, JSON-RPC, the embedding API).
 */
public final class InJvmCluster implements AutoCloseable {

  private final Path baseDir;
  private final List<PeerNode> nodes = new ArrayList<>();
  private final Function<Integer, Config> extraConfig;

  private InJvmCluster(Path baseDir, Function<Integer, Config> extraConfig) {
    this.baseDir = baseDir;
    this.extraConfig = extraConfig;
  }

  public static InJvmCluster start(int size) {
    return start(size, i -> ConfigFactory.empty());
  }

  /** @param extraConfig per-node settings (by index) over the harness's own */
  public static InJvmCluster start(int size, Function<Integer, Config> extraConfig) {
    InJvmCluster cluster;
    try {
      cluster = new InJvmCluster(Files.createTempDirectory("peer-cluster"), extraConfig);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try {
      for (int i = 0; i < size; i++) {
        cluster.addNode();
      }
      cluster.awaitMembersUp(size, Duration.ofSeconds(30));
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Starts one more node that joins through the first; returns it when it is Up. */
  public PeerNode addNode() {
    PeerNode node = startNode(nodes.size(), nodes.isEmpty() ? null : nodes.get(0));
    nodes.add(node);
    return node;
  }

  /** Stops node {@code index} (gracefully: it leaves the cluster) and waits until it is gone. */
  public void stopNode(int index) {
    PeerNode node = nodes.get(index);
    node.stop();
    try {
      node.system().getWhenTerminated().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node " + index + " did not stop within 60 s", e);
    }
  }

  /**
   * Starts node {@code index} again (after {@link #stopNode}) with the same data dir, so the same
   * node id, admin key and stores; it joins through a running node. Returns the new node.
   */
  public PeerNode restartNode(int index) {
    PeerNode seed = null;
    for (PeerNode n : nodes) {
      if (!n.system().whenTerminated().isCompleted()) {
        seed = n;
        break;
      }
    }
    PeerNode node = startNode(index, seed);
    nodes.set(index, node);
    return node;
  }

  private PeerNode startNode(int index, PeerNode seed) {
    Map<String, Object> settings = new java.util.HashMap<>();
    settings.put("peer.data-dir", baseDir.resolve("node-" + index).toString());
    settings.put("peer.cluster-port", 0);
    settings.put("peer.http-port", 0);
    settings.put("peer.sync-port", 0);
    if (seed != null) {
      settings.put("peer.seeds", List.of(seed.host() + ":" + seed.clusterPort()));
    }
    Config config = extraConfig.apply(index)
        .withFallback(ConfigFactory.parseMap(settings))
        .withFallback(ConfigFactory.parseResources("peer-test.conf"));
    return PeerNode.start(config);
  }

  public void awaitMembersUp(int count, Duration within) {
    Eventually.await(within, () -> {
      for (PeerNode node : nodes) {
        if (node.system().whenTerminated().isCompleted()) {
          continue; // stopped
        }
        if (!node.isReady()) {
          continue;
        }
        long up = 0;
        for (akka.cluster.Member m : Cluster.get(node.system()).state().getMembers()) {
          if (m.status() == MemberStatus.up()) {
            up++;
          }
        }
        if (up != count) {
          throw new AssertionError(node.nodeId() + " sees " + up + " members up, expected " + count);
        }
      }
    });
  }

  public PeerNode node(int index) {
    return nodes.get(index);
  }

  public List<PeerNode> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  public int size() {
    return nodes.size();
  }

  @Override
  public void close() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      PeerNode node = nodes.get(i);
      if (!node.system().whenTerminated().isCompleted()) {
        node.stop();
      }
    }
  }
}
