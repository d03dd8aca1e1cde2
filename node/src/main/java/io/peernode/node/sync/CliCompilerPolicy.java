package io.peernode.node.sync;

/**
 * The sync CLI's JIT policy ({@code peer.sync.client.cli-c2 = sha-only}): C2, HotSpot's
 * optimising compiler, compiles only the SHA-256 provider's methods; everything else stays with C1.
 * A CLI sync is a short process: C2 spent 0.5-0.9 CPU-s of a 2-3 CPU-s delta pull compiling
 * Akka's start, the configuration and the JDK's collections, code that runs too briefly for the
 * compilation to pay back, on the two cores the pull shares with the server's hashing. SHA-256
 * keeps C2, because only C2 has its intrinsic (SHA-NI): C1's SHA-256 runs at ~120 MB/s against
 * ~1.2 GB/s on the test machine, and a full pull hashes every byte.
 *
 * <p>HotSpot takes the rule as a compiler directive, installed at run time by {@link
 * io.peernode.node.CompilerDirectives}; where it cannot be (another JVM, not started with
 * {@code -jar}), nothing changes: every compiler is used as by default.
 */
final class CliCompilerPolicy {

  /** C2 for the SHA-256 provider (and the rest of sun.security.provider), C1 for the rest. */
  static final String DIRECTIVES = "[{match: [\"sun/security/provider/*.*\"], c2: {Exclude: false}},"
      + " {match: [\"*.*\"], c2: {Exclude: true}}]";

  private CliCompilerPolicy() {}

  private static final String NAME = "peer-sync-cli-jit";

  /** Installs {@link #DIRECTIVES} beside the CLI's start; returns at once. */
  static void applyInBackground() {
    io.peernode.node.CompilerDirectives.addInBackground(DIRECTIVES, NAME);
  }

  /** Installs {@link #DIRECTIVES}; true when the JVM took them. */
  static boolean apply() {
    return io.peernode.node.CompilerDirectives.add(DIRECTIVES, NAME);
  }
}
