package io.peernode.actors.streams;

import io.peernode.protocol.NodeId;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where each stream's partitions live when every node has its own embedded store: on the
 * stream's home node (the node that created it), whose store holds their history. The node
 * implements it on its replicated metadata; with a shared database there are no homes (any node
 * may host any partition) and none is passed.
 */
public interface PartitionHomes {

  /** This node's id. */
  NodeId self();

  /** The home of a stream's partitions as far as this node knows now; empty when unknown. */
  Optional<NodeId> homeOf(String streamId);

  /**
   * The home, asking the cluster (a majority) when this node does not know it yet (a stream
   * just created elsewhere); empty when the cluster does not know the stream either.
   */
  CompletionStage<Optional<NodeId>> lookup(String streamId);

  /** The stream id of a partition's entity (and shard) id {@code streamId#partition}. */
  static String streamOf(String entityId) {
    int hash = entityId.lastIndexOf('#');
    return hash < 0 ? entityId : entityId.substring(0, hash);
  }
}
