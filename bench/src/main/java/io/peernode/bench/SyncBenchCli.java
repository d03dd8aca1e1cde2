package io.peernode.bench;

import io.peernode.node.sync.SyncCli;

/**
 * The project's sync CLI ({@link SyncCli#run}) behind a main of its own, for when the node jar
 * does not dispatch {@code peer-node sync ...} yet. Same arguments, output and exit codes.
 *
 * <p>Usage: {@code java -cp bench/target/peer-bench.jar io.peernode.bench.SyncBenchCli sync pull HOST:PORT REMOTE LOCAL [--block-size N]}
 */
public final class SyncBenchCli {

  private SyncBenchCli() {}

  public static void main(String[] args) {
    System.exit(SyncCli.run(args, System.out, System.err));
  }
}
