package io.peernode.node.sync;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.node.CompilationLogs;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sync CLI's JIT policy, in child JVMs (a compiler directive is for the whole process). */
class CliCompilerPolicyTest {

  /** Installs the policy and reports whether the JVM took it. */
  public static void main(String[] args) throws Exception {
    boolean applied = CliCompilerPolicy.apply();
    System.out.println("applied " + applied);
  }

  @Test
  void withTheManifestsOpensTheJvmTakesTheDirectives() throws Exception {
    String out = CompilationLogs.run(CliCompilerPolicyTest.class, true);
    assertTrue(out.contains("applied true"), out);
  }

  @Test
  void withoutThemNothingChangesAndNothingFails() throws Exception {
    String out = CompilationLogs.run(CliCompilerPolicyTest.class, false);
    assertTrue(out.contains("applied false"), out);
  }

  @Test
  void afterItC2CompilesOnlyTheSha256Provider() throws Exception {
    // A child that installs the policy, then hashes 64 MiB and runs a hot loop of its own.
    String out = CompilationLogs.run(HotChild.class, true);
    List<String> c2 = CompilationLogs.c2AfterApplied(out);
    for (String line : c2) {
      if (line.contains("HotChild")) {
        throw new AssertionError("C2 compiled " + line.trim() + "\n" + out);
      }
    }
    boolean shaAtC2 = c2.stream().anyMatch(l -> l.contains(" sun.security.provider."));
    assertTrue(shaAtC2, "SHA-256 keeps C2 (its intrinsic):\n" + out);
    assertTrue(out.contains("HotChild::spin") && out.contains("excluded by CompileCommand"),
        "the hot loop was kept from C2:\n" + out);
  }

  /** The child of {@link #afterItC2CompilesOnlyTheSha256Provider}. */
  public static final class HotChild {
    public static void main(String[] args) throws Exception {
      System.out.println("applied " + CliCompilerPolicy.apply());
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] b = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        md.update(b);
      }
      long x = 0;
      for (int i = 0; i < 200_000; i++) {
        x += spin(i);
      }
      System.out.println("done " + x + " " + md.digest().length);
    }

    static long spin(int n) {
      long s = 0;
      for (int i = 0; i < 100; i++) {
        s += (long) i * n ^ (s >>> 3);
      }
      return s;
    }
  }
}
