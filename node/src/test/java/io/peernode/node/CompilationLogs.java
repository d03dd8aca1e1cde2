package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Child JVMs that print their compilations, for the tests of the compiler directives (a
 * directive is for the whole process, so each test installs it in a JVM of its own).
 */
public final class CompilationLogs {

  private CompilationLogs() {}

  /**
   * Runs {@code main} in a child JVM with {@code -XX:+PrintCompilation} and, when {@code opens},
   * the jar manifest's {@code Add-Opens}; its output, once it exited with 0.
   */
  public static String run(Class<?> main, boolean opens) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+PrintCompilation"));
    if (opens) {
      cmd.add("--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED");
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  /** The C2 (tier 4) compilations the log shows after the child printed "applied true". */
  public static List<String> c2AfterApplied(String out) {
    List<String> lines = out.lines().collect(Collectors.toList());
    int applied = lines.indexOf("applied true");
    assertTrue(applied >= 0, "the child installed its directive:\n" + out);
    return lines.subList(applied + 1, lines.size()).stream()
        .filter(l -> l.matches("\\s*\\d+\\s+\\d+\\s+[%sbn!]*\\s+4\\s+.*"))
        .collect(Collectors.toList());
  }
}
