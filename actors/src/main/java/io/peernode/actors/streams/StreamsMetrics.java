package io.peernode.actors.streams;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;

/**
 * Metrics of the data API, registered on the registry the node gives (never the default one:
 * several nodes run in one JVM in tests). Create one per node.
 */
public final class StreamsMetrics {

  public final Counter eventsStored;
  public final Counter publishesRejected;
  public final Counter protocolErrors;
  public final Counter slowConsumerDisconnects;
  public final Counter resends;
  public final Gauge connections;
  public final Gauge subscriptions;
  public final Gauge partitionsActive;

  public StreamsMetrics(CollectorRegistry registry) {
    eventsStored = Counter.build("streamr_events_stored_total",
        "Events durably stored and broadcast by partitions of this node.").register(registry);
    publishesRejected = Counter.build("streamr_publishes_rejected_total",
        "Publishes refused by a partition (busy, store unavailable).").register(registry);
    protocolErrors = Counter.build("streamr_protocol_errors_total",
        "Type 7 errors sent to WebSocket clients.").register(registry);
    slowConsumerDisconnects = Counter.build("streamr_slow_consumer_disconnects_total",
        "WebSocket connections closed because their outgoing buffer was full.")
        .register(registry);
    resends = Counter.build("streamr_resends_total", "Resend requests started.")
        .register(registry);
    connections = Gauge.build("streamr_connections", "Open WebSocket connections.")
        .register(registry);
    subscriptions = Gauge.build("streamr_subscriptions", "Client subscriptions to partitions.")
        .register(registry);
    partitionsActive = Gauge.build("streamr_partitions_active",
        "Stream partitions this node hosts right now (sharded entities).").register(registry);
  }
}
