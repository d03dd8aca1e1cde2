package io.peernode.node.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node as a separate OS process, started from the built jar ({@code node/target/peer-node.jar},
 * given to tests as the system property {@code peer.node.jar}). {@link #start} waits for the
 * node's READY line; {@link #terminate} sends SIGTERM, {@link #kill9} SIGKILL.
 */
public final class NodeProcess implements AutoCloseable {

  private static final Pattern READY =
      Pattern.compile("READY node=([0-9a-f]{40}) http=(\\d+) sync=(\\d+) cluster=(\\d+) streams=(\\d+)");

  public final Path dataDir;
  private final List<String> args;
  private final Path log;
  private Process process;
  private final List<String> stdout = new CopyOnWriteArrayList<>();
  private CompletableFuture<Matcher> ready;
  private long readyMillis;

  private NodeProcess(Path dataDir, List<String> args) {
    this.dataDir = dataDir;
    this.args = args;
    this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
  }

  public static Path jar() {
    String jar = System.getProperty("peer.node.jar", "target/peer-node.jar");
    Path path = Paths.get(jar);
    if (!Files.isRegularFile(path)) {
      throw new IllegalStateException("the node jar " + path.toAbsolutePath()
          + " is missing; run the tests with 'mvn verify' so it is built first");
    }
    return path;
  }

  /** A node on free ports with this data dir and extra options; waits until READY. */
  public static NodeProcess start(Path dataDir, String... extraArgs) {
    List<String> args = new ArrayList<>(List.of(
        "--data-dir", dataDir.toString(), "--cluster-port", "0", "--http-port", "0", "--sync-port", "0"));
    args.addAll(List.of(extraArgs));
    NodeProcess node = new NodeProcess(dataDir, args);
    node.launch();
    node.awaitReady(Duration.ofSeconds(60));
    return node;
  }

  /** Runs the jar with these arguments to completion (for commands that exit). */
  public static Result run(Duration within, String... args) throws IOException, InterruptedException {
    List<String> command = javaCommand();
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).start();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
    if (!p.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("'" + String.join(" ", args) + "' did not exit within " + within);
    }
    return new Result(p.exitValue(), out.join(), err.join());
  }

  /** What a finished command printed and how it exited. */
  public static final class Result {
    public final int exitCode;
    public final String stdout;
    public final String stderr;

    Result(int exitCode, String stdout, String stderr) {
      this.exitCode = exitCode;
      this.stdout = stdout;
      this.stderr = stderr;
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout: " + stdout + "\nstderr: " + stderr;
    }
  }

  private static List<String> javaCommand() {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-jar");
    command.add(jar().toString());
    return command;
  }

  private void launch() {
    List<String> command = javaCommand();
    // The test settings are on the test classpath, not in the jar: pass them as a file.
    command.add(command.size() - 2, "-Dconfig.file=" + TEST_CONFIG);
    command.addAll(args);
    stdout.clear();
    ready = new CompletableFuture<>();
    long started = System.nanoTime();
    try {
      process = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + command, e);
    }
    Process p = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          stdout.add(line);
          Matcher m = READY.matcher(line);
          if (m.matches()) {
            readyMillis = (System.nanoTime() - started) / 1_000_000;
            ready.complete(m);
          }
        }
      } catch (IOException e) {
        // the process is gone
      }
      ready.completeExceptionally(new IllegalStateException("node exited before READY; stdout " + stdout + "; log " + log));
    }, "node-stdout-" + dataDir.getFileName());
    reader.setDaemon(true);
    reader.start();
  }

  private static final String TEST_CONFIG = testConfigFile();

  private static String testConfigFile() {
    try {
      Path file = Files.createTempFile("peer-process-test", ".conf");
      try (var in = NodeProcess.class.getClassLoader().getResourceAsStream("peer-test.conf")) {
        Files.write(file, in.readAllBytes());
      }
      file.toFile().deleteOnExit();
      return file.toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void awaitReady(Duration within) {
    try {
      ready.get(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      process.destroyForcibly();
      throw new AssertionError("node did not print READY within " + within + "; see " + log);
    } catch (Exception e) {
      throw new AssertionError(e.getMessage() + "\n" + tail(), e);
    }
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  /** Starts the process again with the same data dir and options; waits until READY. */
  public void restart() {
    if (process.isAlive()) {
      throw new IllegalStateException("still running");
    }
    launch();
    awaitReady(Duration.ofSeconds(60));
  }

  public String nodeId() {
    return ready.join().group(1);
  }

  public int httpPort() {
    return Integer.parseInt(ready.join().group(2));
  }

  public int syncPort() {
    return Integer.parseInt(ready.join().group(3));
  }

  public int clusterPort() {
    return Integer.parseInt(ready.join().group(4));
  }

  public String seed() {
    return "127.0.0.1:" + clusterPort();
  }

  /** Milliseconds from launch to the READY line. */
  public long readyMillis() {
    return readyMillis;
  }

  public List<String> stdout() {
    return stdout;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** SIGTERM; waits for the exit and returns its code. */
  public int terminate(Duration within) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor();
      throw new AssertionError("node did not exit within " + within + " of SIGTERM");
    }
    return process.exitValue();
  }

  /** SIGKILL: the node gets no chance to leave the cluster or flush anything. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static String readAll(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
