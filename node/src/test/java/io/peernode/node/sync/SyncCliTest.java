package io.peernode.node.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import com.typesafe.config.ConfigFactory;
import io.peernode.actors.sync.SyncServer;
import io.peernode.actors.sync.SyncSettings;
import io.prometheus.client.CollectorRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyncCliTest {

  static ActorTestKit kit;
  static SyncServer.Binding server;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kit = ActorTestKit.create("sync-cli", ConfigFactory.parseString(
        "akka.actor.provider = local\nakka.coordinated-shutdown.run-by-jvm-shutdown-hook = off")
        .withFallback(ConfigFactory.load()));
    Path root = Files.createDirectories(tmp.resolve("root"));
    Files.write(root.resolve("a.bin"), new byte[5000]);
    SyncSettings s = SyncSettings.fromConfig(ConfigFactory.parseString("port = 0\nhost = \"127.0.0.1\"")
        .withFallback(kit.system().settings().config().getConfig("peer.sync")), root);
    server = SyncServer.bind(kit.system(), s, new CollectorRegistry()).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    server.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    kit.shutdownTestKit();
  }

  record Run(int code, String out, String err) {}

  static Run run(boolean tty, String... args) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code = SyncCli.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
        new PrintStream(e, true, StandardCharsets.UTF_8), tty);
    return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anUnknownJitPolicyIsAUsageError() {
    System.setProperty("peer.sync.client.cli-c2", "none");
    ConfigFactory.invalidateCaches();
    try {
      Run r = run(false, "pull", "127.0.0.1:" + server.port(), "a.bin", tmp.resolve("jit.bin").toString());
      assertEquals(2, r.code(), r.err());
      assertTrue(r.err().contains("peer.sync.client.cli-c2 must be sha-only or all, not 'none'"), r.err());
      assertTrue(Files.notExists(tmp.resolve("jit.bin")));
    } finally {
      System.clearProperty("peer.sync.client.cli-c2");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void aSystemPropertyChoosesTheCliTransport() {
    System.setProperty("peer.sync.client.transport", "akka");
    ConfigFactory.invalidateCaches();
    try {
      assertEquals("akka", SyncCli.cliConfig(ConfigFactory.load()).getString("peer.sync.client.transport"));
    } finally {
      System.clearProperty("peer.sync.client.transport");
      ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void theCliActorSystemIsLocalAndBuildsNoneOfTheNodesSerializers() throws Exception {
    com.typesafe.config.Config loaded = ConfigFactory.load();
    com.typesafe.config.Config cli = SyncCli.cliConfig(loaded);
    var names = loaded.getConfig("akka.actor.serializers").root().keySet();
    assertTrue(names.contains("jackson-cbor"), "the node's serializers are configured: " + names);
    for (String name : names) {
      assertEquals(SyncCliSerializer.class.getName(),
          cli.getString("akka.actor.serializers." + com.typesafe.config.ConfigUtil.quoteString(name)), name);
    }
    assertEquals("local", cli.getString("akka.actor.provider"));
    assertEquals(loaded.getConfig("peer.sync").withoutPath("client.transport"),
        cli.getConfig("peer.sync").withoutPath("client.transport"));
    assertEquals("akka", loaded.getString("peer.sync.client.transport"), "the node's clients use Akka TCP");
    assertEquals("blocking", cli.getString("peer.sync.client.transport"), "the CLI's one connection does not");
    var system = akka.actor.typed.ActorSystem.create(akka.actor.typed.javadsl.Behaviors.empty(), "cli-config", cli);
    try {
      var serialization = akka.serialization.SerializationExtension.get(system);
      var ser = serialization.serializerFor(String.class); // bound to primitive-string
      assertEquals(SyncCliSerializer.class, ser.getClass());
      org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
          () -> ser.toBinary("x"));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theCliActorSystemReadsOnlyItsOwnReferenceConfiguration() throws Exception {
    ClassLoader app = SyncCli.class.getClassLoader();
    ClassLoader loader = SyncCli.cliLoader(app);
    org.junit.jupiter.api.Assertions.assertNotSame(app, loader, "its pieces are built into the classes");
    com.typesafe.config.Config ref = ConfigFactory.defaultReference(loader);
    assertTrue(ref.hasPath("akka.actor.default-dispatcher"));
    assertTrue(ref.hasPath("akka.stream.materializer"));
    assertTrue(ref.hasPath("akka.actor.typed"));
    assertTrue(ref.hasPath("peer.blocking-dispatcher"));
    assertTrue(ref.hasPath("peer.sync.client.tree-cache"));
    org.junit.jupiter.api.Assertions.assertFalse(ref.hasPath("akka.cluster"));
    org.junit.jupiter.api.Assertions.assertFalse(ref.hasPath("akka.http"));
    org.junit.jupiter.api.Assertions.assertFalse(ref.hasPath("peer.userapi"));
    var system = akka.actor.typed.ActorSystem.create(akka.actor.typed.javadsl.Behaviors.empty(), "cli-loader",
        akka.actor.BootstrapSetup.create(SyncCli.cliConfig(ConfigFactory.load(loader))).withClassloader(loader));
    try {
      org.junit.jupiter.api.Assertions.assertFalse(system.settings().config().hasPath("akka.cluster"));
      assertEquals("local", system.settings().config().getString("akka.actor.provider"));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theTreeCacheMakesASecondPullOfAnUnchangedFileSkipItsHash() throws Exception {
    Path local = tmp.resolve("cached-local.bin");
    String cache = tmp.resolve("tree-cache").toString();
    String port = "127.0.0.1:" + server.port();
    Run first = run(false, "pull", port, "a.bin", local.toString(), "--block-size", "1K", "--tree-cache", cache);
    assertEquals(0, first.code(), first.err());
    assertTrue(first.out().contains("local tree: hashed"), first.out());
    Run second = run(false, "pull", port, "a.bin", local.toString(), "--block-size", "1K", "--tree-cache=" + cache);
    assertEquals(0, second.code(), second.err());
    assertTrue(second.out().contains("local tree: cached"), second.out());
    Run off = run(false, "pull", port, "a.bin", local.toString(), "--block-size", "1K", "--no-tree-cache");
    assertEquals(0, off.code(), off.err());
    assertTrue(off.out().contains("local tree: hashed"), off.out());
    assertEquals(2, run(false, "pull", port, "a.bin", local.toString(), "--tree-cache").code());
  }

  @Test
  void usageErrorsExit2() {
    assertEquals(2, run(false).code());
    assertEquals(2, run(false, "pull", "host", "a", "b").code());
    assertEquals(2, run(false, "fetch", "h:1", "a", "b").code());
    assertEquals(2, run(false, "pull", "h:1", "a", "b", "--block-size", "1000").code());
    assertEquals(2, run(false, "pull", "h:1", "a", "b", "--frobnicate").code());
    assertEquals(0, run(false, "--help").code());
  }

  @Test
  void pullThenPushWithSummary() throws Exception {
    Path local = tmp.resolve("a-local.bin");
    Run r = run(false, "sync", "pull", "127.0.0.1:" + server.port(), "a.bin", local.toString(), "--block-size", "1K");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("blocks compared: 5"), r.out());
    assertTrue(r.out().contains("blocks transferred: 5"), r.out());
    assertTrue(r.out().contains("bytes on the wire: "), r.out());
    assertTrue(r.out().contains("transfer: "), r.out());
    assertArrayEquals(new byte[5000], Files.readAllBytes(local));

    Files.write(local, new byte[6000]);
    Run p = run(true, "push", "127.0.0.1:" + server.port(), "a.bin", local.toString(), "--block-size=1024");
    assertEquals(0, p.code(), p.err());
    assertTrue(p.out().contains("\r"), "a bar on a terminal");
    // 5000 -> 6000 zero bytes: the old short last block and the new one.
    assertTrue(p.out().contains("blocks transferred: 2"), p.out());
    assertEquals(6000, Files.size(server.root().resolve("a.bin")));
  }

  @Test
  void refusedExits1WithStatusAndMessage() {
    Run r = run(false, "pull", "127.0.0.1:" + server.port(), "../etc/passwd", tmp.resolve("x").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("status 400"), r.err());
    Run m = run(false, "pull", "127.0.0.1:" + server.port(), "missing.bin", tmp.resolve("y").toString());
    assertEquals(1, m.code());
    assertTrue(m.err().contains("status 404"), m.err());
  }

  @Test
  void unreachableServerExits1() throws Exception {
    int port;
    try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
      port = ss.getLocalPort();
    }
    Run r = run(false, "pull", "127.0.0.1:" + port, "a.bin", tmp.resolve("z").toString());
    assertEquals(1, r.code());
    assertTrue(r.err().contains("cannot connect"), r.err());
  }
}
