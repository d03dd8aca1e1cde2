package io.peernode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.peernode.protocol.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeIdentityTest {

  @TempDir
  Path dir;

  @Test
  void theSameDataDirGivesTheSameId() {
    NodeIdentity first = NodeIdentity.loadOrCreate(dir);
    NodeIdentity again = NodeIdentity.loadOrCreate(dir);
    assertEquals(first.id(), again.id());
    assertEquals(NodeId.fromPublicKey(first.publicKey().getEncoded()), first.id());
  }

  @Test
  void aCorruptKeyFileStopsTheStartInsteadOfMakingANewIdentity() throws Exception {
    Files.writeString(dir.resolve(NodeIdentity.FILE), "private=AAAA\npublic=not base64!\n");
    NodeStartException e = assertThrows(NodeStartException.class, () -> NodeIdentity.loadOrCreate(dir));
    assertTrue(e.getMessage().contains("refusing to start"), e.getMessage());
    assertTrue(Files.readString(dir.resolve(NodeIdentity.FILE)).contains("not base64"), "the bad file is left for the operator");
  }

  @Test
  void keyHalvesFromTwoIdentitiesAreRejected(@TempDir Path other) throws Exception {
    NodeIdentity.loadOrCreate(dir);
    NodeIdentity.loadOrCreate(other);
    String mine = Files.readString(dir.resolve(NodeIdentity.FILE));
    String theirs = Files.readString(other.resolve(NodeIdentity.FILE));
    String mixed = mine.replaceAll("(?m)^public=.*$", theirs.lines().filter(l -> l.startsWith("public=")).findFirst().orElseThrow());
    Files.writeString(dir.resolve(NodeIdentity.FILE), mixed);
    NodeStartException e = assertThrows(NodeStartException.class, () -> NodeIdentity.loadOrCreate(dir));
    assertTrue(e.getMessage().contains("does not match"), e.getMessage());
  }

  @Test
  void theAdminKeyIsGeneratedOnceAndKept() {
    NodeSettings settings = NodeSettings.fromConfig(com.typesafe.config.ConfigFactory
        .parseMap(java.util.Map.of("peer.data-dir", dir.toString()))
        .withFallback(com.typesafe.config.ConfigFactory.load()));
    String key = AdminKey.resolve(settings);
    assertTrue(key.length() >= 40, key);
    assertEquals(key, AdminKey.resolve(settings));
  }
}
