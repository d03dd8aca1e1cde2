package io.peernode.actors.sync;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;

/**
 * The sync server's Prometheus metrics, registered on the registry the node passes in (never the
 * default one: several nodes share a JVM in tests). One instance per server binding.
 */
final class SyncMetrics {

  final Counter sessions;
  final Gauge activeSessions;
  final Counter denials;
  final Counter errors;
  final Counter framesRejected;
  final Counter bytesIn;
  final Counter bytesOut;
  final Counter pushesCommitted;
  final Counter treesHashed;

  SyncMetrics(CollectorRegistry registry) {
    sessions = Counter.build("peer_sync_sessions_total", "Sync sessions accepted.").register(registry);
    activeSessions = Gauge.build("peer_sync_active_sessions", "Sync sessions open now.").register(registry);
    denials = Counter.build("peer_sync_denials_total", "Sync sessions refused with deny, by status.")
        .labelNames("status").register(registry);
    errors = Counter.build("peer_sync_errors_total", "err responses sent.").register(registry);
    framesRejected = Counter.build("peer_sync_frames_rejected_total",
        "Malformed frames (bad header, over a limit, bad JSON, unknown command); the connection was closed.")
        .register(registry);
    bytesIn = Counter.build("peer_sync_bytes_in_total", "Bytes received by the sync server.").register(registry);
    bytesOut = Counter.build("peer_sync_bytes_out_total", "Bytes sent by the sync server.").register(registry);
    pushesCommitted = Counter.build("peer_sync_pushes_committed_total", "Pushes committed (renamed into place).")
        .register(registry);
    treesHashed = Counter.build("peer_sync_trees_hashed_total", "Hash trees computed (cache misses).")
        .register(registry);
  }
}
