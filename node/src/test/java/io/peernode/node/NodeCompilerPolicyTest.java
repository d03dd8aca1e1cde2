package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's JIT policy (peer.jit.c2-only); its effect in child JVMs (a directive is per process). */
class NodeCompilerPolicyTest {

  @TempDir
  Path dir;

  @Test
  void thePatternsBecomeOneDirectiveForC2AndOneKeepingTheRestFromIt() {
    assertEquals("[{match: [\"io/peernode/*.*\", \"java/lang/String.indexOf\", \"*.*\"], "
            + "c2: {Exclude: false}}, {match: [\"*.*\"], c2: {Exclude: true}}]",
        NodeCompilerPolicy.directives(List.of("io/peernode/*.*", "java/lang/String.indexOf", "*.*")));
  }

  @Test
  void noPatternsIsTheJvmsDefaultAndTheNodesDefault() {
    assertNull(NodeCompilerPolicy.directives(List.of()));
    assertNull(NodeCompilerPolicy.directives(ConfigFactory.load()), "opt-in: C2 for everything");
  }

  @Test
  void whatIsNotAMethodPatternIsABadValue() {
    for (String bad : List.of("io/peernode/*", "io.peernode.*.*", ".", "*.", "a\"b.*", "a/b.c d",
        "a/*b/c.*", "")) {
      ConfigException.BadValue e = assertThrows(ConfigException.BadValue.class,
          () -> NodeCompilerPolicy.directives(List.of(bad)), bad);
      assertTrue(e.getMessage().contains("peer.jit.c2-only"), e.getMessage());
    }
  }

  @Test
  void aBadPatternStopsTheStartAsABadConfiguration() throws Exception {
    Path conf = dir.resolve("bad.conf");
    Files.writeString(conf, "peer.jit.c2-only = [\"io/peernode/*\"]");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new String[] {"--data-dir", dir.resolve("data").toString(), "--config",
        conf.toString(), "--http-port", "0", "--cluster-port", "0", "--sync-port", "0"},
        new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
    String message = err.toString(StandardCharsets.UTF_8);
    assertEquals(2, code, message);
    assertTrue(message.contains("bad configuration") && message.contains("peer.jit.c2-only"), message);
  }

  @Test
  void aPolicyKeepsC2ForWhatItNamesAndTakesItFromTheRest() throws Exception {
    // A child that installs a policy naming our classes, then runs a hot loop of its own (io.peernode, in
    // the patterns) over a JDK collection (java.util, not in them).
    String out = CompilationLogs.run(HotChild.class, true);
    List<String> c2 = CompilationLogs.c2AfterApplied(out);
    for (String line : c2) {
      if (line.contains("java.util.ArrayDeque::")) {
        throw new AssertionError("C2 compiled " + line.trim() + "\n" + out);
      }
    }
    boolean oursAtC2 = c2.stream().anyMatch(l -> l.contains("HotChild::spin"));
    assertTrue(oursAtC2, "our hot loop keeps C2:\n" + out);
    assertTrue(out.lines().anyMatch(l -> l.contains("java.util.ArrayDeque::")
            && l.contains("excluded by CompileCommand")),
        "the JDK collection's methods were kept from C2:\n" + out);
  }

  /** The child of {@link #aPolicyKeepsC2ForWhatItNamesAndTakesItFromTheRest}. */
  public static final class HotChild {
    public static void main(String[] args) {
      String d = NodeCompilerPolicy.directives(List.of("io/peernode/*.*", "java/lang/*.*"));
      System.out.println("applied " + CompilerDirectives.add(d, "peer-node-jit-test"));
      ArrayDeque<Integer> q = new ArrayDeque<>();
      long x = 0;
      for (int i = 0; i < 300_000; i++) {
        x += spin(q, i);
      }
      System.out.println("done " + x);
    }

    static long spin(ArrayDeque<Integer> q, int n) {
      long s = 0;
      for (int i = 0; i < 20; i++) {
        q.addLast(i ^ n);
        s += q.pollFirst();
      }
      return s;
    }
  }
}
