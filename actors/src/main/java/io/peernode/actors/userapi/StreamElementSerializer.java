package io.peernode.actors.userapi;

import akka.actor.ExtendedActorSystem;
import akka.serialization.ByteBufferSerializer;
import akka.serialization.SerializerWithStringManifest;
import akka.stream.impl.streamref.StreamRefsProtocol;
import akka.stream.serialization.StreamRefSerializer;
import akka.util.ByteString;
import java.io.NotSerializableException;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;

/**
 * The elements of stream refs between nodes ({@code SequencedOnNext}), bound in reference.conf.
 *
 * <p>A {@link ByteString} element (a byte stream's chunk) is its sequence number (8 bytes, big
 * endian) and then its bytes, written straight into Artery's buffer and read from it with one
 * copy each way. Akka's own format wraps the element in protobuf with its serializer's output,
 * which costs four more copies and allocations of the chunk per element; for a byte stream that
 * was the largest per-byte cost after the socket itself.
 *
 * <p>Any other element (the events of a stored stream's resend) keeps Akka's format, manifest and
 * all: this serializer hands it to Akka's {@link StreamRefSerializer}.
 */
public final class StreamElementSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {

  /** This serializer's id on the wire (EventBatchSerializer has 7301); never reuse it for another format. */
  public static final int IDENTIFIER = 7302;

  /** A ByteString element. Akka's StreamRefSerializer uses upper case letters ("A" for elements). */
  static final String BYTES = "b";

  private final StreamRefSerializer akkaFormat;

  public StreamElementSerializer(ExtendedActorSystem system) {
    this.akkaFormat = new StreamRefSerializer(system);
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return bytesOf(o) != null ? BYTES : akkaFormat.manifest(o);
  }

  @Override
  public byte[] toBinary(Object o) {
    ByteString bytes = bytesOf(o);
    if (bytes == null) {
      return akkaFormat.toBinary(o);
    }
    ByteBuffer buf = ByteBuffer.allocate(Long.BYTES + bytes.size());
    write((StreamRefsProtocol.SequencedOnNext<?>) o, bytes, buf);
    return buf.array();
  }

  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    ByteString bytes = bytesOf(o);
    if (bytes == null) {
      buf.put(akkaFormat.toBinary(o));
      return;
    }
    if (buf.remaining() < Long.BYTES + bytes.size()) {
      // Artery logs and drops an oversized message; stream-chunk is checked against the frame
      // size at start-up so a byte stream's chunk always fits.
      throw new BufferOverflowException();
    }
    write((StreamRefsProtocol.SequencedOnNext<?>) o, bytes, buf);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!BYTES.equals(manifest)) {
      return akkaFormat.fromBinary(bytes, manifest);
    }
    if (bytes.length < Long.BYTES) {
      throw new NotSerializableException("stream element of " + bytes.length + " bytes has no sequence number");
    }
    long seqNr = ByteBuffer.wrap(bytes).getLong();
    // The array is this message's own: the ByteString may share it.
    return new StreamRefsProtocol.SequencedOnNext<>(seqNr, ByteString.fromArrayUnsafe(bytes, Long.BYTES, bytes.length - Long.BYTES));
  }

  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
    if (!BYTES.equals(manifest)) {
      byte[] bytes = new byte[buf.remaining()];
      buf.get(bytes);
      return akkaFormat.fromBinary(bytes, manifest);
    }
    if (buf.remaining() < Long.BYTES) {
      throw new NotSerializableException("stream element of " + buf.remaining() + " bytes has no sequence number");
    }
    long seqNr = buf.getLong();
    byte[] bytes = new byte[buf.remaining()]; // the buffer is Artery's and reused: copy out
    buf.get(bytes);
    return new StreamRefsProtocol.SequencedOnNext<>(seqNr, ByteString.fromArrayUnsafe(bytes));
  }

  /** The ByteString element of {@code o}, or null when it is some other message or element. */
  private static ByteString bytesOf(Object o) {
    if (o instanceof StreamRefsProtocol.SequencedOnNext<?> s && s.payload() instanceof ByteString b) {
      return b;
    }
    return null;
  }

  private static void write(StreamRefsProtocol.SequencedOnNext<?> o, ByteString bytes, ByteBuffer buf) {
    buf.putLong(o.seqNr());
    int copied = bytes.copyToBuffer(buf);
    if (copied != bytes.size()) {
      throw new BufferOverflowException();
    }
  }
}
