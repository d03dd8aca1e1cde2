package io.peernode.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The node's JIT policy ({@code peer.jit.c2-only}, opt-in): C2, HotSpot's optimising compiler,
 * compiles only the methods the setting's patterns match; everything else is compiled by C1
 * alone. Empty (the default): C2 compiles everything.
 *
 * <p>Why it exists: a freshly started node spends most of its first minute's extra CPU in C2. In
 * bench/streams-ws's first measured round (200k events after a warm-up of 20k) C2 took 2.2-2.9
 * of the node's 6-8 CPU-s, compiling ~200 methods of the per-message path for the first time:
 * Akka's dispatcher and mailboxes, the fork-join pool, the stream interpreter, sharding, the
 * typed actor adapters, the JDK's collections. The compile log showed no recompile loop or
 * deoptimisation storm, only the path's breadth. With C2 kept for our classes and the byte loops
 * (strings, buffers, sockets, SHA-256, SQLite's driver, ByteString) that round's C2 fell to
 * 1.1-2.0 CPU-s, but the warm node then used ~0.4 CPU-s more per 200k events on its dispatcher
 * (C1's code for Akka's generic machinery): a trade for a short-lived node, not for a server
 * that runs for days, so it is not the default.
 *
 * <p>Applied only in the node's own process ({@code java -jar peer-node.jar}, see {@link Main}):
 * a directive is for the whole JVM, which an embedding application owns.
 */
public final class NodeCompilerPolicy {

  /** A HotSpot method pattern: class and method, each with a * at its start or end at most. */
  private static final Pattern METHOD_PATTERN =
      Pattern.compile("(\\*|\\*?[A-Za-z0-9_$/]+\\*?)\\.(\\*|\\*?[A-Za-z0-9_$<>]+\\*?)");

  private NodeCompilerPolicy() {}

  /**
   * The directives for {@code patterns} (C2 for what they match, C1 alone for the rest), or
   * null when there are none (C2 for everything, the JVM's default).
   *
   * @throws ConfigException.BadValue for a pattern HotSpot would not take
   */
  static String directives(List<String> patterns) {
    if (patterns.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder("[{match: [");
    for (int i = 0; i < patterns.size(); i++) {
      String p = patterns.get(i);
      if (!METHOD_PATTERN.matcher(p).matches()) {
        throw new ConfigException.BadValue("peer.jit.c2-only", "'" + p + "' is not a method "
            + "pattern such as \"io/peernode/*.*\" (package/Class.method, * at an end)");
      }
      b.append(i == 0 ? "" : ", ").append('"').append(p).append('"');
    }
    return b.append("], c2: {Exclude: false}}, {match: [\"*.*\"], c2: {Exclude: true}}]").toString();
  }

  /** The directives of {@code config}'s {@code peer.jit.c2-only}, or null (see above). */
  static String directives(Config config) {
    return directives(config.getStringList("peer.jit.c2-only"));
  }

  /** Installs {@code directives} beside the node's start; returns at once. */
  static void applyInBackground(String directives) {
    CompilerDirectives.addInBackground(directives, "peer-node-jit");
  }
}
