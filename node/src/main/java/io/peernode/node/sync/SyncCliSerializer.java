package io.peernode.node.sync;

import akka.actor.ExtendedActorSystem;

/**
 * The stand-in for every serializer of the sync CLI's actor system. That system is local and
 * never serializes a message, but Akka instantiates all configured serializers when it starts,
 * and the node's (Jackson with its Scala module, cluster, distributed data, protobuf) cost the
 * CLI about 0.5 s and 0.7 CPU-s before its first frame. Each configured name gets one of these,
 * with an identifier of its own (Akka refuses two serializers with one identifier).
 */
public final class SyncCliSerializer extends akka.serialization.JSerializer {

  private final int identifier;

  public SyncCliSerializer(ExtendedActorSystem system, String bindingName) {
    // Akka reserves identifiers 0-40 for itself; these stay clear of them and of each other.
    this.identifier = 0x40000000 | (bindingName.hashCode() & 0x3fffffff);
  }

  @Override
  public int identifier() {
    return identifier;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    throw new UnsupportedOperationException("the sync CLI does not serialize messages");
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    throw new UnsupportedOperationException("the sync CLI does not serialize messages");
  }
}
