package io.peernode.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The node's JIT policy ({@code peer.jit.c2-only}): C2, HotSpot's optimising compiler, compiles
 * only the methods the setting's patterns match; everything else is compiled by C1 alone.
 *
 * <p>Why: a freshly started node spends most of its first minute's extra CPU in C2. In
 * bench/streams-ws's first measured round (200k events after a warm-up of 20k) C2 took 2.8-3.7
 * of the node's 7.6-9 CPU-s, compiling ~200 methods of the per-message path for the first time:
 * Akka's dispatcher, mailboxes and fork-join pool, the stream interpreter, sharding, the typed
 * actor adapters, the JDK's collections. The compile log showed no recompile loop or
 * deoptimisation storm, only the path's breadth. C2's code for that generic machinery (virtual
 * calls, small methods) ran barely faster than C1's: with C1 alone the node's warm round used
 * 4.7 CPU-s against 5.0 with every compiler. The byte loops (the publish scanner, frame rendering
 * and unmasking, UTF-8, the SHA-256 provider, socket buffers) are where C2 pays, and our own
 * classes, whose compiled frames inline the Akka calls they make. Those keep C2.
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

  /**
   * Installs {@code directives} on a thread of its own (~40 ms, mostly loading the management
   * library, beside the node's start); returns at once.
   */
  static void applyInBackground(String directives) {
    Thread t = new Thread(() -> CompilerDirectives.add(directives, "peer-node-jit"), "peer-node-jit");
    t.setDaemon(true);
    t.start();
  }
}
