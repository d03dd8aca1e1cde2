package io.peernode.actors.cluster;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.Leave;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.peernode.protocol.Hex;
import io.peernode.protocol.NodeId;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Several clustered ActorSystems in one JVM, for multi-node tests: each node is an
 * {@link ActorTestKit} with the role {@code node-<id>}, on 127.0.0.1 with a free port, all
 * joined to the first and Up before {@link #start} returns.
 */
public final class TestCluster {

  /** One node of the test cluster. */
  public static final class Node {
    public final NodeId id;
    public final ActorTestKit testKit;

    Node(NodeId id, ActorTestKit testKit) {
      this.id = id;
      this.testKit = testKit;
    }

    public ActorSystem<Void> system() {
      return testKit.system();
    }

    public Address address() {
      return Cluster.get(system()).selfMember().address();
    }

    public String host() {
      return address().host().get();
    }

    public int port() {
      return (Integer) address().port().get();
    }
  }

  private final List<Node> nodes = new ArrayList<>();
  private final Config extra;

  private TestCluster(Config extra) {
    this.extra = extra;
  }

  /** Starts {@code n} nodes and waits (up to 30 s) until all are Up. */
  public static TestCluster start(int n, Config extra) {
    TestCluster cluster = new TestCluster(extra);
    for (int i = 0; i < n; i++) {
      cluster.addNode();
    }
    return cluster;
  }

  public static TestCluster start(int n) {
    return start(n, ConfigFactory.empty());
  }

  /** Starts one more node, joins it to the first and waits until every node sees it Up. */
  public Node addNode() {
    NodeId id = randomId();
    Config config = extra
        .withFallback(ConfigFactory.parseString(
            "akka.actor.provider = cluster\n"
                + "akka.remote.artery.canonical.hostname = \"127.0.0.1\"\n"
                + "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [\"" + NodeRoles.roleOf(id) + "\"]\n"
                + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                + "akka.coordinated-shutdown.terminate-actor-system = on\n"
                + "akka.cluster.downing-provider-class = \"akka.cluster.sbr.SplitBrainResolverProvider\"\n"
                + "akka.cluster.split-brain-resolver.stable-after = 3s\n"
                + "akka.loglevel = INFO\n"
                + "akka.loggers = [\"akka.event.slf4j.Slf4jLogger\"]\n"
                + "akka.logging-filter = \"akka.event.slf4j.Slf4jLoggingFilter\"\n"))
        .withFallback(ConfigFactory.load());
    ActorTestKit kit = ActorTestKit.create("peer", config);
    Node node = new Node(id, kit);
    Address seed = nodes.isEmpty() ? node.address() : nodes.get(0).address();
    Cluster.get(kit.system()).manager().tell(Join.create(seed));
    nodes.add(node);
    awaitAllUp(Duration.ofSeconds(30));
    return node;
  }

  public Node node(int i) {
    return nodes.get(i);
  }

  public List<Node> nodes() {
    return List.copyOf(nodes);
  }

  /** Leaves the cluster gracefully, terminates the node's system, and waits until the others removed it. */
  public void leave(Node node) {
    Cluster.get(node.system()).manager().tell(Leave.create(node.address()));
    nodes.remove(node);
    awaitCondition(Duration.ofSeconds(30), () -> nodes.stream().allMatch(other -> {
      for (Member m : Cluster.get(other.system()).state().getMembers()) {
        if (m.address().equals(node.address())) {
          return false;
        }
      }
      return true;
    }), "node " + node.id + " was removed");
    stop(node);
  }

  public void shutdown() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      stop(nodes.get(i));
    }
    nodes.clear();
  }

  /** Stops a node's system; a slow stop on a loaded machine is logged by Akka, not a test failure. */
  private static void stop(Node node) {
    ActorTestKit.shutdown(node.system(), Duration.ofSeconds(30), false);
  }

  private void awaitAllUp(Duration max) {
    awaitCondition(max, () -> nodes.stream().allMatch(n -> {
      int up = 0;
      for (Member m : Cluster.get(n.system()).state().getMembers()) {
        if (m.status() == MemberStatus.up()) {
          up++;
        }
      }
      return up == nodes.size();
    }), nodes.size() + " nodes Up");
  }

  /** Polls {@code condition} until it holds, failing after {@code max}. */
  public static void awaitCondition(Duration max, BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + max + " waiting for: " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what);
      }
    }
  }

  public static NodeId randomId() {
    byte[] bytes = new byte[20];
    new SecureRandom().nextBytes(bytes);
    return NodeId.parse(Hex.encode(bytes));
  }
}
