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

  private EventDigest() {}

  public static String of(JsonNode event) {
    return ofCanonical(CanonicalJson.of(event));
  }

  /** Digest of text that is already canonical JSON. */
  public static String ofCanonical(String canonicalJson) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return Hex.encode(sha.digest(canonicalJson.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }
}
