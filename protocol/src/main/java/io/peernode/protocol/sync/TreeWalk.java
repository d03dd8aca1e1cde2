package io.peernode.protocol.sync;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The client's top-down comparison of its tree with the peer's (spec: "A pull, step by step").
 * It starts from the roots; while differing nodes are inner nodes it asks for the children of all
 * of them at once (a whole level per round), and ends with the leaves that differ.
 *
 * <p>{@code local} must already have the peer's leaf count (see {@link HashTree#project}). Pure
 * state machine: the caller moves the hashes, in as many {@code req} batches as it likes.
 */
public final class TreeWalk {

  private final HashTree local;
  private int[] frontier;
  private final List<Integer> nextFrontier = new ArrayList<>();
  private int[] pending;
  private int received;
  private int hashesFetched;

  public TreeWalk(HashTree local, byte[] remoteRoot) {
    this.local = local;
    this.frontier = local.nodeEquals(0, remoteRoot, 0) ? new int[0] : new int[] {0};
  }

  /** True when the differing nodes are leaves (or nothing differs): {@link #differingLeaves()}. */
  public boolean done() {
    return pending == null && (frontier.length == 0 || local.isLeaf(frontier[0]));
  }

  /** The children of every differing node of the current level, to fetch with {@code req hash}. */
  public int[] nextLevel() {
    if (done()) {
      return new int[0];
    }
    if (pending == null) {
      pending = new int[frontier.length * 2];
      for (int i = 0; i < frontier.length; i++) {
        pending[2 * i] = 2 * frontier[i] + 1;
        pending[2 * i + 1] = 2 * frontier[i] + 2;
      }
      received = 0;
    }
    return pending.clone();
  }

  /**
   * Records peer hashes for {@code nodes} (a slice of {@link #nextLevel()}, in order, 32 bytes
   * each); when the whole level is in, the walk moves down.
   */
  public void onHashes(int[] nodes, byte[] hashes) {
    if (pending == null || hashes.length != nodes.length * HashTree.HASH_BYTES) {
      throw new IllegalArgumentException("unexpected hashes");
    }
    for (int i = 0; i < nodes.length; i++) {
      if (nodes[i] != pending[received + i]) {
        throw new IllegalArgumentException("hash for node " + nodes[i] + " was not asked for");
      }
      if (!local.nodeEquals(nodes[i], hashes, i * HashTree.HASH_BYTES)) {
        nextFrontier.add(nodes[i]);
      }
    }
    received += nodes.length;
    hashesFetched += nodes.length;
    if (received == pending.length) {
      frontier = nextFrontier.stream().mapToInt(Integer::intValue).toArray();
      nextFrontier.clear();
      pending = null;
    }
  }

  /** Block indices whose leaves differ, ascending; valid once {@link #done()}. */
  public int[] differingLeaves() {
    if (!done()) {
      throw new IllegalStateException("the walk has not reached the leaves");
    }
    int base = local.leafCount() - 1;
    return Arrays.stream(frontier).map(k -> k - base).toArray();
  }

  public int hashesFetched() {
    return hashesFetched;
  }
}
