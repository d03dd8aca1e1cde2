package io.peernode.node.sync;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The sync CLI's JIT policy ({@code peer.sync.client.cli-c2 = sha-only}): C2, HotSpot's
 * optimising compiler, compiles only the SHA-256 provider's methods; everything else stays with C1.
 * A CLI sync is a short process: C2 spent 0.5-0.9 CPU-s of a 2-3 CPU-s delta pull compiling
 * Akka's start, the configuration and the JDK's collections, code that runs too briefly for the
 * compilation to pay back, on the two cores the pull shares with the server's hashing. SHA-256
 * keeps C2, because only C2 has its intrinsic (SHA-NI): C1's SHA-256 runs at ~120 MB/s against
 * ~1.2 GB/s on the test machine, and a full pull hashes every byte.
 *
 * <p>HotSpot takes the rule as a compiler directive, which the JVM's own diagnostic command
 * ({@code Compiler.directives_add}, as {@code jcmd} sends it) installs at run time; the JDK's
 * management API reaches it only through the platform MBean server (~700 classes, 0.13 s here),
 * so the command's internal entry point is called directly (the jar's manifest opens
 * {@code jdk.management/com.sun.management.internal} for it). Where that is not there (another
 * JVM, not started with {@code -jar}), nothing changes: every compiler is used as by default.
 */
final class CliCompilerPolicy {

  /** C2 for the SHA-256 provider (and the rest of sun.security.provider), C1 for the rest. */
  static final String DIRECTIVES = "[{match: [\"sun/security/provider/*.*\"], c2: {Exclude: false}},"
      + " {match: [\"*.*\"], c2: {Exclude: true}}]";

  private CliCompilerPolicy() {}

  /**
   * Installs {@link #DIRECTIVES} on a thread of its own (its ~40 ms, mostly loading the
   * management library, beside the CLI's start); returns at once.
   */
  static void applyInBackground() {
    Thread t = new Thread(CliCompilerPolicy::apply, "sync-cli-jit");
    t.setDaemon(true);
    t.start();
  }

  /** Installs {@link #DIRECTIVES}; true when the JVM took them. */
  static boolean apply() {
    Path f = null;
    try {
      f = Path.of(System.getProperty("java.io.tmpdir"),
          "peer-sync-cli-jit-" + ProcessHandle.current().pid() + ".json");
      Files.writeString(f, DIRECTIVES, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
      // Loads the management library (libmanagement_ext) that the command's native method is in.
      Class.forName("com.sun.management.internal.PlatformMBeanProviderImpl");
      Class<?> dc = Class.forName("com.sun.management.internal.DiagnosticCommandImpl");
      Method get = dc.getDeclaredMethod("getDiagnosticCommandMBean");
      get.setAccessible(true);
      Object impl = get.invoke(null);
      Method exec = dc.getDeclaredMethod("executeDiagnosticCommand", String.class);
      exec.setAccessible(true);
      Object out = exec.invoke(impl, "Compiler.directives_add " + f);
      return String.valueOf(out).contains("added");
    } catch (ReflectiveOperationException | RuntimeException | IOException | LinkageError e) {
      return false; // the default compilers, as without this policy
    } finally {
      if (f != null) {
        try {
          Files.deleteIfExists(f);
        } catch (IOException ignored) {
          // a few bytes in the temp dir
        }
      }
    }
  }
}
