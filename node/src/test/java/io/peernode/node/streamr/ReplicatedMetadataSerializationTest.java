package io.peernode.node.streamr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.ActorSystem;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.SelfUniqueAddress;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import akka.serialization.Serializers;
import akka.serialization.jackson.JacksonCborSerializer;
import com.typesafe.config.ConfigFactory;
import io.peernode.node.streamr.ReplicatedMetadata.KeyEntry;
import io.peernode.node.streamr.ReplicatedMetadata.PermissionEntry;
import io.peernode.node.streamr.ReplicatedMetadata.StreamEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The replicated metadata values survive Jackson CBOR, alone and inside their LWWMaps. */
class ReplicatedMetadataSerializationTest {

  static akka.actor.typed.ActorSystem<Void> system;
  static Serialization serialization;

  @BeforeAll
  static void start() {
    system = akka.actor.typed.ActorSystem.create(akka.actor.typed.javadsl.Behaviors.empty(),
        "ReplicatedMetadataSerializationTest", ConfigFactory.parseString(
            "akka.actor.provider = cluster\n"
                + "akka.remote.artery.canonical.hostname = 127.0.0.1\n"
                + "akka.remote.artery.canonical.port = 0\n")
            .withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(akka.actor.typed.javadsl.Adapter.toClassic(system));
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T message, boolean jackson) {
    Serializer serializer = serialization.findSerializerFor(message);
    if (jackson) {
      assertInstanceOf(JacksonCborSerializer.class, serializer,
          () -> message.getClass() + " must be bound to jackson-cbor");
    }
    byte[] bytes = serialization.serialize(message).get();
    String manifest = Serializers.manifestFor(serializer, message);
    return (T) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  static final StreamEntry STREAM = new StreamEntry("s1", "name", "d", "{\"a\":1}", 3, 60,
      "owner-key", 1000L, 2000L, "00112233445566778899aabbccddeeff00112233", 2001L, false);
  static final KeyEntry KEY = new KeyEntry("k1", "alice", false, "s1", 1000L, 1000L, false);
  static final PermissionEntry PERMISSION =
      new PermissionEntry(42L, "s1", "read", null, 5L, true);

  @Test
  void entries() {
    assertEquals(STREAM, roundTrip(STREAM, true));
    assertEquals(STREAM.tombstone(3000L), roundTrip(STREAM.tombstone(3000L), true));
    assertEquals(KEY, roundTrip(KEY, true));
    assertEquals(PERMISSION, roundTrip(PERMISSION, true));
  }

  @Test
  void entriesInsideTheirReplicatedMaps() {
    SelfUniqueAddress self = DistributedData.get(system).selfUniqueAddress();
    LWWMap<String, StreamEntry> streams = LWWMap.<String, StreamEntry>create()
        .put(self, STREAM.id, STREAM, (now, v) -> v.version);
    LWWMap<String, PermissionEntry> perms = LWWMap.<String, PermissionEntry>create()
        .put(self, "42", PERMISSION, (now, v) -> v.version);
    assertEquals(streams.getEntries(), roundTrip(streams, false).getEntries());
    assertEquals(perms.getEntries(), roundTrip(perms, false).getEntries());
  }
}
