package io.peernode.actors;

/**
 * Marker for every message that may cross the cluster. It is bound to Akka's Jackson CBOR
 * serializer in this module's {@code reference.conf}; Java serialization is switched off.
 * Implementations are immutable final classes with a {@code @JsonCreator} constructor.
 */
public interface JsonSerializable {}
