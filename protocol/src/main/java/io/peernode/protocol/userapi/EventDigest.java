package io.peernode.protocol.userapi;

import com.fasterxml.jackson.databind.JsonNode;
import io.peernode.protocol.Hex;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The identity of a published event: SHA-256 over the UTF-8 bytes of its canonical JSON, as
 * lowercase hex. Receivers drop an event whose digest they saw recently, so an event that
 * reaches a node along several paths is delivered once.
 */
public final class EventDigest {

  /** One SHA-256 instance per thread: looking the algorithm up costs more than hashing 256 bytes. */
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  });

  private EventDigest() {}

  public static String of(JsonNode event) {
    return ofCanonical(CanonicalJson.of(event));
  }

  /** Digest of text that is already canonical JSON. */
  public static String ofCanonical(String canonicalJson) {
    return ofUtf8(canonicalJson.getBytes(StandardCharsets.UTF_8));
  }

  /** Digest of the UTF-8 bytes of canonical JSON text. */
  public static String ofUtf8(byte[] canonicalUtf8) {
    return Hex.encode(sha256(canonicalUtf8));
  }

  /** The 32 bytes of the digest (whose lowercase hex is the digest) of the UTF-8 bytes of canonical JSON text. */
  public static byte[] sha256(byte[] canonicalUtf8) {
    MessageDigest sha = SHA256.get();
    sha.reset();
    return sha.digest(canonicalUtf8);
  }
}
