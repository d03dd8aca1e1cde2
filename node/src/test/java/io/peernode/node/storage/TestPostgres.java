package io.peernode.node.storage;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL server for tests: {@code initdb} into a temp dir, {@code pg_ctl start}
 * on a free port, {@link #close()} stops it and deletes the dir. PostgreSQL refuses to run as
 * root, so as root the server runs as the {@code postgres} user ({@code runuser -u postgres}).
 * {@link #start()} returns null with the reason in {@link #unavailableReason} when PostgreSQL
 * cannot start here; callers skip loudly.
 */
public final class TestPostgres implements AutoCloseable {

  private final Path dir;
  private final int port;
  private final boolean asPostgresUser;

  public static volatile String unavailableReason;

  private TestPostgres(Path dir, int port, boolean asPostgresUser) {
    this.dir = dir;
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  public static TestPostgres start() {
    Path dir = null;
    try {
      boolean root = "root".equals(System.getProperty("user.name"));
      dir = Files.createTempDirectory("test-pg");
      if (root) {
        run(List.of("chown", "postgres", dir.toString()), false, dir);
      }
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      run(List.of("initdb", "-D", dir.resolve("data").toString(), "-U", "postgres",
          "--auth=trust", "--no-sync"), root, dir);
      run(List.of("pg_ctl", "-D", dir.resolve("data").toString(), "-l",
          dir.resolve("log").toString(), "-w", "-t", "30", "-o",
          "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1", "start"), root, dir);
      return new TestPostgres(dir, port, root);
    } catch (IOException | InterruptedException | RuntimeException e) {
      unavailableReason = "PostgreSQL could not be started (initdb/pg_ctl on PATH? runuser?): " + e;
      if (dir != null) deleteQuietly(dir);
      return null;
    }
  }

  private static void run(List<String> cmd, boolean asPostgres, Path dir)
      throws IOException, InterruptedException {
    List<String> full = new ArrayList<>();
    if (asPostgres) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.add(binary(cmd.get(0)));
    full.addAll(cmd.subList(1, cmd.size()));
    File out = dir.resolve("cmd.out").toFile();
    Process p = new ProcessBuilder(full).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out)).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(String.join(" ", full) + " timed out");
    }
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", full) + " exited " + p.exitValue() + ": "
          + Files.readString(out.toPath()));
    }
  }

  /**
   * initdb and pg_ctl: on PATH when present there, else from Debian's
   * /usr/lib/postgresql/VERSION/bin (the package does not put them on PATH).
   */
  private static String binary(String name) {
    if (!name.equals("initdb") && !name.equals("pg_ctl")) {
      return name;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return name;
      }
    }
    File[] versions = new File("/usr/lib/postgresql").listFiles();
    if (versions != null) {
      java.util.Arrays.sort(versions, Comparator.reverseOrder());
      for (File version : versions) {
        File candidate = new File(version, "bin/" + name);
        if (candidate.canExecute()) {
          return candidate.getPath();
        }
      }
    }
    return name;
  }

  @Override
  public void close() {
    try {
      run(List.of("pg_ctl", "-D", dir.resolve("data").toString(), "-m", "immediate", "-w",
          "stop"), asPostgresUser, dir);
    } catch (IOException | InterruptedException e) {
      System.err.println("stopping test PostgreSQL failed: " + e);
    }
    deleteQuietly(dir);
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
