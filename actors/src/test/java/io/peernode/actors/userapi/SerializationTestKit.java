package io.peernode.actors.userapi;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The set-up of the serialization tests: one local {@link ActorTestKit} per test class, with the
 * node's serialization configuration, and its {@link Serialization} extension.
 */
abstract class SerializationTestKit {

  static ActorTestKit testKit;
  static Serialization serialization;

  @BeforeAll
  static void startSerializationKit() {
    testKit = Nodes.localTestKit();
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stopSerializationKit() {
    testKit.shutdownTestKit();
  }
}
