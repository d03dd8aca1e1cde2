package io.peernode.actors.userapi;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;

/**
 * The user API's Prometheus metrics, registered on the node's own registry (never the default
 * one: several nodes share a JVM in tests).
 */
public final class UserApiMetrics {

  /** Items a full queue refused, by queue: subscription, inbox. */
  public final Counter refused;
  /** Events handed to subscriptions on this node. */
  public final Counter delivered;
  /** Events that reached this node again and were dropped by digest. */
  public final Counter duplicates;
  /** Events this node sent to other nodes' subscriptions, and the EventBatch messages that carried them. */
  public final Counter eventsSent;
  public final Counter batchesSent;
  /** Byte streams open on this node. */
  public final Gauge openStreams;

  private UserApiMetrics(CollectorRegistry registry) {
    refused = Counter.build("peer_userapi_refused_total", "Items refused because a user API queue was full.")
        .labelNames("queue").register(registry);
    delivered = Counter.build("peer_userapi_events_delivered_total", "Events queued for subscriptions on this node.")
        .register(registry);
    duplicates = Counter.build("peer_userapi_events_duplicate_total", "Events dropped because their digest was seen recently.")
        .register(registry);
    eventsSent = Counter.build("peer_userapi_events_sent_total", "Events sent to other nodes (once per node with a matching subscription).")
        .register(registry);
    batchesSent = Counter.build("peer_userapi_event_batches_sent_total", "Cluster messages (EventBatch) that carried the events sent to other nodes.")
        .register(registry);
    openStreams = Gauge.build("peer_userapi_open_streams", "Byte streams open on this node.").register(registry);
  }

  public static UserApiMetrics register(CollectorRegistry registry) {
    return new UserApiMetrics(registry);
  }
}
