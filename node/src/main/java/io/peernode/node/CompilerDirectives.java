package io.peernode.node;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Installs HotSpot compiler directives into this JVM at run time, as {@code jcmd PID
 * Compiler.directives_add FILE} would: a {@code java -jar} process cannot carry JVM options of
 * its own, and the JIT policies of the node ({@link NodeCompilerPolicy}) and of the sync CLI are
 * directives. The JDK's management API reaches the command only through the platform MBean
 * server (~700 classes, 0.13 s here), so the command's internal entry point is called directly
 * (the jar's manifest opens {@code jdk.management/com.sun.management.internal} for it). Where
 * that is not there (another JVM, not started with {@code -jar}), nothing changes.
 */
public final class CompilerDirectives {

  private CompilerDirectives() {}

  /**
   * {@link #add} on a daemon thread named {@code name} (~40 ms, mostly loading the management
   * library, beside the process's start); returns at once.
   */
  public static void addInBackground(String directives, String name) {
    Thread t = new Thread(() -> add(directives, name), name);
    t.setDaemon(true);
    t.start();
  }

  /**
   * Adds {@code directives} (HotSpot's directive JSON) on top of the JVM's directive stack; true
   * when the JVM took them. {@code name} names the temporary file the command reads.
   */
  public static boolean add(String directives, String name) {
    Path f = null;
    try {
      f = Path.of(System.getProperty("java.io.tmpdir"),
          name + "-" + ProcessHandle.current().pid() + ".json");
      Files.writeString(f, directives, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
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
      return false; // the default compilers, as without the directives
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
