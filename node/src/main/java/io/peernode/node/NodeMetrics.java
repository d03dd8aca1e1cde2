package io.peernode.node;

import akka.actor.typed.ActorSystem;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.hotspot.GarbageCollectorExports;
import io.prometheus.client.hotspot.MemoryPoolsExports;
import io.prometheus.client.hotspot.StandardExports;
import io.prometheus.client.hotspot.ThreadExports;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The node's Prometheus registry: JVM and cluster figures, and whatever counters the
 * protocols register. One registry per node, never the process-wide default, because an
 * application (or a test) may run several nodes in one JVM.
 */
final class NodeMetrics {

  private NodeMetrics() {}

  static CollectorRegistry create(ActorSystem<?> system, String nodeId) {
    CollectorRegistry registry = new CollectorRegistry(true);
    new StandardExports().register(registry);
    new MemoryPoolsExports().register(registry);
    new GarbageCollectorExports().register(registry);
    new ThreadExports().register(registry);
    new ClusterCollector(system, nodeId).register(registry);
    return registry;
  }

  /** Cluster membership as gauges, read from the current gossip state at scrape time. */
  private static final class ClusterCollector extends Collector {
    private final ActorSystem<?> system;
    private final String nodeId;

    ClusterCollector(ActorSystem<?> system, String nodeId) {
      this.system = system;
      this.nodeId = nodeId;
    }

    @Override
    public List<MetricFamilySamples> collect() {
      var state = Cluster.get(system).state();
      GaugeMetricFamily members = new GaugeMetricFamily(
          "peer_cluster_members", "Cluster members by status, as this node sees them", Collections.singletonList("status"));
      for (String status : Arrays.asList("Joining", "WeaklyUp", "Up", "Leaving", "Exiting", "Down", "Removed")) {
        long count = 0;
        for (Member m : state.getMembers()) {
          if (statusName(m.status()).equals(status)) {
            count++;
          }
        }
        members.addMetric(Collections.singletonList(status), count);
      }
      GaugeMetricFamily unreachable = new GaugeMetricFamily(
          "peer_cluster_unreachable_members", "Members this node's failure detector marks unreachable", state.getUnreachable().size());
      GaugeMetricFamily info = new GaugeMetricFamily(
          "peer_node_info", "This node's identity", Collections.singletonList("node"));
      info.addMetric(Collections.singletonList(nodeId), 1);
      List<MetricFamilySamples> out = new ArrayList<>();
      out.add(members);
      out.add(unreachable);
      out.add(info);
      return out;
    }
  }

  static String statusName(MemberStatus status) {
    String s = status.toString();
    return s.startsWith("akka.cluster.MemberStatus$") ? s.substring("akka.cluster.MemberStatus$".length()) : s;
  }
}
