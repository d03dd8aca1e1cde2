package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeOptionsTest {

  private static String usageError(String... args) {
    return assertThrows(NodeOptions.UsageException.class, () -> NodeOptions.parse(args)).getMessage();
  }

  @Test
  void everyOptionSetsItsPeerSetting() {
    Config c = NodeOptions.parse(new String[] {
        "--data-dir", "/tmp/d", "--host", "10.0.0.1", "--cluster-port", "0", "--seed", "a:1", "--seed=b:2",
        "--http-port", "1", "--http-host", "0.0.0.0", "--sync-port", "2", "--sync-root", "/s",
        "--admin-key", "k", "--db-url", "jdbc:postgresql://h/db"}).overrides;
    NodeSettings s = NodeSettings.fromConfig(c.withFallback(ConfigFactory.load()));
    assertEquals("/tmp/d", s.dataDir.toString());
    assertEquals("10.0.0.1", s.host);
    assertEquals(0, s.clusterPort);
    assertEquals(List.of("a:1", "b:2"), s.seeds.stream().map(Object::toString).collect(java.util.stream.Collectors.toList()));
    assertEquals(1, s.httpPort);
    assertEquals("0.0.0.0", s.httpHost);
    assertEquals(2, s.syncPort);
    assertEquals("/s", s.syncRoot.toString());
    assertEquals("k", s.adminKey.orElseThrow());
    assertEquals("jdbc:postgresql://h/db", s.dbUrl.orElseThrow());
  }

  @Test
  void defaultsFollowTheSpec() {
    NodeSettings s = NodeSettings.fromConfig(ConfigFactory.load());
    assertEquals(25520, s.clusterPort);
    assertEquals(8890, s.httpPort);
    assertEquals(8891, s.syncPort);
    assertEquals("127.0.0.1", s.host);
    assertEquals("127.0.0.1", s.httpHost);
    assertEquals(s.dataDir.resolve("sync"), s.syncRoot);
    assertTrue(s.seeds.isEmpty());
  }

  @Test
  void badOptionsNameTheOption() {
    assertTrue(usageError("--nope").contains("'--nope'"));
    assertTrue(usageError("--http-port").contains("--http-port needs a value"));
    assertTrue(usageError("--http-port", "http").contains("--http-port"));
    assertTrue(usageError("--cluster-port", "70000").contains("--cluster-port"));
    assertTrue(usageError("--seed", "nohost").contains("--seed"));
    assertTrue(usageError("--seed", "h:0").contains("--seed"));
    assertTrue(usageError("--config", "/no/such/file.conf").contains("--config"));
    assertTrue(usageError("--data-dir", " ").contains("--data-dir"));
  }

  @Test
  void badConfigValuesNameTheSetting() {
    Config bad = ConfigFactory.parseString("peer.http-port = 99999").withFallback(ConfigFactory.load());
    NodeStartException e = assertThrows(NodeStartException.class, () -> NodeSettings.fromConfig(bad));
    assertTrue(e.getMessage().contains("peer.http-port"), e.getMessage());
    Config badSeed = ConfigFactory.parseString("peer.seeds = [\"x\"]").withFallback(ConfigFactory.load());
    assertTrue(assertThrows(NodeStartException.class, () -> NodeSettings.fromConfig(badSeed)).getMessage().contains("peer.seeds"));
  }

  @Test
  void helpIsAnOption() {
    assertTrue(NodeOptions.parse(new String[] {"--help"}).help);
    assertTrue(NodeOptions.USAGE.contains("--db-url"));
  }
}
