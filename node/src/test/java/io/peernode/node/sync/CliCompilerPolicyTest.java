package io.peernode.node.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The sync CLI's JIT policy, in child JVMs (a compiler directive is for the whole process). */
class CliCompilerPolicyTest {

  /** Installs the policy and reports whether the JVM took it. */
  public static void main(String[] args) throws Exception {
    boolean applied = CliCompilerPolicy.apply();
    System.out.println("applied " + applied);
  }

  private static String child(boolean opens) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+PrintCompilation"));
    if (opens) {
      cmd.add("--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED"); // as the jar's manifest
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CliCompilerPolicyTest.class.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void withTheManifestsOpensTheJvmTakesTheDirectives() throws Exception {
    String out = child(true);
    assertTrue(out.contains("applied true"), out);
  }

  @Test
  void withoutThemNothingChangesAndNothingFails() throws Exception {
    String out = child(false);
    assertTrue(out.contains("applied false"), out);
  }

  @Test
  void afterItC2CompilesOnlyTheSha256Provider() throws Exception {
    // A child that installs the policy, then hashes 64 MiB and runs a hot loop of its own.
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+PrintCompilation", "--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), HotChild.class.getName());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    boolean after = false;
    boolean shaAtC2 = false;
    for (String line : out.split("\n")) {
      if (line.startsWith("applied true")) {
        after = true;
      } else if (after && line.matches("\\s*\\d+\\s+\\d+\\s+[%sbn!]*\\s+4\\s+.*") && line.contains("HotChild")) {
        throw new AssertionError("C2 compiled " + line.trim() + "\n" + out);
      } else if (after && line.matches("\\s*\\d+\\s+\\d+\\s+[%sbn!]*\\s+4\\s+sun\\.security\\.provider\\..*")) {
        shaAtC2 = true;
      }
    }
    assertTrue(after, out);
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
